// The call's cost in a response header, only for callers that ask (`X-Keyward-Include-Cost: true`):
// answers carry no price otherwise. Known when the answer is complete, so only answers that are not
// streamed get it (a stream's headers leave before its usage arrives; its usage is in the last chunk).

import type { FastifyReply, FastifyRequest } from 'fastify';
import { nanoUsdToString } from '../../usage/call-cost.js';
import type { UsageMeter } from '../metering.js';

export const INCLUDE_COST_HEADER = 'x-keyward-include-cost';
export const COST_HEADER = 'x-keyward-cost-usd';

export function offerCostHeader(request: FastifyRequest, reply: FastifyReply, meter: UsageMeter): void {
  const asked = request.headers[INCLUDE_COST_HEADER];
  if (asked !== 'true' && asked !== '1') return;
  meter.onFinished = (record) => {
    if (reply.raw.headersSent) return;
    // "unknown": no price is known for the model, or an answer came without its usage (its limits
    // were charged what it was allowed); never reported as 0. A call refused or failed costs 0.
    const unknown = record.unpriced || record.outcome === 'ok';
    reply.header(COST_HEADER, record.costNanoUsd !== null ? nanoUsdToString(record.costNanoUsd) : unknown ? 'unknown' : '0');
  };
}
