// Step 2's last check, once the model and keys are known: the spending and rate limits that bind
// this caller. Refusals become 402 budget_exceeded / 429 rate_limit_exceeded; an admitted call's
// reservation is settled by the meter when the call ends, however it ends.

import { LimitRefusal, type Admission, type CallEstimate } from '../../limits/limit-guard.js';
import type { RouterCaller } from './authorize-proxy.js';
import type { UsageMeter } from '../metering.js';
import type { RouterContext } from '../router-context.js';
import { RouterError } from '../router-error.js';
import type { UsageRecord } from '../../usage/usage-record.js';

/**
 * What a call's provider may have billed beyond its usage report. A stream the provider had
 * opened (the caller got its 200) that ended any other way than complete — the client leaving
 * before the final usage event, a timeout, a provider error mid-answer — may have produced output
 * up to its cap, as may an answer that came without usage: charged the whole reservation, or a
 * client could read an answer and leave just before its usage to have it free. So is a
 * non-streamed call the provider was sent that ended unanswered — the client leaving, a timeout,
 * or Keyward ending it (access taken away, shutdown): a provider may finish an answer whose
 * connection closed (no provider documents that it stops), and otherwise a client could spend
 * past its limit by leaving each call before its answer. A stream stopped before the provider
 * opened it stops the generation with its connection, and may have had its prompt read: charged
 * the input estimate. A call no connection carried to the provider (its address lookup, connect
 * or a pooled connection still awaited), or that the provider refused with an error, cost nothing
 * there: charged nothing.
 */
function unreportedCost(record: UsageRecord, reachedProvider: boolean): 'reservation' | 'input' | 'none' {
  if (record.keyId === null) return 'none';
  if (record.stream && record.status === 200 && record.outcome !== 'ok') return 'reservation';
  const unreported = record.inputTokens === null && record.outputTokens === null;
  if (record.outcome === 'ok' && unreported) return 'reservation';
  if (record.outcome === 'upstream_error' || !reachedProvider) return 'none';
  return !record.stream && unreported ? 'reservation' : 'input';
}

/** What Keyward changed in the request to keep it within its limits: each set only when lowered or set. */
export type CallBounds = Pick<Admission, 'maxOutputTokens' | 'webSearchUses'>;

const UNBOUNDED: CallBounds = Object.freeze({ maxOutputTokens: undefined, webSearchUses: undefined });

/** Returns the output-token limit and web search uses Keyward chose for the call, where it lowered or set them. */
export async function admitCall(router: RouterContext, caller: RouterCaller, meter: UsageMeter, estimate: CallEstimate): Promise<CallBounds> {
  const principal = caller.principal;
  let admission;
  try {
    admission = await router.limits.admit(
      {
        organizationId: caller.organizationId,
        principalKind: principal.kind,
        userId: principal.kind === 'user' ? principal.userId : null,
        clientId: principal.clientId,
        proxyId: caller.proxy.id,
        teamIds: async () => (principal.kind === 'user' ? (await router.directory.userAccess(principal.userId)).teamIds : new Set()),
      },
      estimate,
    );
  } catch (error) {
    if (!(error instanceof LimitRefusal)) throw error;
    if (error.kind === 'rate') {
      throw new RouterError(429, 'rate_limit_error', error.message, 'rate_limit_exceeded').withHeader('retry-after', String(error.retryAfterSeconds ?? 60));
    }
    throw new RouterError(402, 'insufficient_quota', error.message, 'budget_exceeded');
  }
  if (!admission) return UNBOUNDED;
  meter.settlement = (record) =>
    admission.settle({
      costNanoUsd: record.costNanoUsd,
      inputTokens: record.inputTokens,
      outputTokens: record.outputTokens,
      unreported: unreportedCost(record, meter.reachedProvider),
    });
  return admission;
}
