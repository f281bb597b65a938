import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MalformedUpstreamResponse } from '../../providers/provider-adapter.js';
import { MAX_STREAM_EVENT_CHARS } from '../../providers/sse.js';
import { CallSignal } from '../../upstream/call-signal.js';
import { UpstreamClient, UpstreamFailure } from '../../upstream/upstream-client.js';
import { readUpstreamEvents } from './provider-call.js';

let server: Server;
let origin: string;
/** What the upstream sends for the next request: each piece in its own write, a pause between them. */
let pieces: Buffer[] = [];
/** Whether the upstream's last answer was cut off by the reader (its connection closed before the end). */
let cutOff: Promise<boolean> = Promise.resolve(false);
/** After its last piece the stream neither ends nor sends anything (the tests of a bound the reader must enforce). */
let holdOpen = false;
/** Whether the reader dropped a held-open stream at once: well before the client's own 5 s idle timeout would. */
const droppedAtOnce = () => Promise.race([cutOff, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2_000))]);
const client = new UpstreamClient({ connectMs: 2_000, idleMs: 5_000 });
/** No event for this long ends a read (the upstream timeout); the tests of that deadline set a shorter one. */
const EVENT_IDLE_MS = 5_000;

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    cutOff = new Promise((resolve) => res.on('close', () => resolve(!res.writableFinished)));
    const queue = [...pieces];
    const next = () => {
      if (res.destroyed) return;
      const piece = queue.shift();
      // Held open: only the reader can end it, so whether it dropped the body does not race the last write.
      if (!piece) return holdOpen ? undefined : res.end();
      res.write(piece);
      setTimeout(next, 15);
    };
    next();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await client.close();
  server.close();
});

async function eventsOf(sent: Buffer[], framing?: 'sse' | 'ndjson', eventIdleMs = EVENT_IDLE_MS, held = false): Promise<{ batches: string[][] }> {
  pieces = sent;
  holdOpen = held;
  const signal = new CallSignal();
  const response = await client.send({ method: 'POST', url: `${origin}/stream`, headers: {}, body: {} }, signal);
  const batches: string[][] = [];
  for await (const batch of readUpstreamEvents(response, signal, { framing, eventIdleMs })) batches.push(batch.map((event) => event.data));
  return { batches };
}

/** What reading `sent` threw (undefined if it read to the end), and how long that took. */
async function failureOf(sent: Buffer[], framing?: 'sse' | 'ndjson', eventIdleMs = EVENT_IDLE_MS, held = false): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  const error = await eventsOf(sent, framing, eventIdleMs, held).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  return { error, ms: performance.now() - started };
}

const MiB = 2 ** 20;
/** `count` pieces of `text` repeated to about 1 MiB each. */
const mebibytes = (count: number, text: string) => Array.from({ length: count }, () => Buffer.from(text.repeat(Math.ceil(MiB / text.length))));
/** Enough 1 MiB pieces to pass the bound by one. */
const PAST_THE_BOUND = MAX_STREAM_EVENT_CHARS / MiB + 1;

