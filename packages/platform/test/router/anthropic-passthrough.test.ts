// Anthropic in, Anthropic out (the native body passes through untouched): an `error` event the
// provider sends inside its stream reaches the caller as sent, and the usage record says the call
// failed (issue 4 §7, §8). An error that comes before anything was forwarded gets a real status
// and fails over to the next key of the same rank, like an HTTP error would.

import { APIError } from '@anthropic-ai/sdk';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';
import { waitForUsage } from './support/usage-records.js';

const MODEL = 'anthropic:claude-sonnet-4-5';
const ask = { model: MODEL, max_tokens: 50, messages: [{ role: 'user' as const, content: 'hi' }] };

let h: RouterHarness;
/**
 * A misbehaving Anthropic: by default it opens every stream with `event: error` (overloaded), as
 * the real one sometimes does; `empty` answers 200 with no event; `truncated` stops before message_stop.
 */
let erroring: Server;
let erroringUrl: string;
let erroringCalls = 0;
let mode: 'error_first' | 'empty' | 'truncated' = 'error_first';
const sse = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
const TRUNCATED =
  sse('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 9, output_tokens: 1 } } }) +
  sse('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
  sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Half an ans' } });

beforeAll(async () => {
  h = await startRouterHarness();
  await h.addKey('anthropic');
  erroring = createServer((req, res) => {
    erroringCalls += 1;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (mode === 'empty') return res.end();
      if (mode === 'truncated') return res.end(TRUNCATED);
      res.end(sse('error', { error: { type: 'overloaded_error', message: 'Overloaded right away' } }));
    });
  });
  await new Promise<void>((resolve) => erroring.listen(0, '127.0.0.1', resolve));
  erroringUrl = `http://127.0.0.1:${(erroring.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await h?.close();
  erroring?.closeAllConnections();
  await new Promise((resolve) => erroring?.close(resolve));
});

describe('an in-stream error event on the native Anthropic passthrough', () => {
  it('is forwarded as sent, and the SDK raises it', async () => {
    h.upstreams.anthropic.enqueue({ type: 'error_mid_stream', text: 'partial answer here', message: 'Overloaded mid-way' });
    const res = await fetch(`${h.baseURL()}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': h.adminToken, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ ...ask, stream: true }),
    });
    expect(res.status).toBe(200);
    const frames = (await res.text()).trim().split('\n\n');
    expect(frames.at(-1)).toBe(`event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded mid-way' } })}`);
    expect(frames.filter((f) => f.startsWith('event: error'))).toHaveLength(1);

    h.upstreams.anthropic.enqueue({ type: 'error_mid_stream', text: 'partial answer here', message: 'Overloaded mid-way' });
    const error = await h.anthropic().messages.stream(ask).finalMessage().catch((e) => e);
    expect(error).toBeInstanceOf(APIError);
    expect(String(error.message)).toContain('Overloaded mid-way');
  });

  it('is metered as upstream_error with the status the caller got, tokens and the provider’s words', async () => {
    h.upstreams.anthropic.enqueue({ type: 'error_mid_stream', text: 'partial answer here', message: 'Overloaded mid-way' });
    const requestId = `passthrough-error-${Date.now()}`;
    const stream = h.anthropic().messages.stream(ask, { headers: { 'x-request-id': requestId } });
    await stream.finalMessage().catch(() => undefined);
    const rows = await waitForUsage(h.tp, requestId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      outcome: 'upstream_error',
      status: 200,
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      inbound_format: 'anthropic_messages',
      stream: 1,
      input_tokens: 25,
    });
    expect(rows[0]!.error_message).toContain('overloaded_error');
    expect(rows[0]!.error_message).toContain('Overloaded mid-way');
    expect(rows[0]!.time_to_first_token_ms).not.toBeNull();
  });

  it('a stream that completes is still metered ok', async () => {
    const requestId = `passthrough-ok-${Date.now()}`;
    await h.anthropic().messages.stream(ask, { headers: { 'x-request-id': requestId } }).finalMessage();
    const [row] = await waitForUsage(h.tp, requestId);
    expect(row).toMatchObject({ outcome: 'ok', status: 200, input_tokens: 25, output_tokens: 12, error_message: null });
  });
});

