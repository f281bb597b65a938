// A whole (not streamed) answer, and the end of its metering. The answer leaves first and the meter
// finishes after it, so the usage record, the limits' settlement and the metrics are not on the
// answer's way out — unless the caller asked for the call's cost in a header, which is made from
// the finished record and so has to come first.

import type { FastifyReply } from 'fastify';
import type { UsageMeter } from '../metering.js';

export function sendAnswer(reply: FastifyReply, meter: UsageMeter, payload: unknown): FastifyReply {
  if (meter.onFinished) meter.finish(200, 'ok');
  // If sending throws, the scope's error handler finishes the meter with the error instead.
  reply.send(payload);
  meter.finish(200, 'ok');
  return reply;
}
