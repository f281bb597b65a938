// anthropic-version and anthropic-beta on the Anthropic route (issue 11 §3): forwarded as the
// caller sent them to anthropic: models (they decide the body's and the answer's shape), the
// router's own version when the caller sent none, and never to other providers.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
  await h.addKey('anthropic');
  await h.addKey('openai');
});
afterAll(async () => {
  await h?.close();
});

const ask = (model: string) => ({ model, max_tokens: 20, messages: [{ role: 'user' as const, content: 'hi' }] });
const lastHeaders = (provider: 'anthropic' | 'openai') => h.upstreams[provider].requests.at(-1)!.headers;

describe('anthropic-version and anthropic-beta', () => {
  it('reach Anthropic as the caller sent them, whole and streamed', async () => {
    const betas = 'interleaved-thinking-2025-05-14,context-1m-2025-08-07';
    await h.anthropic().messages.create(ask('anthropic:claude-sonnet-4-5'), { headers: { 'anthropic-beta': betas, 'anthropic-version': '2023-06-01' } });
    expect(lastHeaders('anthropic')['anthropic-beta']).toBe(betas);
    expect(lastHeaders('anthropic')['anthropic-version']).toBe('2023-06-01');
    // Whatever version the client speaks is forwarded as is, not replaced by the router's.
    await h.anthropic().messages.create(ask('anthropic:claude-sonnet-4-5'), { headers: { 'anthropic-version': '2026-10-21' } });
    expect(lastHeaders('anthropic')['anthropic-version']).toBe('2026-10-21');
    await h.anthropic().messages.stream(ask('anthropic:claude-sonnet-4-5'), { headers: { 'anthropic-beta': 'fine-grained-tool-streaming-2025-05-14' } }).finalMessage();
    expect(lastHeaders('anthropic')['anthropic-beta']).toBe('fine-grained-tool-streaming-2025-05-14');
  });

  it('without an anthropic-version from the caller, the router sends its own and no beta', async () => {
    const res = await fetch(`${h.baseURL()}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(ask('anthropic:claude-sonnet-4-5')),
    });
    expect(res.status).toBe(200);
    expect(lastHeaders('anthropic')['anthropic-version']).toBe('2023-06-01');
    expect(lastHeaders('anthropic')).not.toHaveProperty('anthropic-beta');
  });

  it('never reach another provider', async () => {
    await h.anthropic().messages.create(ask('openai:gpt-4o-mini'), { headers: { 'anthropic-beta': 'x-beta' } });
    expect(lastHeaders('openai')).not.toHaveProperty('anthropic-beta');
    expect(lastHeaders('openai')).not.toHaveProperty('anthropic-version');
  });
});
