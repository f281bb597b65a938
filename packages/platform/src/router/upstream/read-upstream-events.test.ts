import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallSignal } from '../../upstream/call-signal.js';
import { UpstreamClient } from '../../upstream/upstream-client.js';
import { readUpstreamEvents } from './provider-call.js';

let server: Server;
let origin: string;
/** What the upstream sends for the next request: each piece in its own write, a pause between them. */
let pieces: Buffer[] = [];
const client = new UpstreamClient({ connectMs: 2_000, idleMs: 5_000 });

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const queue = [...pieces];
    const next = () => {
      const piece = queue.shift();
      if (!piece) return res.end();
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

async function eventsOf(sent: Buffer[], framing?: 'sse' | 'ndjson'): Promise<{ batches: string[][] }> {
  pieces = sent;
  const signal = new CallSignal();
  const response = await client.send({ method: 'POST', url: `${origin}/stream`, headers: {}, body: {} }, signal);
  const batches: string[][] = [];
  for await (const batch of readUpstreamEvents(response, signal, framing)) batches.push(batch.map((event) => event.data));
  return { batches };
}

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
    for await (const batch of readUpstreamEvents(response, signal)) {
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
});
