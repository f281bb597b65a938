// Upstream faults (issue 4 §7): statuses mapped, Retry-After kept, timeouts (streams of keep-alive
// comments only included), client aborts that cancel the provider call, failures in the middle of
// a stream (an event that never ends included), in both inbound wires.

import { APIError as AnthropicAPIError } from '@anthropic-ai/sdk';
import { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_STREAM_EVENT_CHARS } from '../../src/providers/sse.js';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';
import { waitForUsage } from './support/usage-records.js';

const chat = { model: 'openai:gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }] };
/** An OpenAI stream's first event, as the provider sends it. */
const FIRST_CHUNK = `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta: { role: 'assistant', content: 'partial' }, finish_reason: null }] })}\n\n`;

/** A raw streamed call on the OpenAI wire: its status and its SSE events' data. */
async function rawStream(): Promise<{ status: number; events: string[] }> {
  const res = await fetch(`${h.baseURL()}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...chat, stream: true }),
  });
  const text = await res.text();
  return { status: res.status, events: text.trim().split('\n\n').map((event) => event.replace(/^data: /, '')) };
}

/** A raw streamed call on the Anthropic wire. */
async function rawAnthropicStream(model: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${h.baseURL()}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': h.adminToken, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model, max_tokens: 5, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  return { status: res.status, body: await res.text() };
}
const SECRET = 'sk-fault-test-secret-0123456789abcdef';

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness({ KEYWARD_UPSTREAM_TIMEOUT_MS: '400' });
  await h.addKey('openai', { apiKey: SECRET });
  await h.addKey('anthropic');
  await h.addKey('gemini');
});
afterAll(() => h?.close());

async function openaiError(promise: Promise<unknown>): Promise<APIError> {
  const error = await promise.then(
    () => undefined,
    (e) => e,
  );
  expect(error).toBeInstanceOf(APIError);
  return error as APIError;
}

describe('provider error statuses', () => {
  it('a provider 400 stays 400 with the provider message', async () => {
    h.upstreams.openai.enqueue({ type: 'error', status: 400, message: 'Invalid value for messages[0].' });
    const error = await openaiError(h.openai().chat.completions.create(chat));
    expect(error.status).toBe(400);
    expect(error.message).toContain('Invalid value for messages[0].');
  });

  it('429 keeps its status and Retry-After (OpenAI and Anthropic wires)', async () => {
    h.upstreams.openai.enqueue({ type: 'error', status: 429, headers: { 'retry-after': '7' } });
    const error = await openaiError(h.openai().chat.completions.create(chat));
    expect(error.status).toBe(429);
    expect(error.headers?.get('retry-after')).toBe('7');

    h.upstreams.gemini.enqueue({ type: 'error', status: 429, headers: { 'retry-after': '3' } });
    const anthropicError: any = await h.anthropic().messages.create({ model: 'gemini:gemini-2.0-flash', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    expect(anthropicError).toBeInstanceOf(AnthropicAPIError);
    expect(anthropicError.status).toBe(429);
    expect(anthropicError.error?.error?.type).toBe('rate_limit_error');
    expect(anthropicError.headers?.get('retry-after')).toBe('3');
  });

  it('5xx becomes 502', async () => {
    h.upstreams.openai.enqueue({ type: 'error', status: 503 });
    const error = await openaiError(h.openai().chat.completions.create(chat));
    expect(error.status).toBe(502);
    expect(error.message).toMatch(/OpenAI/);
  });

  it('a refused provider key is a 502 naming the provider, never the key', async () => {
    h.upstreams.openai.enqueue({ type: 'error', status: 401 });
    const error = await openaiError(h.openai().chat.completions.create(chat));
    expect(error.status).toBe(502);
    expect(error.message).toMatch(/OpenAI/);
    expect(error.message).toMatch(/key/);
    expect(JSON.stringify(error.error)).not.toContain(SECRET);
    expect(h.tp.logs.join('\n')).not.toContain(SECRET);
  });

  it('an unreachable provider is a 502', async () => {
    const h2 = await startRouterHarness();
    try {
      await h2.addKey('openai', { baseUrl: 'http://127.0.0.1:9/v1' });
      const error = await openaiError(h2.openai().chat.completions.create(chat));
      expect(error.status).toBe(502);
    } finally {
      await h2.close();
    }
  });

  it('Anthropic-wire errors have Anthropic’s shape', async () => {
    h.upstreams.openai.enqueue({ type: 'error', status: 500 });
    const res = await fetch(`${h.baseURL()}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': h.adminToken, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'openai:gpt-4o-mini', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(502);
    const body: any = await res.json();
    expect(body.type).toBe('error');
    expect(typeof body.error.type).toBe('string');
    expect(body.error.message).toMatch(/OpenAI/);
  });
});

