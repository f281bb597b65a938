// The small things real clients trip over (issue 11 §7), each through the official SDK a user
// would hold: model names in Anthropic-format answers, input tokens at the start of a translated
// stream, embedding models in the list, top_k to Gemini, tool-call ids, and the unqualified-model 400.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
  for (const provider of ['openai', 'anthropic', 'gemini'] as const) await h.addKey(provider);
});
afterAll(async () => {
  await h?.close();
});

const hi = [{ role: 'user' as const, content: 'hi' }];

describe('Anthropic-format answers from an anthropic: model name it as the caller sent it', () => {
  it('whole and streamed', async () => {
    const message = await h.anthropic().messages.create({ model: 'anthropic:claude-sonnet-4-5', max_tokens: 20, messages: hi });
    expect(message.model).toBe('anthropic:claude-sonnet-4-5');
    const stream = h.anthropic().messages.stream({ model: 'anthropic:claude-sonnet-4-5', max_tokens: 20, messages: hi });
    let started: string | undefined;
    stream.on('streamEvent', (event) => {
      if (event.type === 'message_start') started = event.message.model;
    });
    const final = await stream.finalMessage();
    expect(started).toBe('anthropic:claude-sonnet-4-5');
    expect(final.model).toBe('anthropic:claude-sonnet-4-5');
  });
});

describe('Anthropic-format streams from Gemini', () => {
  it('start with the input tokens Gemini already reported', async () => {
    h.upstreams.gemini.enqueue({ type: 'text', text: 'A streamed Gemini answer', usage: { input: 17, output: 6 } });
    const stream = h.anthropic().messages.stream({ model: 'gemini:gemini-2.0-flash', max_tokens: 20, messages: hi });
    let startTokens: number | undefined;
    stream.on('streamEvent', (event) => {
      if (event.type === 'message_start') startTokens = event.message.usage.input_tokens;
    });
    const final = await stream.finalMessage();
    expect(startTokens).toBe(17);
    expect(final.usage.input_tokens).toBe(17);
  });

  it('OpenAI-format streams carry no extra field', async () => {
    h.upstreams.gemini.enqueue({ type: 'text', text: 'A streamed Gemini answer', usage: { input: 17, output: 6 } });
    const stream = await h.openai().chat.completions.create({ model: 'gemini:gemini-2.0-flash', messages: hi, stream: true });
    for await (const chunk of stream) expect(chunk).not.toHaveProperty('prompt_tokens');
  });
});

describe('the model list', () => {
  it('holds Gemini embedding models, which the embeddings route serves', async () => {
    const ids: string[] = [];
    for await (const model of h.openai().models.list()) ids.push(model.id);
    expect(ids).toContain('gemini:text-embedding-004');
    expect(ids).toContain('gemini:gemini-2.0-flash');
    const embedding = await h.openai().embeddings.create({ model: 'gemini:text-embedding-004', input: 'hello' });
    expect(embedding.data).toHaveLength(1);
  });
});

describe('top_k in Anthropic format', () => {
  it('reaches Gemini as generationConfig.topK', async () => {
    await h.anthropic().messages.create({ model: 'gemini:gemini-2.0-flash', max_tokens: 20, messages: hi, ...({ top_k: 7 } as object) });
    const sent = h.upstreams.gemini.requests.at(-1)!.body as { generationConfig?: { topK?: number } };
    expect(sent.generationConfig?.topK).toBe(7);
  });

  it('is refused for OpenAI by name, naming OpenAI, before any call', async () => {
    const before = h.upstreams.openai.requests.length;
    const error: any = await h.anthropic().messages.create({ model: 'openai:gpt-4o-mini', max_tokens: 20, messages: hi, ...({ top_k: 7 } as object) }).catch((e) => e);
    expect(error.status).toBe(400);
    expect(error.message).toContain('top_k');
    expect(error.message).toContain('OpenAI');
    expect(error.message).not.toContain('OpenAI wire');
    expect(h.upstreams.openai.requests.length).toBe(before);
  });
});

describe('Gemini tool-call ids', () => {
  it('do not repeat across turns', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];
    const ids: string[] = [];
    for (let turn = 0; turn < 2; turn++) {
      h.upstreams.gemini.enqueue({ type: 'tool_calls', calls: [{ name: 'get_weather', arguments: '{}' }] });
      const completion = await h.openai().chat.completions.create({ model: 'gemini:gemini-2.0-flash', messages: hi, tools });
      ids.push(completion.choices[0]!.message.tool_calls![0]!.id);
    }
    expect(ids[0]).not.toBe(ids[1]);
  });
});

describe('an unqualified model', () => {
  it('is a 400 invalid_request, as the docs say', async () => {
    const error: any = await h.openai().chat.completions.create({ model: 'gpt-4o-mini', messages: hi }).catch((e) => e);
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid_request');
    expect(error.param).toBe('model');
  });
});
