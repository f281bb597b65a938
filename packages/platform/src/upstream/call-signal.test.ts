import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallSignal } from './call-signal.js';
import { UpstreamClient, UpstreamFailure } from './upstream-client.js';

let server: Server;
let origin: string;
/** Resolves when the upstream sees the request's connection close. */
const closed: Record<string, () => void> = {};
const client = new UpstreamClient({ connectMs: 2_000, idleMs: 5_000 });

beforeAll(async () => {
  server = createServer((req, res) => {
    req.socket.on('close', () => closed[req.url!]?.());
    // /hang never answers; /drip sends its head and a first piece, then nothing; /ok answers whole.
    if (req.url === '/drip') res.writeHead(200, { 'content-type': 'text/event-stream' }).write('data: {}\n\n');
    if (req.url === '/ok') res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await client.close();
  server.close();
});

const seenClosed = (path: string) => new Promise<void>((resolve) => (closed[path] = resolve));

describe('CallSignal', () => {
  it('trips once: listeners run on the first abort, with an AbortError as the reason', () => {
    const signal = new CallSignal();
    let heard = 0;
    signal.once('abort', () => (heard += 1));
    expect(signal.aborted).toBe(false);
    signal.abort();
    signal.abort();
    expect(heard).toBe(1);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toMatchObject({ name: 'AbortError' });
  });

  it('cancels an upstream request still waiting for its answer: the send fails as aborted, the upstream sees the connection close', async () => {
    const signal = new CallSignal();
    const upstreamClosed = seenClosed('/hang');
    const sending = client.send({ method: 'POST', url: `${origin}/hang`, headers: {}, body: { a: 1 } }, signal);
    setTimeout(() => signal.abort(), 50);
    const error = await sending.then(() => undefined, (e) => e);
    expect(error).toBeInstanceOf(UpstreamFailure);
    expect(error.kind).toBe('aborted');
    await upstreamClosed;
    expect(signal.listenerCount('abort')).toBe(0);
  });

  it('cancels the body of an answer being read, and leaves no listener behind', async () => {
    const signal = new CallSignal();
    const upstreamClosed = seenClosed('/drip');
    const answer = await client.send({ method: 'POST', url: `${origin}/drip`, headers: {}, body: {} }, signal);
    expect(answer.status).toBe(200);
    const reading = (async () => {
      for await (const _ of answer.body) signal.abort();
    })();
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
    await upstreamClosed;
    expect(signal.listenerCount('abort')).toBe(0);
  });

  it('an answer read to its end leaves no listener on the signal, and a later abort changes nothing', async () => {
    const signal = new CallSignal();
    const answer = await client.send({ method: 'POST', url: `${origin}/ok`, headers: {}, body: {} }, signal);
    expect(await answer.body.text()).toBe('{"ok":true}');
    // undici lets go of the signal when the body closes, just after its end.
    if (!answer.body.closed) await new Promise((resolve) => answer.body.once('close', resolve));
    expect(signal.listenerCount('abort')).toBe(0);
    signal.abort();
    expect(signal.aborted).toBe(true);
  });

  it('an already tripped signal sends nothing', async () => {
    const signal = new CallSignal();
    signal.abort();
    const error = await client.send({ method: 'POST', url: `${origin}/hang`, headers: {}, body: {} }, signal).then(() => undefined, (e) => e);
    expect(error).toBeInstanceOf(UpstreamFailure);
    expect(error.kind).toBe('aborted');
  });
});
