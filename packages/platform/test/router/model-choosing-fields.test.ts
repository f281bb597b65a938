// Fields with which an OpenAI-wire service answers with another model than the one named
// (OpenRouter's `models` fallback list and `route`, LiteLLM's `fallbacks`) are refused by name
// before any call: otherwise the proxy's allow-list, the key choice, the limits and the price
// would all be decided for a model other than the one that answers.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
  await h.addKey('openai');
});
afterAll(async () => {
  await h?.close();
});

const ask = (extra: Record<string, unknown>) =>
  h.openai().chat.completions.create({ model: 'openai:gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], ...extra } as never);

describe('fields that choose another model', () => {
  it.each([
    ['models', ['openai/gpt-4o-mini', 'openai/o1-pro']],
    ['route', 'fallback'],
    ['fallbacks', ['gpt-4o']],
  ])('%s is refused by name (400 unsupported_parameter), before any provider call', async (field, value) => {
    const before = h.upstreams.openai.requests.length;
    const error: any = await ask({ [field]: value }).catch((e) => e);
    expect(error.status).toBe(400);
    expect(error.param).toBe(field);
    expect(error.code).toBe('unsupported_parameter');
    expect(h.upstreams.openai.requests.length).toBe(before);
  });

  it('an empty list or null is no choice: the call goes through', async () => {
    const answer = await ask({ models: [], route: null });
    expect(answer.choices[0]?.message.content).toBeTruthy();
  });
});
