// The caller's side of a stream: what is written in the same turn of the event loop leaves in one
// socket write (the first one with the status line and headers), and the end carries whatever is
// still waiting. (Sending the first event alone was measured twice and cost more than it gave:
// docs/performance.md.)

import { EventEmitter } from 'node:events';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { SseWriter } from '../../src/router/http/sse-writer.js';

class FakeResponse extends EventEmitter {
  destroyed = false;
  writableEnded = false;
  head: { status: number; headers: Record<string, string> } | undefined;
  writes: string[] = [];
  ended: string | undefined;
  writeHead(status: number, headers: Record<string, string>) {
    this.head = { status, headers };
  }
  write(text: string) {
    this.writes.push(text);
    return true;
  }
  end(text?: string) {
    this.writableEnded = true;
    this.ended = text ?? '';
  }
}

function writer() {
  const raw = new FakeResponse();
  let hijacked = false;
  const reply = { raw, hijack: () => void (hijacked = true) } as unknown as FastifyReply;
  const request = { id: 'req-1' } as unknown as FastifyRequest;
  return { raw, writer: new SseWriter(request, reply), hijacked: () => hijacked };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('SseWriter', () => {
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
