import type { FastifyReply } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { UsageSink } from '../../usage/usage-sink.js';
import { UsageMeter } from '../metering.js';
import { sendAnswer } from './send-answer.js';

function setUp() {
  const order: string[] = [];
  const sink = { record: (record: { outcome: string }) => order.push(`recorded ${record.outcome}`) } as unknown as UsageSink;
  const meter = new UsageMeter(sink, undefined, 'req-1', 'chat', 'openai_chat');
  const reply = { send: (payload: unknown) => order.push(`sent ${JSON.stringify(payload)}`) } as unknown as FastifyReply;
  return { order, meter, reply };
}

describe('sendAnswer', () => {
  it('sends the answer, then finishes the meter', () => {
    const { order, meter, reply } = setUp();
    expect(sendAnswer(reply, meter, { ok: true })).toBe(reply);
    expect(order).toEqual(['sent {"ok":true}', 'recorded ok']);
    expect(meter.finished).toBe(true);
  });

  it('finishes the meter first when the cost header needs the finished record', () => {
    const { order, meter, reply } = setUp();
    meter.onFinished = () => order.push('cost header');
    sendAnswer(reply, meter, { ok: true });
    expect(order).toEqual(['cost header', 'recorded ok', 'sent {"ok":true}']);
  });

  it('leaves the meter to the error handler when sending throws', () => {
    const { meter } = setUp();
    const failing = {
      send: () => {
        throw new Error('cannot serialise');
      },
    } as unknown as FastifyReply;
    expect(() => sendAnswer(failing, meter, {})).toThrow('cannot serialise');
    expect(meter.finished).toBe(false);
  });
});
