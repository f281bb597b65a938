// Local stand-ins for provider APIs. Each provider file (openai-upstream.ts,
// anthropic-upstream.ts, gemini-upstream.ts) speaks that provider's real wire format and SSE
// framing, built from its documented examples; this file holds what they share: the scripted
// replies a test enqueues, request recording, and the HTTP server.

import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/v1/chat/completions` or `/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse`. */
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
}

export interface MockUsage {
  input: number;
  output: number;
  cached?: number;
  /** Prompt tokens written to the cache (Anthropic only); part of `input`. */
  cacheWrite?: number;
  reasoning?: number;
}

/** What the upstream does with the next request. Streaming or not follows the request. */
export type MockReply =
  | { type: 'text'; text: string; usage?: MockUsage; finish?: 'stop' | 'length'; /** Thought summary sent first (Gemini, when asked to include thoughts). */ thoughts?: string }
  | {
      type: 'tool_calls';
      calls: Array<{ id?: string; name: string; arguments: string }>;
      text?: string;
      usage?: MockUsage;
    }
  | { type: 'error'; status: number; message?: string; headers?: Record<string, string> }
  /** Accepts the request and never answers: for first-byte timeouts and client aborts. */
  | { type: 'hang' }
  /** Sends the headers and the first chunk of a streamed text answer, then nothing. */
  | { type: 'stall_after_first_chunk'; text: string }
  /** Streams part of a text answer, then the provider's own in-stream error event. */
  | { type: 'error_mid_stream'; text: string; message?: string }
  /** Exactly these bytes, whatever was asked: for answers no real provider should send. */
  | { type: 'raw'; status?: number; headers?: Record<string, string>; body: string | Buffer }
  /** A 200 SSE stream of `head` (SSE text, whatever was asked), then SSE comments every 50 ms and never an event or an end. */
  | { type: 'sse_keep_alive_only'; head?: string }
  /** A 200 SSE stream of `head`, then `bytes` more with no line break (as fast as they are read), and never an end. */
  | { type: 'sse_endless_line'; head: string; bytes: number };

export interface MockUpstream {
  baseUrl: string;
  requests: RecordedRequest[];
  /** Replies for the next requests, in order; when empty, every request gets `defaultReply`. */
  enqueue(...replies: MockReply[]): void;
  /** Resolves when the upstream has seen the client close a hung or stalled request. */
  waitForAbort(): Promise<void>;
  aborts: number;
  close(): Promise<void>;
}

export const DEFAULT_MOCK_TEXT = 'Hello from the mock upstream.';

export type ReplyWriter = (reply: MockReply, request: RecordedRequest, res: ServerResponse) => void | Promise<void>;

/**
 * Starts a loopback HTTP server. `route` decides from the request whether it is a call this
 * provider understands and writes the reply in that provider's wire format; it returns false for
 * an unknown path (answered 404).
 */
export async function startMockServer(
  route: (request: RecordedRequest, reply: MockReply, res: ServerResponse) => boolean | Promise<boolean>,
): Promise<MockUpstream> {
  const queue: MockReply[] = [];
  const requests: RecordedRequest[] = [];
  const abortWaiters: Array<() => void> = [];
  const upstream: MockUpstream = {
    baseUrl: '',
    requests,
    aborts: 0,
    enqueue: (...replies) => void queue.push(...replies),
    waitForAbort: () => new Promise<void>((resolve) => abortWaiters.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown = undefined;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
    requests.push(recorded);
    const reply = queue.shift() ?? { type: 'text', text: DEFAULT_MOCK_TEXT };
    res.on('close', () => {
      if (!res.writableFinished) {
        upstream.aborts += 1;
        for (const resolve of abortWaiters.splice(0)) resolve();
      }
    });
    if (reply.type === 'hang') return;
    if (reply.type === 'raw') {
      res.writeHead(reply.status ?? 200, reply.headers ?? {});
      res.end(reply.body);
      return;
    }
    if (reply.type === 'sse_keep_alive_only') {
      writeSseHeaders(res);
      if (reply.head) res.write(reply.head);
      const timer = setInterval(() => res.write(': keep-alive\n\n'), 50);
      res.on('close', () => clearInterval(timer));
      return;
    }
    if (reply.type === 'sse_endless_line') {
      writeSseHeaders(res);
      res.write(reply.head);
      const piece = Buffer.alloc(2 ** 20, 'a');
      let left = reply.bytes;
      const more = () => {
        while (left > 0 && !res.destroyed) {
          left -= piece.length;
          if (!res.write(piece)) return void res.once('drain', more);
        }
      };
      more();
      return;
    }
    const handled = await route(recorded, reply, res);
    if (!handled) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `mock upstream: no route for ${recorded.method} ${recorded.path}` } }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return upstream;
}

/** Splits text into a few stream-sized pieces so translators see more than one delta. */
export function splitForStream(text: string, pieces = 3): string[] {
  if (text.length <= pieces) return [text];
  const size = Math.ceil(text.length / pieces);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

export function writeSseHeaders(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
}
