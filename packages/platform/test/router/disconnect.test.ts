// A client that goes away cancels the provider call on every route, streaming or not, before
// or after the first byte (issue 4 §7), and the call is still metered once as client_aborted (§8).
// So do the model list and the console's Test, which ask the provider for its models.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formToken, signIn } from '../console/console-session.js';
import type { MockReply } from '../upstreams/mock-upstream.js';
import { startRouterHarness, type MockProvider, type RouterHarness } from './support/router-harness.js';
import { waitForUsage } from './support/usage-records.js';

let h: RouterHarness;
let openaiKeyId: string;
beforeAll(async () => {
  h = await startRouterHarness();
  openaiKeyId = await h.addKey('openai');
  await h.addKey('anthropic');
  await h.addKey('gemini');
});
afterAll(() => h?.close());

interface Case {
  name: string;
  provider: MockProvider;
  path: string;
  body: Record<string, unknown>;
}

const hi = [{ role: 'user', content: 'hi' }];
const CASES: Case[] = [
  { name: 'chat → OpenAI', provider: 'openai', path: '/chat/completions', body: { model: 'openai:gpt-4o-mini', messages: hi } },
  { name: 'chat → Gemini', provider: 'gemini', path: '/chat/completions', body: { model: 'gemini:gemini-2.0-flash', messages: hi } },
  { name: 'messages → Anthropic (native passthrough)', provider: 'anthropic', path: '/v1/messages', body: { model: 'anthropic:claude-sonnet-4-5', max_tokens: 20, messages: hi } },
  { name: 'messages → OpenAI (translated)', provider: 'openai', path: '/v1/messages', body: { model: 'openai:gpt-4o-mini', max_tokens: 20, messages: hi } },
  { name: 'responses → Anthropic', provider: 'anthropic', path: '/responses', body: { model: 'anthropic:claude-sonnet-4-5', input: 'hi' } },
];

async function abortAfter(c: Case, stream: boolean, reply: MockReply, readFirstBytes: boolean, requestId: string) {
  h.upstreams[c.provider].enqueue(reply);
  const aborted = h.upstreams[c.provider].waitForAbort();
  const controller = new AbortController();
  const response = fetch(`${h.baseURL()}${c.path}`, {
    method: 'POST',
    signal: controller.signal,
    headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-request-id': requestId },
    body: JSON.stringify(c.path === '/embeddings' ? c.body : { ...c.body, stream }),
  });
  if (readFirstBytes) {
    const res = await response;
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await reader.read().catch(() => undefined);
  } else {
    setTimeout(() => controller.abort(), 150);
    await response.catch(() => undefined);
  }
  await aborted;
  const rows = await waitForUsage(h.tp, requestId);
  expect(rows).toHaveLength(1);
  expect(rows[0]!.outcome).toBe('client_aborted');
}

describe('a client that goes away cancels the provider call', () => {
  for (const c of CASES) {
    it(`${c.name}: before the answer (not streaming)`, async () => {
      await abortAfter(c, false, { type: 'hang' }, false, `gone-${c.provider}-${c.path.replace(/\W/g, '')}-plain-${Date.now()}`);
    });
    it(`${c.name}: before the first byte (streaming)`, async () => {
      await abortAfter(c, true, { type: 'hang' }, false, `gone-${c.provider}-${c.path.replace(/\W/g, '')}-early-${Date.now()}`);
    });
    it(`${c.name}: in the middle of the stream`, async () => {
      await abortAfter(c, true, { type: 'stall_after_first_chunk', text: 'First piece and then nothing at all' }, true, `gone-${c.provider}-${c.path.replace(/\W/g, '')}-mid-${Date.now()}`);
    });
  }

  it('embeddings: before the answer', async () => {
    await abortAfter(
      { name: 'embeddings', provider: 'openai', path: '/embeddings', body: { model: 'openai:text-embedding-3-small', input: 'hi' } },
      false,
      { type: 'hang' },
      false,
      `gone-embeddings-${Date.now()}`,
    );
  });
});

/**
 * The providers hang on the next request; the client leaves once each has it. Whether each saw
 * its request closed within 2 s (a model list's own timeout is 10 s).
 */
async function leaveWhileProvidersHang(providers: MockProvider[], send: (signal: AbortSignal) => Promise<Response>): Promise<'cancelled' | 'still waiting'> {
  const asked = providers.map((p) => h.upstreams[p].requests.length + 1);
  for (const p of providers) h.upstreams[p].enqueue({ type: 'hang' });
  const aborted = Promise.all(providers.map((p) => h.upstreams[p].waitForAbort()));
  const controller = new AbortController();
  const sent = send(controller.signal).catch(() => undefined);
  while (providers.some((p, i) => h.upstreams[p].requests.length < asked[i]!)) await new Promise((r) => setTimeout(r, 10));
  controller.abort();
  await sent;
  return Promise.race([aborted.then(() => 'cancelled' as const), new Promise<'still waiting'>((r) => setTimeout(() => r('still waiting'), 2000))]);
}

describe('a client that goes away cancels the model listing', () => {
  it('GET /models: every provider asked for its list', async () => {
    const outcome = await leaveWhileProvidersHang(['openai', 'anthropic', 'gemini'], (signal) =>
      fetch(`${h.baseURL()}/models`, { signal, headers: { authorization: `Bearer ${h.adminToken}` } }),
    );
    expect(outcome).toBe('cancelled');
  });

  it("the console's Test", async () => {
    const jar = await signIn(h.tp, h.tp.admin.email, h.tp.admin.password);
    const csrf = await formToken(h.tp, jar);
    const outcome = await leaveWhileProvidersHang(['openai'], (signal) =>
      jar.fetch(`${h.tp.url}/console/keys/${openaiKeyId}/test`, {
        method: 'POST',
        signal,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf }).toString(),
      }),
    );
    expect(outcome).toBe('cancelled');
  });
});
