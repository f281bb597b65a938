// What the router does with a provider that misbehaves without saying so: a stream cut off
// before the answer is complete, an enormous error body, an enormous answer, an enormous model list.

import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_MODEL_LIST_BYTES } from '../../src/keys/list-provider-models.js';
import { MAX_ERROR_BODY_BYTES, MAX_JSON_BODY_BYTES } from '../../src/router/upstream/provider-call.js';
import { formToken, postForm, signIn } from '../console/console-session.js';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';
import { waitForUsage } from './support/usage-records.js';

const chunk = (delta: object) =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`;

/** Until the reader takes what was written, or goes away. */
const drained = (res: ServerResponse) =>
  new Promise<void>((resolve) => {
    const go = () => {
      res.off('drain', go).off('close', go);
      resolve();
    };
    res.on('drain', go).on('close', go);
  });

/** Writes `total` bytes of `{"id":"m"},` entries after the list's head, as fast as they are taken. */
async function pour(res: ServerResponse, total: number, poured: { written: number }) {
  const block = Buffer.from('{"id":"m"},'.repeat(Math.floor(2 ** 20 / 11)));
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{"object":"list","data":[');
  while (poured.written < total && !res.destroyed) {
    poured.written += block.length;
    if (!res.write(block)) await drained(res);
  }
  res.end('{"id":"m"}]}');
}

/** The model list the upstream poured last: bytes written, and (once its response closed) whether all were taken. */
let modelList = { written: 0, whole: Promise.resolve(false) };
/** Far more than the bound: read whole, every byte would be taken. */
const POURED_MODEL_LIST_BYTES = MAX_MODEL_LIST_BYTES + 32 * 2 ** 20;
/** What the upstream may write when Keyward reads only up to the bound: that, plus what the sockets' buffers hold. */
const ROOM_FOR_BUFFERS = MAX_MODEL_LIST_BYTES + 16 * 2 ** 20;

/** An OpenAI-wire server whose behaviour is picked by the prompt; its model list is enormous. */
function oddUpstream(): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url?.endsWith('/models')) {
      const poured = { written: 0, whole: new Promise<boolean>((resolve) => res.once('close', () => resolve(res.writableFinished))) };
      modelList = poured;
      void pour(res, POURED_MODEL_LIST_BYTES, poured);
      return;
    }
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', async () => {
      const prompt = JSON.parse(raw).messages[0].content as string;
      if (prompt === 'cut') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(chunk({ role: 'assistant', content: 'Half an ' }));
        res.end(chunk({ content: 'answ' }));
      } else if (prompt === 'cut-json') {
        // Promises 400 bytes, sends a few, then the connection drops.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '400' });
        res.write('{"id":"chatcmpl-cut","object":"chat.completion",');
        setTimeout(() => res.socket?.destroy(), 20);
      } else if (prompt === 'huge-error') {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('E'.repeat(1024 * 1024));
      } else if (prompt === 'huge-json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        const block = Buffer.alloc(1024 * 1024, 'x');
        for (let i = 0; i <= MAX_JSON_BODY_BYTES / block.length + 1 && !res.destroyed; i++) {
          if (!res.write(block)) await drained(res);
        }
        res.end();
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let h: RouterHarness;
let server: Server;
let keyId: string;
beforeAll(async () => {
  h = await startRouterHarness();
  server = await oddUpstream();
  keyId = await h.addKey('openai-compatible', { apiKey: '', baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` });
});
afterAll(async () => {
  server?.closeAllConnections();
  server?.close();
  await h?.close();
});

const ask = (content: string, stream = false) => ({ model: 'openai-compatible:m', stream, messages: [{ role: 'user' as const, content }] });

describe('a stream cut off before the answer is complete', () => {
  it('ends with an error event, not a normal end, and is metered as an upstream error', async () => {
    const response = await fetch(`${h.baseURL()}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(ask('cut', true)),
    });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain('Half an ');
    expect(text).toMatch(/"error":\{[^}]*ended before the answer was complete/);
    expect(text).not.toContain('[DONE]');
    const [record] = await waitForUsage(h.tp, response.headers.get('x-request-id')!);
    expect(record?.outcome).toBe('upstream_error');
  });

  it('makes the OpenAI SDK raise instead of returning half an answer', async () => {
    const stream = await h.openai().chat.completions.create(ask('cut', true) as never);
    const error = await (async () => {
      for await (const _ of stream as unknown as AsyncIterable<unknown>);
    })().then(() => undefined, (e) => e);
    expect(error).toBeInstanceOf(APIError);
  });
});

describe('an answer cut off mid-body', () => {
  it('is a 502 at once (no hang), metered as an upstream error', async () => {
    const started = Date.now();
    const response = await fetch(`${h.baseURL()}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(ask('cut-json')),
    });
    expect(response.status).toBe(502);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('upstream_unreachable');
    expect(Date.now() - started).toBeLessThan(5_000);
    const [record] = await waitForUsage(h.tp, response.headers.get('x-request-id')!);
    expect(record?.status).toBe(502);
  });
});

describe('oversized provider bodies', () => {
  it('an error body is read only in part: the caller gets a 502 with a bounded message', async () => {
    const error = await h.openai().chat.completions.create(ask('huge-error')).then(() => undefined, (e) => e);
    expect(error).toBeInstanceOf(APIError);
    expect(error.status).toBe(502);
    expect(error.message.length).toBeLessThanOrEqual(MAX_ERROR_BODY_BYTES + 200);
  });

  it('an answer over the limit is refused with a 502, not held in memory', async () => {
    const error = await h.openai().chat.completions.create(ask('huge-json')).then(() => undefined, (e) => e);
    expect(error).toBeInstanceOf(APIError);
    expect(error.status).toBe(502);
    expect(error.message).toMatch(/more than 64 MiB/);
  }, 60_000);
});

describe('an enormous model list', () => {
  it('GET /models reads no more than the bound, drops the connection and falls back', async () => {
    const response = await fetch(`${h.baseURL()}/models`, { headers: { authorization: `Bearer ${h.adminToken}` } });
    // The upstream's response closed before it could write the rest: Keyward stopped reading.
    expect(await modelList.whole).toBe(false);
    expect(modelList.written).toBeLessThan(ROOM_FOR_BUFFERS);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { data: Array<{ id: string }> }).data.filter((m) => m.id.startsWith('openai-compatible:'))).toEqual([]);
  });

  it("the console's Test says the list is too large, and stops reading it", async () => {
    const jar = await signIn(h.tp, h.tp.admin.email, h.tp.admin.password);
    const tested = await postForm(jar, `${h.tp.url}/console/keys/${keyId}/test`, { csrf: await formToken(h.tp, jar) });
    expect(await modelList.whole).toBe(false);
    expect(modelList.written).toBeLessThan(ROOM_FOR_BUFFERS);
    expect(tested.status).toBe(200);
    expect(tested.text).toContain('OpenAI-compatible server answered with a model list larger than 8 MiB; Keyward stopped reading it.');
  });
});
