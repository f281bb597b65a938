// The caller's side of a stream: under load, what is written in the same turn of the event loop
// leaves in one socket write (the first one with the status line and headers), and the end
// carries whatever is still waiting; a lone call's first event leaves at once (docs/performance.md
// has the measurements behind both).

import { EventEmitter } from 'node:events';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callsInFlight, countCall } from '../../src/router/http/calls-in-flight.js';
import { SseWriter } from '../../src/router/http/sse-writer.js';

/** A socket that, like Node's, a response corks on its first write until the next tick. */
class FakeSocket {
  writableCorked = 0;
  uncork() {
    if (this.writableCorked) this.writableCorked -= 1;
  }
}

class FakeResponse extends EventEmitter {
  destroyed = false;
  writableEnded = false;
  head: { status: number; headers: Record<string, string> } | undefined;
  writes: string[] = [];
  ended: string | undefined;
  socket = new FakeSocket();
  writeHead(status: number, headers: Record<string, string>) {
    this.head = { status, headers };
  }
  write(text: string) {
    if (!this.socket.writableCorked) {
      this.socket.writableCorked += 1;
      process.nextTick(() => this.socket.uncork());
    }
    this.writes.push(text);
    return true;
  }
  end(text?: string) {
    this.writableEnded = true;
    this.ended = text ?? '';
  }
}

/** Responses of the test's calls, closed after each test so the count starts at zero. */
const responses: FakeResponse[] = [];
afterEach(() => {
  for (const response of responses.splice(0)) response.emit('close');
});

/** A call's writer; the call is counted in flight, as the router's first hook counts it. */
function writer() {
  const raw = new FakeResponse();
  responses.push(raw);
  countCall(raw as unknown as ServerResponse);
  let hijacked = false;
  const reply = { raw, hijack: () => void (hijacked = true) } as unknown as FastifyReply;
  const request = { id: 'req-1' } as unknown as FastifyRequest;
  return { raw, writer: new SseWriter(request, reply), hijacked: () => hijacked };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** Another call in flight in this process. */
function otherCall() {
  const response = new FakeResponse();
  responses.push(response);
  countCall(response as unknown as ServerResponse);
}

describe('SseWriter, a lone call', () => {
  it("sends the first event at once, uncorking the socket Node corked; the rest of the turn's events go together", async () => {
    const { raw, writer: w } = writer();
    expect(callsInFlight()).toBe(1);
    await w.write('data: 1\n\n');
    expect(raw.head).toMatchObject({ status: 200 });
    expect(raw.writes).toEqual(['data: 1\n\n']);
    expect(raw.socket.writableCorked).toBe(0);
    await w.write('data: 2\n\n');
    await w.write('data: 3\n\n');
    expect(raw.writes).toEqual(['data: 1\n\n']);
    await nextTurn();
    expect(raw.writes).toEqual(['data: 1\n\n', 'data: 2\n\ndata: 3\n\n']);
  });

  it('counts calls until their response closes', () => {
    otherCall();
    otherCall();
    expect(callsInFlight()).toBe(2);
    for (const response of responses.splice(0)) response.emit('close');
    expect(callsInFlight()).toBe(0);
    const gone = new FakeResponse();
    gone.destroyed = true;
    countCall(gone as unknown as ServerResponse);
    expect(callsInFlight()).toBe(0);
  });
});

describe('SseWriter, other calls in flight', () => {
  beforeEach(() => otherCall());

  it('opens with the first write, and sends the writes of one turn as one', async () => {
    const { raw, writer: w, hijacked } = writer();
    await w.write('data: 1\n\n');
    await w.write('data: 2\n\n');
    expect(hijacked()).toBe(true);
    expect(raw.head).toMatchObject({ status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8', 'x-request-id': 'req-1' } });
    expect(raw.writes).toEqual([]);
    await nextTurn();
    expect(raw.writes).toEqual(['data: 1\n\ndata: 2\n\n']);
    await w.write('data: 3\n\n');
    await nextTurn();
    expect(raw.writes).toEqual(['data: 1\n\ndata: 2\n\n', 'data: 3\n\n']);
  });

  it('ends with what is still waiting, in the same write as the end', async () => {
    const { raw, writer: w } = writer();
    await w.write('data: 1\n\n');
    await w.write('data: 2\n\n');
    await w.write('data: [DONE]\n\n');
    w.end();
    expect(raw.writes).toEqual([]);
    expect(raw.ended).toBe('data: 1\n\ndata: 2\n\ndata: [DONE]\n\n');
    await nextTurn();
    expect(raw.writes).toEqual([]);
  });

  it('an empty piece opens nothing', async () => {
    const { raw, writer: w } = writer();
    await w.write('');
    expect(raw.head).toBeUndefined();
    await nextTurn();
    expect(raw.writes).toEqual([]);
  });

  it('a full socket buffer makes the next write wait for drain; a client that leaves fails it', async () => {
    const { raw, writer: w } = writer();
    raw.write = (text: string) => {
      raw.writes.push(text);
      return false;
    };
    await w.write('data: 1\n\n');
    await nextTurn();
    let second = false;
    const waiting = w.write('data: 2\n\n').then(() => (second = true));
    await nextTurn();
    expect(second).toBe(false);
    raw.emit('drain');
    await waiting;
    expect(second).toBe(true);
    await nextTurn();
    const third = w.write('data: 3\n\n').then(() => 'written', (error: Error) => error.name);
    raw.emit('close');
    expect(await third).toBe('ClientGoneError');
  });
});
