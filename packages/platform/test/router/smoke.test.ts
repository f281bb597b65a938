import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MOCK_TEXT } from '../upstreams/mock-upstream.js';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
  await h.addKey('openai');
  await h.addKey('anthropic');
  await h.addKey('gemini');
});
afterAll(() => h?.close());

describe('smoke: every route answers through the official SDKs', () => {
  it('chat completions via the OpenAI SDK reach each provider and bring its text back intact', async () => {
    for (const provider of ['openai', 'anthropic', 'gemini']) {
      const model = provider === 'openai' ? 'openai:gpt-4o-mini' : provider === 'anthropic' ? 'anthropic:claude-sonnet-4-5' : 'gemini:gemini-2.0-flash';
      const out = await h.openai().chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
      expect(out.choices[0]!.message.content).toBe(DEFAULT_MOCK_TEXT);
      expect(out.model).toMatch(new RegExp(`^${provider}:`));
      const stream = await h.openai().chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
      let text = '';
      let usage;
      for await (const c of stream) {
        text += c.choices[0]?.delta.content ?? '';
        if (c.usage) usage = c.usage;
      }
      expect(text).toBe(DEFAULT_MOCK_TEXT);
      expect(usage?.total_tokens).toBeGreaterThan(0);
    }
  });
  it('messages via the Anthropic SDK reach each provider, streamed and not', async () => {
    for (const model of ['anthropic:claude-sonnet-4-5', 'openai:gpt-4o-mini', 'gemini:gemini-2.0-flash']) {
      const msg = await h.anthropic().messages.create({ model, max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
      expect(msg.content).toEqual([{ type: 'text', text: DEFAULT_MOCK_TEXT }]);
      const stream = h.anthropic().messages.stream({ model, max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
      const final = await stream.finalMessage();
      expect(final.content).toEqual([expect.objectContaining({ type: 'text', text: DEFAULT_MOCK_TEXT })]);
    }
  });
  it('responses, models and embeddings answer', async () => {
    const r = await h.openai().responses.create({ model: 'openai:gpt-4o-mini', input: 'hi' });
    expect(r.output_text).toBe(DEFAULT_MOCK_TEXT);
    const s = await h.openai().responses.create({ model: 'gemini:gemini-2.0-flash', input: 'hi', stream: true });
    const types: string[] = [];
    for await (const e of s) types.push(e.type);
    expect(types.at(-1)).toBe('response.completed');
    const models = await h.openai().models.list();
    expect(models.data.map((m) => m.id)).toContain('openai:gpt-4o-mini');
    const emb = await h.openai().embeddings.create({ model: 'openai:text-embedding-3-small', input: 'hello' });
    expect(emb.data[0]!.embedding.length).toBeGreaterThan(0);
  });
});
