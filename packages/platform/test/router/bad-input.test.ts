// Bad input gets a 4xx with a message in the route's own error shape, never a 500; and every
// call is metered once, with what was known.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';
import { waitForUsage } from './support/usage-records.js';

const SECRET = 'sk-never-shown-0123456789abcdefghij';
let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness({ KEYWARD_ROUTER_BODY_LIMIT_BYTES: String(64 * 1024) });
  await h.addKey('openai', { apiKey: SECRET });
});
afterAll(() => h?.close());

const send = (path: string, body: string, extra: Record<string, string> = {}) =>
  fetch(`${h.baseURL()}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json', ...extra },
    body,
  });

const good = { model: 'openai:gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
const goodAnthropic = { model: 'openai:gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };

const CASES: Array<{ name: string; body: string; status: number; mentions?: RegExp }> = [
  { name: 'malformed JSON', body: '{"model": "openai:gpt-4o-mini", "messages": [', status: 400, mentions: /JSON/ },
  { name: 'not an object', body: '"hello"', status: 400 },
  { name: 'wrong type (messages is a string)', body: JSON.stringify({ ...good, messages: 'hi' }), status: 400, mentions: /messages/ },
  { name: 'wrong type (temperature is a string)', body: JSON.stringify({ ...good, temperature: 'hot' }), status: 400, mentions: /temperature/ },
  { name: 'wrong type (max_tokens is a numeric string)', body: JSON.stringify({ ...good, max_tokens: '10' }), status: 400, mentions: /max_tokens/ },
  // An unknown field passes to an OpenAI-wire provider (it judges); translated, it is refused by name.
  { name: 'unknown top-level field, translated', body: JSON.stringify({ ...good, model: 'anthropic:claude-sonnet-4-5', frobnicate: true }), status: 400, mentions: /frobnicate/ },
  { name: 'empty messages', body: JSON.stringify({ ...good, messages: [] }), status: 400, mentions: /messages/ },
  { name: 'missing model', body: JSON.stringify({ messages: good.messages }), status: 400, mentions: /model/ },
  { name: 'unqualified model', body: JSON.stringify({ ...good, model: 'gpt-4o-mini' }), status: 400, mentions: /provider/ },
  { name: 'unknown provider', body: JSON.stringify({ ...good, model: 'acme:large' }), status: 400, mentions: /acme/ },
  { name: 'huge body', body: JSON.stringify({ ...good, messages: [{ role: 'user', content: 'x'.repeat(100 * 1024) }] }), status: 413 },
];

describe('bad input on the OpenAI wire', () => {
  for (const c of CASES) {
    it(`${c.name} → ${c.status}`, async () => {
      const res = await send('/chat/completions', c.body);
      expect(res.status).toBe(c.status);
      const body: any = await res.json();
      expect(typeof body.error.message).toBe('string');
      expect(body.error.message.length).toBeGreaterThan(0);
      if (c.mentions) expect(body.error.message).toMatch(c.mentions);
    });
  }

  it('a body that is not JSON by its content type → 415 unsupported_media_type, on every route that takes a body', async () => {
    for (const path of ['/chat/completions', '/embeddings', '/responses', '/v1/messages', '/v1/messages/count_tokens']) {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', null]) {
        const res = await fetch(`${h.baseURL()}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${h.adminToken}`, ...(type ? { 'content-type': type } : {}) },
          body: JSON.stringify(good),
        });
        expect(res.status, `${path} ${type}`).toBe(415);
        const body: any = await res.json();
        const code = path.includes('messages') ? body.error.type : body.error.code;
        expect(code, `${path} ${type}`).toBe(path.includes('messages') ? 'invalid_request_error' : 'unsupported_media_type');
        expect(body.error.message).toMatch(/application\/json/);
      }
    }
  });

  it('Responses API: untranslatable fields are refused by name', async () => {
    for (const [extra, name] of [
      [{ previous_response_id: 'resp_1' }, 'previous_response_id'],
      [{ tools: [{ type: 'web_search' }] }, 'tools[0].type'],
    ] as const) {
      const res = await send('/responses', JSON.stringify({ model: 'openai:gpt-4o-mini', input: 'hi', ...extra }));
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.message).toContain(name);
    }
  });

  it('embeddings: wrong input type', async () => {
    const res = await send('/embeddings', JSON.stringify({ model: 'openai:text-embedding-3-small', input: { text: 'hi' } }));
    expect(res.status).toBe(400);
  });
});

describe('bad input on the Anthropic wire', () => {
  for (const c of [
    { name: 'malformed JSON', body: '{', status: 400 },
    { name: 'unknown field', body: JSON.stringify({ ...goodAnthropic, frobnicate: 1 }), status: 400, mentions: /frobnicate/ },
    { name: 'missing max_tokens', body: JSON.stringify({ model: 'openai:gpt-4o-mini', messages: goodAnthropic.messages }), status: 400, mentions: /max_tokens/ },
    { name: 'huge body', body: JSON.stringify({ ...goodAnthropic, messages: [{ role: 'user', content: 'x'.repeat(100 * 1024) }] }), status: 413 },
  ]) {
    it(`${c.name} → ${c.status} in Anthropic's error shape`, async () => {
      const res = await send('/v1/messages', c.body);
      expect(res.status).toBe(c.status);
      const body: any = await res.json();
      expect(body.type).toBe('error');
      expect(body.error.message.length).toBeGreaterThan(0);
      if (c.mentions) expect(body.error.message).toMatch(c.mentions);
    });
  }
});

describe('metering', () => {
  it('one complete usage record per call, stream or not', async () => {
    h.upstreams.openai.enqueue({ type: 'text', text: 'metered', usage: { input: 11, output: 4, cached: 2, reasoning: 1 } });
    const id = `meter-${Date.now()}`;
    const stream = await h.openai().chat.completions.create({ ...good, stream: true } as any, { headers: { 'x-request-id': id } });
    for await (const _ of stream as any) {
      // Usage is metered even though the caller did not ask for it.
    }
    const rows = await waitForUsage(h.tp, id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      provider: 'openai',
      model: 'gpt-4o-mini',
      stream: 1,
      input_tokens: 11,
      output_tokens: 4,
      cached_tokens: 2,
      reasoning_tokens: 1,
      status: 200,
      outcome: 'ok',
      inbound_format: 'openai_chat',
      proxy_id: h.tp.defaultProxyId,
    });
    expect(rows[0]!.user_id).toBeTruthy();
    expect(rows[0]!.client_id).toBeTruthy();
    expect(rows[0]!.key_id).toBeTruthy();
    expect(rows[0]!.time_to_first_token_ms).not.toBeNull();
  });

  it('a failed stream is metered with what was known', async () => {
    h.upstreams.openai.enqueue({ type: 'error_mid_stream', text: 'partial', message: 'boom' });
    const id = `meter-fail-${Date.now()}`;
    const res = await send('/chat/completions', JSON.stringify({ ...good, stream: true }), { 'x-request-id': id });
    await res.text();
    const rows = await waitForUsage(h.tp, id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.outcome).toBe('upstream_error');
  });

  it('the provider secret never appears in responses or logs', async () => {
    h.upstreams.openai.enqueue({ type: 'error', status: 401 });
    const res = await send('/chat/completions', JSON.stringify(good));
    expect(await res.text()).not.toContain(SECRET);
    expect(h.tp.logs.join('\n')).not.toContain(SECRET);
  });
});
