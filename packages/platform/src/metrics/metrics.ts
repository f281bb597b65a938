// What operators scrape at GET /metrics: one process-wide prom-client registry. Per-call facts
// are observed once per call from its usage record (never per chunk); the other facts where they
// are known (auth refusals, key failovers, the usage queue, the change feed).

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const CALL_LABELS = ['route', 'provider', 'model', 'outcome'] as const;

const routerRequests = new Counter({
  name: 'keyward_router_requests_total',
  help: 'Model Router calls by route, provider, model and outcome (unauthenticated: refused at authentication).',
  labelNames: CALL_LABELS,
  registers: [metricsRegistry],
});
const routerDuration = new Histogram({
  name: 'keyward_router_request_duration_seconds',
  help: 'Model Router call duration, from the request to the last byte of the answer.',
  labelNames: CALL_LABELS,
  buckets: SECONDS,
  registers: [metricsRegistry],
});
const timeToFirstToken = new Histogram({
  name: 'keyward_router_time_to_first_token_seconds',
  help: 'From the request to the first generated token (streams and answers that carry one).',
  labelNames: ['route', 'provider', 'model'] as const,
  buckets: SECONDS,
  registers: [metricsRegistry],
});
const tokens = new Counter({
  name: 'keyward_router_tokens_total',
  help: 'Tokens reported by providers, by direction (input, output).',
  labelNames: ['provider', 'model', 'direction'] as const,
  registers: [metricsRegistry],
});
/** Whole nano-USD: a counter's double stays exact up to 2^53 of them (about 9 million USD) per series. */
const cost = new Counter({
  name: 'keyward_router_cost_nano_usd_total',
  help: 'What router calls cost at the prices in force, in nano-USD (1e9 = 1 USD, whole numbers). A call with no known price adds nothing here and counts in keyward_router_unpriced_calls_total.',
  labelNames: ['provider', 'model'] as const,
  registers: [metricsRegistry],
});
const unpricedCalls = new Counter({
  name: 'keyward_router_unpriced_calls_total',
  help: 'Router calls that used tokens of a model with no known price: their cost is not in keyward_router_cost_nano_usd_total.',
  labelNames: ['provider', 'model'] as const,
  registers: [metricsRegistry],
});
const keyFailovers = new Counter({
  name: 'keyward_router_key_failovers_total',
  help: 'Provider keys that failed with a retryable error, the call moving on to the next key.',
  labelNames: ['provider'] as const,
  registers: [metricsRegistry],
});
const keyCooldowns = new Counter({
  name: 'keyward_router_key_cooldowns_total',
  help: 'Provider keys rested after a 429, 5xx or timeout (skipped by the next calls until their rest is over).',
  labelNames: ['provider'] as const,
  registers: [metricsRegistry],
});
const upstreamResponse = new Histogram({
  name: 'keyward_upstream_response_seconds',
  help: "From sending a request to a provider to its response headers (per attempt, failover included): the provider's latency as Keyward sees it.",
  labelNames: ['provider'] as const,
  buckets: SECONDS,
  registers: [metricsRegistry],
});
type CacheName = 'access_token' | 'provider_keys';
/** Each cache's lookups, counted as plain numbers on the hot path and added to the counter when it is read. */
const cacheTallies = new Map<string, { labels: { cache: CacheName; result: 'hit' | 'miss' }; count: number }>();
new Counter({
  name: 'keyward_cache_lookups_total',
  help: 'Lookups in the router\'s in-memory caches by result (hit, miss); hit ratio = hit / (hit + miss).',
  labelNames: ['cache', 'result'] as const,
  registers: [metricsRegistry],
  collect() {
    for (const tally of cacheTallies.values()) {
      if (tally.count === 0) continue;
      this.inc(tally.labels, tally.count);
      tally.count = 0;
    }
  },
});
const usageDropped = new Counter({
  name: 'keyward_usage_records_dropped_total',
  help: 'Usage records dropped (queue full while the database was unreachable, or unwritten at shutdown).',
  registers: [metricsRegistry],
});
const logLinesDropped = new Counter({
  name: 'keyward_log_lines_dropped_total',
  help: 'Log lines dropped because stdout was not being read and the lines waiting for it reached their cap.',
  registers: [metricsRegistry],
});
const changeFeedLag = new Histogram({
  name: 'keyward_change_feed_lag_seconds',
  help: 'From a change being written to this process reading it from the change log.',
  buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
  registers: [metricsRegistry],
});

/** Queue-length readers of the usage sinks open in this process (one per platform). */
const usageQueues = new Set<() => number>();
new Gauge({
  name: 'keyward_usage_queue_depth',
  help: 'Usage records waiting to be written to the database.',
  registers: [metricsRegistry],
  collect() {
    let depth = 0;
    for (const read of usageQueues) depth += read();
    this.set(depth);
  },
});