describe('readUpstreamEvents', () => {
  it('keeps a character whose bytes arrive in two reads whole (UTF-8 across a read boundary)', async () => {
    const text = Buffer.from('data: {"t":"naïve 🙂 ok"}\n\n', 'utf8');
    // Cut inside the emoji's four bytes and inside the ï's two.
    const emoji = text.indexOf(Buffer.from('🙂', 'utf8'));
    const diaeresis = text.indexOf(Buffer.from('ï', 'utf8'));
    const { batches } = await eventsOf([text.subarray(0, diaeresis + 1), text.subarray(diaeresis + 1, emoji + 2), text.subarray(emoji + 2)]);
    expect(batches.flat()).toEqual(['{"t":"naïve 🙂 ok"}']);
  });

  it('gives the first event alone, then one batch per read, and the last event even without its blank line', async () => {
    const { batches } = await eventsOf([Buffer.from('data: a\n\ndata: b\n\ndata: c\n\n'), Buffer.from('data: d\n\ndata: e\n\n'), Buffer.from('data: f')]);
    expect(batches).toEqual([['a'], ['b', 'c'], ['d', 'e'], ['f']]);
  });

  it('gives the first event alone when comments come before it or its blank line starts the next read', async () => {
    const comment = await eventsOf([Buffer.from(': keep-alive\n\ndata: a\n\ndata: b\n\n'), Buffer.from('data: c\n\ndata: d\n\n')]);
    expect(comment.batches).toEqual([['a'], ['b'], ['c', 'd']]);
    const split = await eventsOf([Buffer.from('data: a'), Buffer.from('\n\ndata: b\n\ndata: c\n\n')]);
    expect(split.batches).toEqual([['a'], ['b', 'c']]);
    const crlf = await eventsOf([Buffer.from('data: a\r\n\r\ndata: b\r\n\r\n')]);
    expect(crlf.batches).toEqual([['a', 'b']]);
  });

  it('a reader that stops at the first event of a finished answer ends the body without an error escaping', async () => {
    pieces = [Buffer.from('data: a\n\ndata: b\n\n')];
    const signal = new CallSignal();
    const response = await client.send({ method: 'POST', url: `${origin}/stream`, headers: {}, body: {} }, signal);
    // The whole answer arrives (undici is done with the request) before anything reads it.
    await new Promise((resolve) => setTimeout(resolve, 60));
    const seen: string[][] = [];
    for await (const batch of readUpstreamEvents(response, signal, { eventIdleMs: EVENT_IDLE_MS })) {
      seen.push(batch.map((event) => event.data));
      break;
    }
    expect(seen).toEqual([['a']]);
    expect(response.body.destroyed).toBe(true);
    // The body was destroyed before its 'end': undici's AbortError would surface now, unhandled.
    await new Promise((resolve) => setTimeout(resolve, 20));
  });

  it('reads newline-delimited JSON too, with a multi-byte character split across reads', async () => {
    const text = Buffer.from('{"a":"é"}\n{"b":2}', 'utf8');
    const at = text.indexOf(Buffer.from('é', 'utf8')) + 1;
    const { batches } = await eventsOf([text.subarray(0, at), text.subarray(at)], 'ndjson');
    expect(batches.flat()).toEqual(['{"a":"é"}', '{"b":2}']);
  });

  it('a byte sequence that is not UTF-8 becomes the replacement character, not an error', async () => {
    const { batches } = await eventsOf([Buffer.concat([Buffer.from('data: x'), Buffer.from([0xff]), Buffer.from('y\n\n')])]);
    expect(batches.flat()).toEqual(['x\ufffdy']);
  });

  it('an event whose line never ends is refused past MAX_STREAM_EVENT_CHARS, and the body is dropped', async () => {
    const { error } = await failureOf([Buffer.from('data: {"id":"'), ...mebibytes(PAST_THE_BOUND, 'a')], 'sse', EVENT_IDLE_MS, true);
    expect(error).toBeInstanceOf(MalformedUpstreamResponse);
    expect(String((error as Error).message)).toContain(`longer than ${MAX_STREAM_EVENT_CHARS / MiB} MiB`);
    expect(await droppedAtOnce()).toBe(true);
  });

  it('so is an event of `data:` lines whose blank line never comes, and an NDJSON line that never ends', async () => {
    const lines = await failureOf(mebibytes(PAST_THE_BOUND, `data: ${'a'.repeat(4090)}\n`), 'sse', EVENT_IDLE_MS, true);
    expect(lines.error).toBeInstanceOf(MalformedUpstreamResponse);
    expect(await droppedAtOnce()).toBe(true);
    const ndjson = await failureOf([Buffer.from('{"a":"'), ...mebibytes(PAST_THE_BOUND, 'a')], 'ndjson', EVENT_IDLE_MS, true);
    expect(ndjson.error).toBeInstanceOf(MalformedUpstreamResponse);
    expect(await droppedAtOnce()).toBe(true);
  });

  it('an event just under the bound, split over many reads, comes out whole', async () => {
    const size = MAX_STREAM_EVENT_CHARS - 64;
    const { batches } = await eventsOf([Buffer.from('data: '), Buffer.alloc(size / 2, 'b'), Buffer.alloc(size / 2, 'c'), Buffer.from('\n\ndata: next\n\n')]);
    expect(batches.flat().map((data) => data.length)).toEqual([size, 4]);
  });

  it('a stream of comments and no event ends as a timeout after eventIdleMs, however busy, and the body is dropped', async () => {
    const comments = Array.from({ length: 60 }, () => Buffer.from(': keep-alive\n\n'));
    const { error, ms } = await failureOf(comments, 'sse', 250);
    expect(error).toBeInstanceOf(UpstreamFailure);
    expect((error as UpstreamFailure).kind).toBe('timeout');
    expect(ms).toBeGreaterThanOrEqual(240);
    expect(ms).toBeLessThan(850);
    expect(await cutOff).toBe(true);
  });

  it('so does one after events have come, and a line trickling in that never ends', async () => {
    const afterEvents = await failureOf([Buffer.from('data: a\n\n'), ...Array.from({ length: 60 }, () => Buffer.from(': keep-alive\n\n'))], 'sse', 250);
    expect((afterEvents.error as UpstreamFailure).kind).toBe('timeout');
    const trickle = await failureOf([Buffer.from('data: '), ...Array.from({ length: 60 }, () => Buffer.from('a'))], 'sse', 250);
    expect((trickle.error as UpstreamFailure).kind).toBe('timeout');
  });

  it('each event starts the deadline over, and time the reader spends away does not count against the provider', async () => {
    // An event every 15 ms for 600 ms, comments between: well within a 200 ms deadline.
    const steady = Array.from({ length: 40 }, (_, i) => Buffer.from(i % 2 ? ': keep-alive\n\n' : `data: ${i}\n\n`));
    const { batches } = await eventsOf(steady, 'sse', 200);
    expect(batches.flat()).toHaveLength(20);

    // A reader that takes 400 ms over each of the first two batches (a slow caller): no timeout.
    pieces = [Buffer.from('data: a\n\n'), Buffer.from('data: b\n\n'), Buffer.from('data: c\n\n')];
    const signal = new CallSignal();
    const response = await client.send({ method: 'POST', url: `${origin}/stream`, headers: {}, body: {} }, signal);
    const seen: string[] = [];
    for await (const batch of readUpstreamEvents(response, signal, { eventIdleMs: 200 })) {
      seen.push(...batch.map((event) => event.data));
      if (seen.length < 3) await new Promise((resolve) => setTimeout(resolve, 400));
    }
    expect(seen).toEqual(['a', 'b', 'c']);
  });
});
