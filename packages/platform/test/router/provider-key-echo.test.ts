// A provider key never comes back from the provider (issue 8 §3): a provider that echoes the key —
// as is, in another case, or without its prefix — in an error status, an in-stream error event on
// any inbound wire, or a Retry-After header gets it to neither the caller, the usage records nor
// the logs.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_SECONDS } from '../../src/router/upstream/provider-text.js';
import type { MockReply } from '../upstreams/mock-upstream.js';
import { startRouterHarness, type MockProvider, type RouterHarness } from './support/router-harness.js';
import { waitForUsage } from './support/usage-records.js';

const KEYS: Record<MockProvider, { key: string; prefix: string }> = {
  openai: { key: 'sk-proj-EchoAbC123dEf456GhI789jKl012MnO345pQr', prefix: 'sk-proj-' },
  anthropic: { key: 'sk-ant-api03-EchoQwE123rTy456UiO789pAs012DfG', prefix: 'sk-ant-api03-' },
  gemini: { key: 'AIzaSyEchoZxC123vBn456MlK789jHg012FdS34', prefix: 'AIzaSy' },
};

/** The key three ways: as is, upper case, and without its prefix. */
const echoes = (provider: MockProvider) => {
  const { key, prefix } = KEYS[provider];
  return `key ${key}, KEY ${key.toUpperCase()}, bare ${key.slice(prefix.length)}`;
};

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
  for (const provider of ['openai', 'anthropic', 'gemini'] as const) await h.addKey(provider, { apiKey: KEYS[provider].key });
});
afterAll(() => h?.close());

function expectNoKey(text: string): void {
  const haystack = text.toLowerCase();
  for (const { key, prefix } of Object.values(KEYS)) {
    expect(haystack).not.toContain(key.toLowerCase());
    expect(haystack).not.toContain(key.slice(prefix.length).toLowerCase());
  }
}

/** Sends a raw request and returns the whole answer as text, its status and headers, and its usage row. */
async function send(path: string, body: object, wire: 'openai' | 'anthropic' = 'openai') {
  const requestId = randomUUID();
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': requestId };
  if (wire === 'anthropic') Object.assign(headers, { 'x-api-key': h.adminToken, 'anthropic-version': '2023-06-01' });
  else headers.authorization = `Bearer ${h.adminToken}`;
  const response = await fetch(`${h.baseURL()}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await response.text();
  const [record] = await waitForUsage(h.tp, requestId);
  return { status: response.status, headers: response.headers, text, record };
}

const chat = (model: string, stream: boolean) => ({ model, stream, messages: [{ role: 'user', content: 'hi' }] });
const messages = (model: string, stream: boolean) => ({ model, stream, max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] });

describe('an error status that echoes the key', () => {
  for (const provider of ['openai', 'gemini', 'anthropic'] as const) {
    it(`${provider}: the caller, the usage row and the logs get the message without the key`, async () => {
      h.upstreams[provider].enqueue({ type: 'error', status: 400, message: `Bad request (${echoes(provider)})` });
      const result = provider === 'anthropic' ? await send('/v1/messages', messages('anthropic:claude-sonnet-4-5', false), 'anthropic') : await send('/chat/completions', chat(`${provider}:m`, false));
      expect(result.status).toBe(400);
      expect(result.text).toContain('Bad request');
      expect(result.text).toContain('[provider key]');
      expect(result.record?.error_message).toContain('Bad request');
      expectNoKey(result.text);
      expectNoKey(JSON.stringify(result.record));
      expectNoKey(h.tp.logs.join('\n'));
    });
  }

  it('a provider error type that echoes the key does not become the code', async () => {
    h.upstreams.openai.enqueue({ type: 'raw', status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { message: 'no', type: KEYS.openai.key.toUpperCase() } }) });
    const result = await send('/chat/completions', chat('openai:m', false));
    expect(result.status).toBe(400);
    expectNoKey(result.text);
  });
});

describe('an in-stream error event that echoes the key, on every inbound wire', () => {
  const cases: Array<{ name: string; provider: MockProvider; path: string; body: object; wire: 'openai' | 'anthropic' }> = [
    { name: 'OpenAI chat', provider: 'openai', path: '/chat/completions', body: chat('openai:gpt-4o-mini', true), wire: 'openai' },
    { name: 'Responses', provider: 'openai', path: '/responses', body: { model: 'openai:gpt-4o-mini', input: 'hi', stream: true }, wire: 'openai' },
    { name: 'Anthropic format, translated (Gemini)', provider: 'gemini', path: '/v1/messages', body: messages('gemini:gemini-2.0-flash', true), wire: 'anthropic' },
    { name: 'Anthropic format, translated (OpenAI)', provider: 'openai', path: '/v1/messages', body: messages('openai:gpt-4o-mini', true), wire: 'anthropic' },
    { name: 'Anthropic native passthrough', provider: 'anthropic', path: '/v1/messages', body: messages('anthropic:claude-sonnet-4-5', true), wire: 'anthropic' },
  ];
  for (const { name, provider, path, body, wire } of cases) {
    it(`${name}: the error event, the usage row and the logs carry no key`, async () => {
      const reply: MockReply = { type: 'error_mid_stream', text: 'partial answer here', message: `Upstream broke (${echoes(provider)})` };
      h.upstreams[provider].enqueue(reply);
      const result = await send(path, body, wire);
      expect(result.status).toBe(200);
      expect(result.text).toContain('partial');
      expect(result.text).toContain('Upstream broke');
      expect(result.record?.outcome).toBe('upstream_error');
      expect(result.record?.error_message).toContain('Upstream broke');
      expectNoKey(result.text);
      expectNoKey(JSON.stringify(result.record));
      expectNoKey(h.tp.logs.join('\n'));
    });
  }

  it('a first-event error of the passthrough (a status for the caller) carries no key either', async () => {
    h.upstreams.anthropic.enqueue({
      type: 'raw',
      headers: { 'content-type': 'text/event-stream' },
      body: `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: `Refused (${echoes('anthropic')})` } })}\n\n`,
    });
    const result = await send('/v1/messages', messages('anthropic:claude-sonnet-4-5', true), 'anthropic');
    expect(result.status).toBe(400);
    expect(result.text).toContain('Refused');
    expectNoKey(result.text);
    expectNoKey(JSON.stringify(result.record));
  });
});

describe('Retry-After', () => {
  const cases: Array<[string, string, string | null]> = [
    ['delta-seconds', '7', '7'],
    ['too many seconds', '999999999', String(MAX_RETRY_AFTER_SECONDS)],
    ['an HTTP date', 'Sun, 06 Nov 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 08:49:37 GMT'],
    ['an obsolete HTTP date', 'Sunday, 06-Nov-94 08:49:37 GMT', 'Sun, 06 Nov 1994 08:49:37 GMT'],
    ['the key', KEYS.openai.key, null],
    ['seconds and the key', `7 ${KEYS.openai.key}`, null],
    ['a negative number', '-5', null],
    ['words', 'in a while', null],
  ];
  for (const [name, sent, forwarded] of cases) {
    it(`${name}: ${forwarded === null ? 'dropped' : `forwarded as ${forwarded}`}`, async () => {
      h.upstreams.openai.enqueue({ type: 'error', status: 429, headers: { 'retry-after': sent } });
      const result = await send('/chat/completions', chat('openai:gpt-4o-mini', false));
      expect(result.status).toBe(429);
      expect(result.headers.get('retry-after')).toBe(forwarded);
      expectNoKey([...result.headers.values()].join('\n'));
    });
  }
});