describe('timeouts', () => {
  it('no first byte in time: 504 (not streaming and streaming)', async () => {
    h.upstreams.openai.enqueue({ type: 'hang' });
    expect((await openaiError(h.openai().chat.completions.create(chat))).status).toBe(504);
    h.upstreams.openai.enqueue({ type: 'hang' });
    expect((await openaiError(h.openai().chat.completions.create({ ...chat, stream: true }))).status).toBe(504);
  });

  it('a stream that goes idle after its first chunk ends with an error event', async () => {
    h.upstreams.openai.enqueue({ type: 'stall_after_first_chunk', text: 'Hello there, partial answer' });
    const stream = await h.openai().chat.completions.create({ ...chat, stream: true });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((e) => e);
    expect(text.length).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(APIError);
    expect(String(error.message)).toMatch(/stopped sending|timed out|in time/);
  });
});

describe('a stream that sends only SSE comments (keep-alives reset the idle timeout, not this deadline)', () => {
  it('no event at all: 504 upstream_timeout within the upstream timeout, the provider call ended (OpenAI wire, Anthropic passthrough, Gemini)', async () => {
    h.upstreams.openai.enqueue({ type: 'sse_keep_alive_only' });
    const aborted = h.upstreams.openai.waitForAbort();
    const started = Date.now();
    const error = await openaiError(h.openai().chat.completions.create({ ...chat, stream: true }));
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(error.status).toBe(504);
    expect(error.code).toBe('upstream_timeout');
    await aborted;

    for (const [provider, model] of [
      ['anthropic', 'anthropic:claude-sonnet-4-5'],
      ['gemini', 'gemini:gemini-2.0-flash'],
    ] as const) {
      h.upstreams[provider].enqueue({ type: 'sse_keep_alive_only' });
      const { status, body } = await rawAnthropicStream(model);
      expect(status, provider).toBe(504);
      const parsed = JSON.parse(body);
      expect(parsed.type).toBe('error');
      expect(parsed.error.type).toBe('timeout_error');
    }
  });

  it('comments only after the first event: the stream ends with a timeout error event', async () => {
    h.upstreams.openai.enqueue({ type: 'sse_keep_alive_only', head: FIRST_CHUNK });
    const aborted = h.upstreams.openai.waitForAbort();
    const { status, events } = await rawStream();
    expect(status).toBe(200);
    expect(JSON.parse(events[0]!).choices[0].delta.content).toBe('partial');
    expect(JSON.parse(events.at(-1)!).error.code).toBe('upstream_timeout');
    expect(events).not.toContain('[DONE]');
    await aborted;
  });
});

