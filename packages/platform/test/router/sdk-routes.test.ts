// The routes SDKs call beside chat (issue 11 §2): `models.retrieve(id)` of both SDKs and the
// Anthropic SDK's `messages.countTokens()`, with and without the proxy id, answered in each SDK's
// own shapes — 404s included.

import { APIError as AnthropicAPIError, NotFoundError as AnthropicNotFound } from '@anthropic-ai/sdk';
import { NotFoundError } from 'openai';
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

const proxies = () => [h.tp.defaultProxyId, null];

describe('GET …/models/{id} (OpenAI SDK models.retrieve)', () => {
  it('answers a model the caller can reach in OpenAI’s shape', async () => {
    for (const proxyId of proxies()) {
      const model = await h.openai(undefined, proxyId).models.retrieve('openai:gpt-4o-mini');
      expect(model).toMatchObject({ id: 'openai:gpt-4o-mini', object: 'model', owned_by: 'openai' });
      expect(await h.openai(undefined, proxyId).models.retrieve('gemini:text-embedding-004')).toMatchObject({ owned_by: 'gemini' });
    }
  });

  it('is a 404 in OpenAI’s shape for a model the caller cannot reach', async () => {
    for (const proxyId of proxies()) {
      const error: any = await h.openai(undefined, proxyId).models.retrieve('openai:no-such-model').catch((e) => e);
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error.code).toBe('model_not_found');
      expect(error.error).toMatchObject({ message: expect.stringContaining('openai:no-such-model') });
    }
    // A provider this caller holds no key for is just as unreachable.
    const other: any = await h.openai().models.retrieve('groq:llama-3.3-70b-versatile').catch((e) => e);
    expect(other.status).toBe(404);
  });
});

describe('GET …/v1/models/{id} (Anthropic SDK models.retrieve)', () => {
  it('answers in Anthropic’s shape', async () => {
    for (const proxyId of proxies()) {
      const model = await h.anthropic(undefined, proxyId).models.retrieve('anthropic:claude-sonnet-4-5-20250929');
      expect(model).toMatchObject({ type: 'model', id: 'anthropic:claude-sonnet-4-5-20250929', display_name: expect.stringContaining('claude-sonnet-4-5-20250929') });
    }
  });

  it('is a 404 in Anthropic’s shape for an unreachable model', async () => {
    const error: any = await h.anthropic().models.retrieve('anthropic:claude-none').catch((e) => e);
    expect(error).toBeInstanceOf(AnthropicNotFound);
    expect(error.error).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
  });
});

describe('POST …/v1/messages/count_tokens (Anthropic SDK messages.countTokens)', () => {
  const messages = [{ role: 'user' as const, content: 'one two three four five' }];

  it('anthropic: asks Anthropic, with the model unprefixed and the caller’s anthropic-beta', async () => {
    for (const proxyId of proxies()) {
      const count = await h
        .anthropic(undefined, proxyId)
        .messages.countTokens({ model: 'anthropic:claude-sonnet-4-5', system: 'be brief', messages }, { headers: { 'anthropic-beta': 'token-counting-2024-11-01' } });
      expect(count.input_tokens).toBe(7);
      const sent = h.upstreams.anthropic.requests.at(-1)!;
      expect(sent.path).toBe('/v1/messages/count_tokens');
      expect(sent.body).toMatchObject({ model: 'claude-sonnet-4-5', system: 'be brief' });
      expect(sent.headers['anthropic-beta']).toBe('token-counting-2024-11-01');
    }
  });

  it('gemini: asks Gemini’s countTokens with the whole translated request', async () => {
    const count = await h.anthropic().messages.countTokens({ model: 'gemini:gemini-2.0-flash', system: 'be brief', messages });
    expect(count.input_tokens).toBe(7);
    const sent = h.upstreams.gemini.requests.at(-1)!;
    expect(sent.path).toBe('/v1beta/models/gemini-2.0-flash:countTokens');
    expect(sent.body).toMatchObject({ generateContentRequest: { model: 'models/gemini-2.0-flash', contents: [{ role: 'user', parts: [{ text: 'one two three four five' }] }] } });
  });

  it('OpenAI models are counted locally with OpenAI’s tokenizer, without a provider call', async () => {
    const before = h.upstreams.openai.requests.length;
    const count = await h.anthropic().messages.countTokens({ model: 'openai:gpt-4o-mini', messages });
    // o200k_base: five words are five tokens, +3 for the message, +3 for the reply's priming.
    expect(count.input_tokens).toBe(11);
    const withTools = await h.anthropic().messages.countTokens({
      model: 'openai:gpt-4o',
      messages,
      tools: [{ name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
    });
    expect(withTools.input_tokens).toBeGreaterThan(count.input_tokens);
    expect(h.upstreams.openai.requests.length).toBe(before);
  });

  it('a model whose tokenizer is unknown is a clear 400', async () => {
    const error: any = await h.anthropic().messages.countTokens({ model: 'openai:my-own-finetune', messages }).catch((e) => e);
    expect(error).toBeInstanceOf(AnthropicAPIError);
    expect(error.status).toBe(400);
    expect(error.error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('no tokenizer') } });
  });

  it('max_tokens is not required, an unknown field is refused by name', async () => {
    const res = await fetch(`${h.baseURL()}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'x-api-key': h.adminToken, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'openai:gpt-4o-mini', messages, bogus: 1 }),
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('bogus');
  });
});