/**
 * A caller chooses the model name, so a label per name would let anyone with a token grow every
 * router family without bound (a memory and scrape-size denial of service). A model gets its own
 * label once a provider has answered a call for it (`ok`: the provider knows the model), up to
 * this many provider and model pairs; other calls of a model not yet seen so are labelled `other`.
 */
const MAX_MODEL_LABELS = 500;
/** Longer names are cut: a permissive OpenAI-compatible server may accept any string as a model. */
const MAX_MODEL_LABEL_LENGTH = 128;
const modelLabels = new Set<string>();
function modelLabel(provider: string, model: string | null, ok: boolean): string {
  if (model === null) return '';
  const label = model.slice(0, MAX_MODEL_LABEL_LENGTH);
  const pair = `${provider}\u0000${label}`;
  if (modelLabels.has(pair)) return label;
  if (!ok || modelLabels.size >= MAX_MODEL_LABELS) return 'other';
  modelLabels.add(pair);
  return label;
}

/** The facts of one finished call the metrics read (a usage record has them all). */
export interface CallFacts {
  endpoint: string;
  provider: string | null;
  model: string | null;
  outcome: string;
  latencyMs: number;
  timeToFirstTokenMs: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  costNanoUsd: number | null;
  unpriced: boolean;
}

/**
 * Per-call observations wait for the end of the event loop's turn (or a scrape, whichever comes
 * first), so the label lookups run after the answer is written instead of before it.
 */
let pendingCalls: CallFacts[] = [];
let pendingUpstream: Array<{ provider: string; seconds: number }> = [];
let flushScheduled = false;

function scheduleFlush(): void {
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(flushObservations);
}

/** Observes what waits; GET /metrics calls it before reading the registry. */
export function flushObservations(): void {
  flushScheduled = false;
  const calls = pendingCalls;
  const upstream = pendingUpstream;
  pendingCalls = [];
  pendingUpstream = [];
  for (const record of calls) observeCallNow(record);
  for (const { provider, seconds } of upstream) upstreamResponse.observe({ provider }, seconds);
}

/** One observation per metered call (counted at once in the flush that follows). */
export function observeCall(record: CallFacts): void {
  pendingCalls.push(record);
  scheduleFlush();
}

function observeCallNow(record: CallFacts): void {
  const provider = record.provider ?? '';
  const model = modelLabel(provider, record.model, record.outcome === 'ok');
  const labels = { route: record.endpoint, provider, model, outcome: record.outcome };
  routerRequests.inc(labels);
  routerDuration.observe(labels, record.latencyMs / 1000);
  if (record.timeToFirstTokenMs !== null) timeToFirstToken.observe({ route: record.endpoint, provider, model }, record.timeToFirstTokenMs / 1000);
  if (record.inputTokens) tokens.inc({ provider, model, direction: 'input' }, record.inputTokens);
  if (record.outputTokens) tokens.inc({ provider, model, direction: 'output' }, record.outputTokens);
  if (record.costNanoUsd) cost.inc({ provider, model }, record.costNanoUsd);
  if (record.unpriced) unpricedCalls.inc({ provider, model });
}

/** A router call refused before its caller was known (no usage record is made for it). */
export function observeRefusedAtAuthentication(route: string): void {
  routerRequests.inc({ route, provider: '', model: '', outcome: 'unauthenticated' });
}

export function observeKeyFailover(provider: string): void {
  keyFailovers.inc({ provider });
}

export function observeUsageDropped(count: number): void {
  usageDropped.inc(count);
}

export function observeLogLineDropped(): void {
  logLinesDropped.inc();
}

/** Registers a usage queue's length reader; returns the function that removes it (on close). */
export function trackUsageQueue(read: () => number): () => void {
  usageQueues.add(read);
  return () => usageQueues.delete(read);
}

export function observeChangeFeedLag(writtenAt: number): void {
  changeFeedLag.observe(Math.max(0, Date.now() - writtenAt) / 1000);
}

export function observeKeyCooldown(provider: string): void {
  keyCooldowns.inc({ provider });
}

export function observeUpstreamResponse(provider: string, seconds: number): void {
  pendingUpstream.push({ provider, seconds });
  scheduleFlush();
}

/**
 * The hit and miss counts of one cache: a lookup adds one to a number (prom-client would hash and
 * check the labels on every increment); a scrape adds what was counted to the counter.
 */
export function cacheCounters(cache: CacheName): { hit(): void; miss(): void } {
  const tally = (result: 'hit' | 'miss') => {
    const key = `${cache} ${result}`;
    let found = cacheTallies.get(key);
    if (!found) cacheTallies.set(key, (found = { labels: { cache, result }, count: 0 }));
    return found;
  };
  const hits = tally('hit');
  const misses = tally('miss');
  return {
    hit: () => {
      hits.count += 1;
    },
    miss: () => {
      misses.count += 1;
    },
  };
}