describe('an error event before anything was forwarded', () => {
  it('gets a real status in Anthropic’s shape, metered as upstream_error', async () => {
    const dana = await h.addUser('dana@example.com');
    await h.addKey('anthropic', { scope: 'personal', userId: dana.id, baseUrl: erroringUrl });
    const requestId = `passthrough-first-${Date.now()}`;
    const error = await h
      .anthropic(await h.tokenFor(dana))
      .messages.stream(ask, { headers: { 'x-request-id': requestId } })
      .finalMessage()
      .catch((e) => e);
    expect(error).toBeInstanceOf(APIError);
    expect(error.status).toBe(502);
    expect(error.error).toMatchObject({ type: 'error', error: { type: 'api_error', message: expect.stringContaining('Overloaded right away') } });
    const [row] = await waitForUsage(h.tp, requestId);
    expect(row).toMatchObject({ outcome: 'upstream_error', status: 502, provider: 'anthropic' });
  });

  it('fails over to the next key of the same rank', async () => {
    const eli = await h.addUser('eli@example.com');
    await h.addKey('anthropic', { scope: 'personal', userId: eli.id, baseUrl: erroringUrl, primary: true });
    await h.addKey('anthropic', { scope: 'personal', userId: eli.id });
    const before = erroringCalls;
    const requestId = `passthrough-failover-${Date.now()}`;
    const message = await h
      .anthropic(await h.tokenFor(eli))
      .messages.stream(ask, { headers: { 'x-request-id': requestId } })
      .finalMessage();
    expect(message.content[0]).toMatchObject({ type: 'text' });
    expect(erroringCalls - before).toBe(1);
    const [row] = await waitForUsage(h.tp, requestId);
    expect(row).toMatchObject({ outcome: 'ok', status: 200 });
  });
});

describe('a native stream that breaks off', () => {
  let token: string;
  beforeAll(async () => {
    const fay = await h.addUser('fay@example.com');
    await h.addKey('anthropic', { scope: 'personal', userId: fay.id, baseUrl: erroringUrl });
    token = await h.tokenFor(fay);
  });
  afterAll(() => {
    mode = 'error_first';
  });

  it('with no event at all is a 502, not a hanging request', async () => {
    mode = 'empty';
    const requestId = `passthrough-empty-${Date.now()}`;
    const error = await h.anthropic(token).messages.stream(ask, { headers: { 'x-request-id': requestId } }).finalMessage().catch((e) => e);
    expect(error).toBeInstanceOf(APIError);
    expect(error.status).toBe(502);
    const [row] = await waitForUsage(h.tp, requestId);
    expect(row).toMatchObject({ outcome: 'upstream_error', status: 502 });
  });

  it('before message_stop ends with an error event, metered as upstream_error', async () => {
    mode = 'truncated';
    const requestId = `passthrough-truncated-${Date.now()}`;
    const res = await fetch(`${h.baseURL()}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': token, 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-request-id': requestId },
      body: JSON.stringify({ ...ask, stream: true }),
    });
    expect(res.status).toBe(200);
    const frames = (await res.text()).trim().split('\n\n');
    expect(frames[2]).toContain('Half an ans');
    expect(frames.at(-1)).toMatch(/^event: error\ndata: /);
    expect(JSON.parse(frames.at(-1)!.split('data: ')[1]!)).toMatchObject({ type: 'error', error: { type: 'api_error', message: expect.stringContaining('message_stop') } });
    const [row] = await waitForUsage(h.tp, requestId);
    expect(row).toMatchObject({ outcome: 'upstream_error', status: 200, input_tokens: 9 });
  });
});