describe('a stream event that never ends (past MAX_STREAM_EVENT_CHARS)', () => {
  const endless = (head: string) => ({ type: 'sse_endless_line' as const, head, bytes: MAX_STREAM_EVENT_CHARS + 2 ** 20 });

  it('before anything was sent: 502 upstream_bad_response, the provider call ended (OpenAI wire, Anthropic passthrough, Gemini)', async () => {
    h.upstreams.openai.enqueue(endless('data: {"id":"'));
    const aborted = h.upstreams.openai.waitForAbort();
    const error = await openaiError(h.openai().chat.completions.create({ ...chat, stream: true }));
    expect(error.status).toBe(502);
    expect(error.code).toBe('upstream_bad_response');
    expect(error.message).toContain(`longer than ${MAX_STREAM_EVENT_CHARS / 2 ** 20} MiB`);
    await aborted;

    for (const [provider, model] of [
      ['anthropic', 'anthropic:claude-sonnet-4-5'],
      ['gemini', 'gemini:gemini-2.0-flash'],
    ] as const) {
      h.upstreams[provider].enqueue(endless(provider === 'anthropic' ? 'event: message_start\ndata: {"type":"' : 'data: {"candidates":[{"'));
      const { status, body } = await rawAnthropicStream(model);
      expect(status, provider).toBe(502);
      const parsed = JSON.parse(body);
      expect(parsed.type).toBe('error');
      expect(parsed.error.message).toContain(`longer than ${MAX_STREAM_EVENT_CHARS / 2 ** 20} MiB`);
    }
  });

  it('after the first event: the stream ends with an upstream_bad_response error event', async () => {
    h.upstreams.openai.enqueue(endless(`${FIRST_CHUNK}data: {"id":"`));
    const aborted = h.upstreams.openai.waitForAbort();
    const { status, events } = await rawStream();
    expect(status).toBe(200);
    expect(JSON.parse(events[0]!).choices[0].delta.content).toBe('partial');
    expect(JSON.parse(events.at(-1)!).error.code).toBe('upstream_bad_response');
    await aborted;
  });
});

describe('client disconnect', () => {
  it('aborting the call aborts the provider call, and the call is metered as client_aborted', async () => {
    h.upstreams.openai.enqueue({ type: 'hang' });
    const h2 = h; // same platform; the 400 ms timeout is longer than the abort below
    const aborted = h2.upstreams.openai.waitForAbort();
    const controller = new AbortController();
    const requestId = `abort-${Date.now()}`;
    const call = h2.openai().chat.completions.create({ ...chat, stream: true }, { signal: controller.signal, headers: { 'x-request-id': requestId } }).catch((e) => e);
    setTimeout(() => controller.abort(), 100);
    await call;
    await aborted;
    const rows = await waitForUsage(h.tp, requestId);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.outcome).toBe('client_aborted');
  });

  it('aborting mid-stream aborts the upstream stream', async () => {
    h.upstreams.openai.enqueue({ type: 'stall_after_first_chunk', text: 'Hello there, partial answer' });
    const aborted = h.upstreams.openai.waitForAbort();
    const controller = new AbortController();
    const stream = await h.openai().chat.completions.create({ ...chat, stream: true }, { signal: controller.signal });
    const done = (async () => {
      for await (const _chunk of stream) controller.abort();
    })().catch((e) => e);
    await done;
    await aborted;
  });
});

describe('failure in the middle of a stream', () => {
  it('OpenAI wire: a data {"error":…} event, which the SDK raises', async () => {
    h.upstreams.openai.enqueue({ type: 'error_mid_stream', text: 'partial answer here', message: 'The server had an error' });
    const stream = await h.openai().chat.completions.create({ ...chat, stream: true });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((e) => e);
    expect(text).toContain('partial');
    expect(error).toBeInstanceOf(APIError);
    expect(String(error.message)).toContain('The server had an error');
  });

  it('Anthropic wire: an `event: error`, which the SDK raises', async () => {
    for (const model of ['gemini:gemini-2.0-flash', 'anthropic:claude-sonnet-4-5']) {
      const provider = model.split(':')[0] as 'gemini' | 'anthropic';
      h.upstreams[provider].enqueue({ type: 'error_mid_stream', text: 'partial answer here', message: 'Overloaded' });
      const error = await h
        .anthropic()
        .messages.stream({ model, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] })
        .finalMessage()
        .catch((e) => e);
      expect(error).toBeInstanceOf(Error);
      expect(String(error.message)).toMatch(/Overloaded|error/i);
    }
  });

  it('raw frames: the OpenAI stream ends with the error event and no [DONE]', async () => {
    h.upstreams.openai.enqueue({ type: 'error_mid_stream', text: 'partial answer here', message: 'boom' });
    const res = await fetch(`${h.baseURL()}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...chat, stream: true }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    const events = text.trim().split('\n\n');
    expect(JSON.parse(events.at(-1)!.slice('data: '.length)).error.message).toContain('boom');
    expect(text).not.toContain('[DONE]');
  });
});
