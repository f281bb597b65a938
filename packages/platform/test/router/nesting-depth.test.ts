// A value nested thousands deep parses (JSON.parse takes any depth) but cannot be written back:
// JSON.stringify recurses. Passed through to a provider, or weighed against a spending limit, it
// is the caller's bad input — a 400 — never a provider "unreachable" that fails over and rests
// every key, and never a 500.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setLimit } from '../../src/limits/spending-limits.js';
import { setModelPrice } from '../../src/usage/model-prices.js';
import { testEngine } from '../support/test-platform.js';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';
import { waitForUsage } from './support/usage-records.js';

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
  // Two keys: a provider failure would fail over from one to the other.
  await h.addKey('openai');
  await h.addKey('openai');
}, 60_000);
afterAll(() => h?.close());

const DEPTH = 20_000;
const deep = `${'['.repeat(DEPTH)}1${']'.repeat(DEPTH)}`;
let calls = 0;

async function chat(token: string, body: string) {
  const requestId = `nesting-${++calls}`;
  const response = await fetch(`${h.baseURL()}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-request-id': requestId },
    body,
  });
  return { status: response.status, body: (await response.json()) as { error?: { code: string; message: string } }, requestId };
}

describe(`a value nested too deeply to be written back (${testEngine()})`, () => {
  it('passed through to the provider: 400 request_too_deep, nothing sent, no failover, the keys unharmed', async () => {
    const sent = h.upstreams.openai.requests.length;
    // An unknown field goes to an OpenAI-wire provider as it is.
    const answer = await chat(h.adminToken, `{"model":"openai:gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"x_extra":${deep}}`);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'request_too_deep', message: expect.stringMatching(/nested too deeply/) });
    expect(h.upstreams.openai.requests.length).toBe(sent);
    expect(h.tp.logs.some((line) => line.includes('failing over'))).toBe(false);
    const [record] = await waitForUsage(h.tp, answer.requestId);
    expect(record?.outcome).toBe('rejected');
    // Neither key was rested as if the provider were down.
    const metrics = await (await fetch(`${h.tp.url}/metrics`)).text();
    // The counter is there to be read (a renamed or hidden one would make the next line pass for nothing).
    expect(metrics).toContain('# TYPE keyward_router_key_cooldowns_total counter');
    expect(metrics).not.toMatch(/keyward_router_key_cooldowns_total\{[^}]*\} [1-9]/);
    expect((await chat(h.adminToken, JSON.stringify({ model: 'openai:gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }))).status).toBe(200);
  });

  it('weighed against a spending limit: the same 400, not a 500', async () => {
    const user = await h.addUser(`deep-${Date.now()}@example.com`);
    await setModelPrice(h.tp.platform.ctx, { provider: 'openai', model: 'gpt-4o-mini', inputUsdPerMtok: '1', outputUsdPerMtok: '1' });
    await setLimit(h.tp.platform.ctx, { organizationId: h.orgId, scope: 'user', userId: user.id, usd: '10', period: 'day' });
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const answer = await chat(await h.tokenFor(user), `{"model":"openai:gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"x_extra":${deep}}`);
    expect(answer.status).toBe(400);
    expect(answer.body.error?.code).toBe('request_too_deep');
  });
});
