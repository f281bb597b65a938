// The request policy (issue 11 §1), through the official SDKs and the recorded request shapes of
// the AI SDK and @openai/agents: same wire, unknown fields pass for the provider to judge;
// translated, advisory fields are dropped, unknown ones refused by name; null and [] are absent.

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterHarness, type MockProvider, type RouterHarness } from './support/router-harness.js';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/clients/${name}.json`, import.meta.url), 'utf8')).body as Record<string, any>;
const MODELS: Record<MockProvider, string> = { openai: 'openai:gpt-4o-mini', anthropic: 'anthropic:claude-sonnet-4-5', gemini: 'gemini:gemini-2.0-flash' };
const PROVIDERS = Object.keys(MODELS) as MockProvider[];
const ADVISORY = ['prompt_cache_key', 'safety_identifier', 'verbosity', 'service_tier'];

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
  for (const provider of PROVIDERS) await h.addKey(provider);
});
afterAll(async () => {
  await h?.close();
});

const lastBody = (provider: MockProvider) => h.upstreams[provider].requests.at(-1)!.body as Record<string, any>;

describe('@openai/agents on its default Responses model (include: [], previous_response_id: null, …)', () => {
  for (const provider of PROVIDERS) {
    it(`works with ${provider}`, async () => {
      const body = fixture('openai-agents-responses');
      const response = await h.openai().responses.create({ ...body, model: MODELS[provider] } as any);
      expect(response.status).toBe('completed');
      expect(response.output_text.length).toBeGreaterThan(0);
      const sent = lastBody(provider);
      for (const field of ['include', 'previous_response_id', 'conversation', 'truncation']) expect(sent).not.toHaveProperty(field);
    });
  }

  it('a non-empty include, background or a previous_response_id is still refused by name', async () => {
    for (const [extra, field] of [
      [{ include: ['reasoning.encrypted_content'] }, 'include'],
      [{ background: true }, 'background'],
      [{ previous_response_id: 'resp_1' }, 'previous_response_id'],
      [{ truncation: 'auto' }, 'truncation'],
    ] as const) {
      const error: any = await h.openai().responses.create({ model: MODELS.openai, input: 'hi', ...extra } as any).catch((e) => e);
      expect(error.status).toBe(400);
      expect(error.message).toContain(field);
    }
  });
});

describe('the AI SDK’s provider options (prompt_cache_key, safety_identifier, verbosity)', () => {
  it('reach an OpenAI model unchanged on chat', async () => {
    const body = fixture('ai-sdk-openai-chat');
    await h.openai().chat.completions.create({ ...body, model: MODELS.openai } as any);
    expect(lastBody('openai')).toMatchObject({ prompt_cache_key: 'chat-session-42', safety_identifier: 'sha256-of-user', verbosity: 'low', user: 'user-123' });
  });

  it('are dropped as advisory when translated, and the call works', async () => {
    for (const provider of ['anthropic', 'gemini'] as const) {
      const body = fixture('ai-sdk-openai-chat');
      const completion = await h.openai().chat.completions.create({ ...body, model: MODELS[provider] } as any);
      expect(completion.choices[0]!.message.content).toBeTruthy();
      const sent = JSON.stringify(lastBody(provider));
      for (const field of ADVISORY) expect(sent).not.toContain(field);
      expect(sent).not.toContain('chat-session-42');
    }
  });

  it('reach OpenAI through the Responses route, text.verbosity as verbosity', async () => {
    const body = fixture('ai-sdk-openai-responses');
    const response = await h.openai().responses.create({ ...body, model: MODELS.openai } as any);
    expect(response.status).toBe('completed');
    expect(lastBody('openai')).toMatchObject({ prompt_cache_key: 'chat-session-42', service_tier: 'auto', verbosity: 'low' });
    await h.openai().responses.create({ ...body, model: MODELS.gemini } as any);
    expect(JSON.stringify(lastBody('gemini'))).not.toContain('chat-session-42');
  });
});

describe('fields Keyward does not know', () => {
  it('pass unchanged to an OpenAI-wire provider, which judges them', async () => {
    await h.openai().chat.completions.create({ model: MODELS.openai, messages: [{ role: 'user', content: 'hi' }], some_future_field: { level: 2 } } as any);
    expect(lastBody('openai').some_future_field).toEqual({ level: 2 });
  });

  it('are refused by name when translated, before any provider call', async () => {
    for (const provider of ['anthropic', 'gemini'] as const) {
      const before = h.upstreams[provider].requests.length;
      const error: any = await h.openai().chat.completions.create({ model: MODELS[provider], messages: [{ role: 'user', content: 'hi' }], some_future_field: 1 } as any).catch((e) => e);
      expect(error.status).toBe(400);
      expect(error.param).toBe('some_future_field');
      expect(h.upstreams[provider].requests.length).toBe(before);
    }
  });

  it('in Anthropic format pass to Anthropic natively and are refused by name elsewhere', async () => {
    const ask = { max_tokens: 20, messages: [{ role: 'user' as const, content: 'hi' }], context_management: { edits: [] } };
    await h.anthropic().messages.create({ ...ask, model: MODELS.anthropic } as any);
    expect(lastBody('anthropic').context_management).toEqual({ edits: [] });
    const error: any = await h.anthropic().messages.create({ ...ask, model: MODELS.openai } as any).catch((e) => e);
    expect(error.status).toBe(400);
    expect(error.message).toContain('context_management');
  });

  it('null and empty values mean absent when translating', async () => {
    await h.openai().chat.completions.create({ model: MODELS.gemini, messages: [{ role: 'user', content: 'hi' }], tools: [], stop: [], metadata: null, seed: null } as any);
    const sent = lastBody('gemini');
    expect(sent).not.toHaveProperty('tools');
    expect(sent.generationConfig?.stopSequences).toBeUndefined();
  });
});
