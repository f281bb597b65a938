// Per-call metrics are observed after the answer is written (at the end of the event loop's turn),
// and a scrape never misses one that is still waiting.

import { describe, expect, it } from 'vitest';
import { flushObservations, metricsRegistry, observeCall, observeUpstreamResponse } from '../../src/metrics/metrics.js';

const call = { endpoint: 'chat', provider: 'openai', model: 'deferred-test', outcome: 'ok', latencyMs: 5, timeToFirstTokenMs: null, inputTokens: 3, outputTokens: 2, costNanoUsd: 1500, unpriced: false };

async function valueOf(name: string, labels: Record<string, string>, sample = name): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric(name)!.get();
  const entry = metric.values.find(
    (value) => ((value as { metricName?: string }).metricName ?? name) === sample && Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted),
  );
  return entry?.value ?? 0;
}

const requests = () => valueOf('keyward_router_requests_total', { model: 'deferred-test', outcome: 'ok' });
const upstreamCount = () => valueOf('keyward_upstream_response_seconds', { provider: 'deferred-provider' }, 'keyward_upstream_response_seconds_count');

describe('deferred per-call observations', () => {
  it('wait for the end of the turn, then count once', async () => {
    observeCall(call);
    observeUpstreamResponse('deferred-provider', 0.01);
    expect(await requests()).toBe(0);
    expect(await upstreamCount()).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await requests()).toBe(1);
    expect(await upstreamCount()).toBe(1);
    expect(await valueOf('keyward_router_tokens_total', { model: 'deferred-test', direction: 'input' })).toBe(3);
    expect(await valueOf('keyward_router_cost_nano_usd_total', { model: 'deferred-test' })).toBe(1500);
  });

  it('are observed at once when a scrape asks (flushObservations), and not again later', async () => {
    const before = await requests();
    observeCall(call);
    flushObservations();
    expect(await requests()).toBe(before + 1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await requests()).toBe(before + 1);
  });
});
