// GET /metrics: Prometheus text, counters that move when router calls happen (refused ones
// too), and KEYWARD_METRICS_TOKEN guarding it when set.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costNanoUsd } from '../../src/usage/call-cost.js';
import { catalogueRates } from '../../src/usage/price-catalogue.js';
import { startRouterHarness, type RouterHarness } from '../router/support/router-harness.js';

/** The value of one series in a Prometheus text exposition (0 when absent). */
function valueOf(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const [series, value] = [line.slice(0, line.lastIndexOf(' ')), line.slice(line.lastIndexOf(' ') + 1)];
    if (Object.entries(labels).every(([k, v]) => series.includes(`${k}="${v}"`))) return Number(value);
  }
  return 0;
}

async function scrape(h: RouterHarness, token?: string): Promise<Response> {
  return fetch(`${h.tp.url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
}

async function waitFor(read: () => Promise<number>, atLeast: number): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const value = await read();
    if (value >= atLeast) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  return read();
}

const chat = { model: 'openai:gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }] };

describe('GET /metrics without KEYWARD_METRICS_TOKEN', () => {
  let h: RouterHarness;
  beforeAll(async () => {
    h = await startRouterHarness();
    await h.addKey('openai', { primary: true });
    await h.addKey('openai', { primary: true });
  });
  afterAll(() => h?.close());
  const metrics = async () => (await scrape(h)).text();

  it('answers Prometheus text with process metrics and the router, usage and change-feed families', async () => {
    const response = await scrape(h);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    for (const name of [
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
      'keyward_router_requests_total',
      'keyward_router_request_duration_seconds',
      'keyward_router_time_to_first_token_seconds',
      'keyward_router_tokens_total',
      'keyward_router_cost_nano_usd_total',
      'keyward_router_unpriced_calls_total',
      'keyward_router_key_failovers_total',
      'keyward_router_key_cooldowns_total',
      'keyward_upstream_response_seconds',
      'keyward_cache_lookups_total',
      'keyward_usage_queue_depth',
      'keyward_usage_records_dropped_total',
      'keyward_log_lines_dropped_total',
      'keyward_change_feed_lag_seconds',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('counts a call by route, provider, model and outcome, with its duration, tokens and time to first token', async () => {
    const ok = { route: 'chat', provider: 'openai', model: 'gpt-4o-mini', outcome: 'ok' };
    const before = await metrics();
    await h.openai().chat.completions.create(chat);
    const stream = await h.openai().chat.completions.create({ ...chat, stream: true, stream_options: { include_usage: true } });
    for await (const _ of stream);
    const requests = valueOf(before, 'keyward_router_requests_total', ok);
    const after = await (async () => {
      await waitFor(async () => valueOf(await metrics(), 'keyward_router_requests_total', ok), requests + 2);
      return metrics();
    })();
    expect(valueOf(after, 'keyward_router_requests_total', ok)).toBe(requests + 2);
    expect(valueOf(after, 'keyward_router_request_duration_seconds_count', ok)).toBe(valueOf(before, 'keyward_router_request_duration_seconds_count', ok) + 2);
    const ttft = { route: 'chat', provider: 'openai', model: 'gpt-4o-mini' };
    expect(valueOf(after, 'keyward_router_time_to_first_token_seconds_count', ttft)).toBeGreaterThan(valueOf(before, 'keyward_router_time_to_first_token_seconds_count', ttft));
    for (const direction of ['input', 'output']) {
      const labels = { provider: 'openai', model: 'gpt-4o-mini', direction };
      expect(valueOf(after, 'keyward_router_tokens_total', labels)).toBeGreaterThan(valueOf(before, 'keyward_router_tokens_total', labels));
    }
  });

  it("adds each call's cost in nano-USD, and counts the calls of a model with no known price", async () => {
    const priced = { provider: 'openai', model: 'gpt-4o-mini' };
    const unknown = { provider: 'openai', model: 'metrics-unpriced-model' };
    const before = await metrics();
    h.upstreams.openai.enqueue({ type: 'text', text: 'hi', usage: { input: 1200, cached: 1000, output: 300, reasoning: 0 } });
    await h.openai().chat.completions.create(chat);
    h.upstreams.openai.enqueue({ type: 'text', text: 'hi', usage: { input: 10, output: 5 } });
    await h.openai().chat.completions.create({ ...chat, model: 'openai:metrics-unpriced-model' });
    const after = await metrics();
    const rates = catalogueRates('openai', 'gpt-4o-mini')!;
    const expected = costNanoUsd(rates, { input: 1200, cachedInput: 1000, cacheWrite: 0, output: 300 });
    expect(expected).toBeGreaterThan(0);
    expect(valueOf(after, 'keyward_router_cost_nano_usd_total', priced) - valueOf(before, 'keyward_router_cost_nano_usd_total', priced)).toBe(expected);
    expect(valueOf(after, 'keyward_router_unpriced_calls_total', unknown)).toBe(valueOf(before, 'keyward_router_unpriced_calls_total', unknown) + 1);
    expect(valueOf(after, 'keyward_router_cost_nano_usd_total', unknown)).toBe(0);
    expect(valueOf(after, 'keyward_router_unpriced_calls_total', priced)).toBe(valueOf(before, 'keyward_router_unpriced_calls_total', priced));
  });

  it('a model name only a caller vouches for is labelled other: made-up names cannot grow the series', async () => {
    const before = await metrics();
    const names = Array.from({ length: 30 }, (_, i) => `made-up-model-${i}-${Date.now()}`);
    for (const name of names) {
      // No key for that provider (refused before any call), or the provider does not know the model.
      await h.openai().chat.completions.create({ ...chat, model: `anthropic:${name}` }).catch(() => undefined);
      h.upstreams.openai.enqueue({ type: 'error', status: 404 });
      await h.openai().chat.completions.create({ ...chat, model: `openai:${name}` }).catch(() => undefined);
    }
    const after = await metrics();
    for (const name of names) expect(after).not.toContain(name);
    const series = (text: string) => text.split('\n').filter((line) => line.startsWith('keyward_router_requests_total{')).length;
    expect(series(after) - series(before)).toBeLessThanOrEqual(4);
    expect(valueOf(after, 'keyward_router_requests_total', { provider: 'openai', model: 'other', outcome: 'upstream_error' })).toBeGreaterThanOrEqual(30);
    // A model a provider has answered for keeps its name, whatever its later calls' outcome.
    h.upstreams.openai.enqueue({ type: 'error', status: 404 });
    await h.openai().chat.completions.create(chat).catch(() => undefined);
    const known = { route: 'chat', provider: 'openai', model: 'gpt-4o-mini', outcome: 'upstream_error' };
    expect(valueOf(await metrics(), 'keyward_router_requests_total', known)).toBe(valueOf(after, 'keyward_router_requests_total', known) + 1);
  });

  it('counts a call refused at authentication, and a key failover', async () => {
    const refused = { route: 'chat', outcome: 'unauthenticated' };
    const before = await metrics();
    const error: any = await h.openai('not-a-token').chat.completions.create(chat).catch((e) => e);
    expect(error.status).toBe(401);
    h.upstreams.openai.enqueue({ type: 'error', status: 429 });
    await h.openai().chat.completions.create(chat);
    const after = await metrics();
    expect(valueOf(after, 'keyward_router_requests_total', refused)).toBe(valueOf(before, 'keyward_router_requests_total', refused) + 1);
    expect(valueOf(after, 'keyward_router_key_failovers_total', { provider: 'openai' })).toBe(valueOf(before, 'keyward_router_key_failovers_total', { provider: 'openai' }) + 1);
    // The key that answered 429 is rested; both attempts' upstream latency is observed.
    expect(valueOf(after, 'keyward_router_key_cooldowns_total', { provider: 'openai' })).toBe(valueOf(before, 'keyward_router_key_cooldowns_total', { provider: 'openai' }) + 1);
    expect(valueOf(after, 'keyward_upstream_response_seconds_count', { provider: 'openai' })).toBe(valueOf(before, 'keyward_upstream_response_seconds_count', { provider: 'openai' }) + 2);
  });

  it("counts the router caches' hits and misses: a token and an organization's keys seen before are hits", async () => {
    await h.openai().chat.completions.create(chat);
    const before = await metrics();
    await h.openai().chat.completions.create(chat);
    const after = await metrics();
    for (const cache of ['access_token', 'provider_keys']) {
      const hits = (text: string) => valueOf(text, 'keyward_cache_lookups_total', { cache, result: 'hit' });
      const misses = (text: string) => valueOf(text, 'keyward_cache_lookups_total', { cache, result: 'miss' });
      expect(hits(after)).toBe(hits(before) + 1);
      expect(misses(after)).toBe(misses(before));
    }
  });
});

describe('GET /metrics with KEYWARD_METRICS_TOKEN', () => {
  let h: RouterHarness;
  const token = 'metrics-token-0123456789';
  beforeAll(async () => {
    h = await startRouterHarness({ KEYWARD_METRICS_TOKEN: token });
  });
  afterAll(() => h?.close());

  it('refuses a scrape without the token or with another one, and answers with it', async () => {
    expect((await scrape(h)).status).toBe(401);
    expect((await scrape(h, 'metrics-token-wrong')).status).toBe(401);
    const ok = await scrape(h, token);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('keyward_router_requests_total');
  });
});
