// The soak's callers, in their own process (forked by run-soak.ts): `concurrency` loops that call
// both instances until the run's end, streaming and not, on the OpenAI and Anthropic wires, asking
// the upstream for a fault, and aborting some calls. Every call has a client-side deadline; one
// that reaches it never ended. Answers the parent with one outcome per call.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { Fault } from './faulty-upstream.js';

export interface CallersJob {
  origins: string[];
  proxyId: string;
  token: string;
  durationMs: number;
  concurrency: number;
  deadlineMs: number;
  faults: { fault: Fault; weight: number }[];
  /** Each caller waits up to this long between two calls, as real callers do. */
  thinkMs: number;
}

export interface CallOutcome {
  requestId: string;
  instance: number;
  wire: 'openai' | 'anthropic';
  stream: boolean;
  fault: Fault;
  startedAt: number;
  endedAt: number;
  /** answered: a full answer was read (any status); aborted: by the caller on purpose. */
  kind: 'answered' | 'aborted' | 'connection-error' | 'never-ended';
  status: number | null;
  /** The error code (OpenAI) or type (Anthropic) of an error answer or of a stream's error event. */
  cause: string | null;
  streamError: boolean;
}

const pick = <T>(items: { weight: number }[] & T[]): T => {
  let r = Math.random() * items.reduce((sum, i) => sum + i.weight, 0);
  for (const item of items) if ((r -= item.weight) < 0) return item;
  return items[items.length - 1]!;
};

function errorCause(value: unknown): string | null {
  const error = (value as { error?: { code?: unknown; type?: unknown } } | null)?.error;
  if (!error || typeof error !== 'object') return null;
  return String(error.code ?? error.type ?? 'unknown');
}

function streamErrorCause(text: string): string | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith('data:')) continue;
    try {
      const cause = errorCause(JSON.parse(line.slice(5)));
      if (cause) return cause;
    } catch {
      // not JSON: the router's own lines always are, so keep looking
    }
  }
  return null;
}

let sequence = 0;
const runId = Date.now().toString(36);

// One undici pool per instance: far less work per call than fetch, so the callers' own event
// loop does not become the bottleneck that makes calls look slow.
let pools: Pool[] = [];

async function call(job: CallersJob): Promise<CallOutcome> {
  const instance = Math.floor(Math.random() * job.origins.length);
  const wire = Math.random() < 0.2 ? 'anthropic' : 'openai';
  const stream = Math.random() < 0.5;
  const { fault } = pick(job.faults);
  const requestId = `soak-${runId}-${++sequence}`;
  const abortAfter = Math.random() < 0.1 ? Math.random() * 1500 : undefined;
  const base = `/v1/model-router/${job.proxyId}`;
  const model = `openai:soak-${fault}`;
  const messages = [{ role: 'user', content: 'Say the pangram.' }];
  const [url, headers, body] =
    wire === 'openai'
      ? [`${base}/chat/completions`, { authorization: `Bearer ${job.token}` }, { model, messages, stream, ...(stream ? { stream_options: { include_usage: true } } : {}) }]
      : [`${base}/v1/messages`, { 'x-api-key': job.token, 'anthropic-version': '2023-06-01' }, { model, messages, stream, max_tokens: 64 }];

  const controller = new AbortController();
  let reason: 'caller' | 'deadline' | undefined;
  const deadline = setTimeout(() => {
    reason = 'deadline';
    controller.abort();
  }, job.deadlineMs);
  const abort = abortAfter === undefined ? undefined : setTimeout(() => {
    reason ??= 'caller';
    controller.abort();
  }, abortAfter);
  const startedAt = Date.now();
  const outcome = (o: Pick<CallOutcome, 'kind' | 'status' | 'cause' | 'streamError'>): CallOutcome => ({
    requestId,
    instance,
    wire,
    stream,
    fault,
    startedAt,
    endedAt: Date.now(),
    ...o,
  });
  let status: number | null = null;
  try {
    const response = await pools[instance]!.request({
      method: 'POST',
      path: url,
      headers: { 'content-type': 'application/json', 'x-request-id': requestId, ...headers },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    status = response.statusCode;
    const text = await response.body.text();
    if (status !== 200) {
      let cause: string | null = null;
      try {
        cause = errorCause(JSON.parse(text));
      } catch {
        cause = 'not-json';
      }
      return outcome({ kind: 'answered', status, cause, streamError: false });
    }
    const cause = stream ? streamErrorCause(text) : null;
    return outcome({ kind: 'answered', status, cause, streamError: cause !== null });
  } catch {
    if (reason === 'deadline') return outcome({ kind: 'never-ended', status, cause: null, streamError: false });
    if (reason === 'caller') return outcome({ kind: 'aborted', status, cause: null, streamError: false });
    return outcome({ kind: 'connection-error', status, cause: null, streamError: false });
  } finally {
    clearTimeout(deadline);
    if (abort) clearTimeout(abort);
  }
}

async function run(job: CallersJob): Promise<{ outcomes: CallOutcome[]; loopDelayMaxMs: number }> {
  pools = job.origins.map((origin) => new Pool(origin, { connections: job.concurrency }));
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  const outcomes: CallOutcome[] = [];
  const stopAt = Date.now() + job.durationMs;
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (Date.now() < stopAt) {
        const o = await call(job);
        outcomes.push(o);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * job.thinkMs));
      }
    }),
  );
  loopDelay.disable();
  await Promise.all(pools.map((pool) => pool.destroy()));
  return { outcomes, loopDelayMaxMs: Math.round(loopDelay.max / 1e6) };
}

process.once('message', (job: CallersJob) => {
  run(job).then(
    (result) => process.send?.(result, undefined, {}, () => process.exit(0)),
    (error: unknown) => process.send?.({ error: error instanceof Error ? error.message : String(error) }, undefined, {}, () => process.exit(1)),
  );
});
