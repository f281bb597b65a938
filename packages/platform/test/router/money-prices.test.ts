// Every metered call carries its cost in integer nano-USD, each token kind at its own rate; a model
// with no known price is flagged, never free; admins override prices with `keyward price`.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costNanoUsd } from '../../src/usage/call-cost.js';
import { catalogueRates } from '../../src/usage/price-catalogue.js';
import { runKeyward } from '../support/cli.js';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
  await h.addKey('openai');
  await h.addKey('anthropic');
});
afterAll(() => h?.close());

const cliEnv = () => ({ KEYWARD_DATA_DIR: h.tp.config.dataDir, DATABASE_URL: h.tp.config.databaseUrl ?? '' });
const settle = () => new Promise((r) => setTimeout(r, 1500)); // the usage sink flushes about once a second

async function lastRecord(model: string) {
  return h.tp.platform.ctx.db.selectFrom('usage_records').selectAll().where('model', '=', model).orderBy('created_at', 'desc').executeTakeFirstOrThrow();
}

describe('cost of each call in the usage record', () => {
  it('OpenAI: cached input at its own rate, reasoning inside output', async () => {
    h.upstreams.openai.enqueue({ type: 'text', text: 'hi', usage: { input: 1200, cached: 1000, output: 300, reasoning: 200 } });
    await h.openai().chat.completions.create({ model: 'openai:gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    await settle();
    const row = await lastRecord('gpt-4o-mini');
    const expected = costNanoUsd(catalogueRates('openai', 'gpt-4o-mini')!, { input: 1200, output: 300, cachedInput: 1000, cacheWrite: 0 });
    expect(Number(row.cost_nano_usd)).toBe(expected);
    expect(row).toMatchObject({ cached_tokens: 1000, reasoning_tokens: 200, cache_write_tokens: 0, unpriced: 0 });
  });

  it('Anthropic: cache writes kept apart from input and priced at the cache-write rate', async () => {
    h.upstreams.anthropic.enqueue({ type: 'text', text: 'hi', usage: { input: 5000, cached: 1000, cacheWrite: 3000, output: 100 } });
    const message = await h.anthropic().messages.create({ model: 'anthropic:claude-3-5-haiku-latest', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
    expect(message.usage).toMatchObject({ input_tokens: 1000, cache_read_input_tokens: 1000, cache_creation_input_tokens: 3000 });
    await settle();
    const row = await lastRecord('claude-3-5-haiku-latest');
    expect(row).toMatchObject({ input_tokens: 5000, cached_tokens: 1000, cache_write_tokens: 3000, unpriced: 0 });
    const rates = catalogueRates('anthropic', 'claude-3-5-haiku-latest')!;
    expect(Number(row.cost_nano_usd)).toBe(costNanoUsd(rates, { input: 5000, output: 100, cachedInput: 1000, cacheWrite: 3000 }));
    // Priced as plain input, the same call would have cost less: the write premium is counted.
    expect(Number(row.cost_nano_usd)).toBeGreaterThan(costNanoUsd(rates, { input: 5000, output: 100, cachedInput: 1000, cacheWrite: 0 }));
  });

  it('a model with no known price is recorded as unpriced (cost null), then priced by an override', async () => {
    h.upstreams.openai.enqueue({ type: 'text', text: 'hi', usage: { input: 1000, output: 1000 } });
    await h.openai().chat.completions.create({ model: 'openai:ft-house-model-1', messages: [{ role: 'user', content: 'hi' }] });
    await settle();
    expect(await lastRecord('ft-house-model-1')).toMatchObject({ cost_nano_usd: null, unpriced: 1 });

    const set = await runKeyward(
      ['price', 'set', '--provider', 'openai', '--model', 'ft-house-model-1', '--input-usd-per-mtok', '2', '--output-usd-per-mtok', '8.5', '--cached-input-usd-per-mtok', '0.5', '--json'],
      cliEnv(),
    );
    expect(set.code).toBe(0);
    expect(set.json).toMatchObject({ provider: 'openai', model: 'ft-house-model-1', inputUsdPerMtok: '2', outputUsdPerMtok: '8.5', cachedInputUsdPerMtok: '0.5' });
    await settle(); // every instance reloads overrides from the change feed
    h.upstreams.openai.enqueue({ type: 'text', text: 'hi', usage: { input: 1000, cached: 500, output: 1000 } });
    await h.openai().chat.completions.create({ model: 'openai:ft-house-model-1', messages: [{ role: 'user', content: 'hi' }] });
    await settle();
    // 500 × $2 + 500 × $0.5 + 1000 × $8.5 per million = $0.00975
    expect(await lastRecord('ft-house-model-1')).toMatchObject({ unpriced: 0 });
    expect(Number((await lastRecord('ft-house-model-1')).cost_nano_usd)).toBe(9_750_000);

    const list = await runKeyward(['price', 'list', '--json'], cliEnv());
    expect(list.json.prices).toEqual([expect.objectContaining({ provider: 'openai', model: 'ft-house-model-1', outputUsdPerMtok: '8.5' })]);
  }, 60_000);

  it('"free" is a price: zero cost, not unpriced', async () => {
    const set = await runKeyward(['price', 'set', '--provider', 'openai', '--model', 'house-free', '--input-usd-per-mtok', '0', '--output-usd-per-mtok', '0', '--json'], cliEnv());
    expect(set.code).toBe(0);
    await settle();
    h.upstreams.openai.enqueue({ type: 'text', text: 'hi', usage: { input: 10, output: 10 } });
    await h.openai().chat.completions.create({ model: 'openai:house-free', messages: [{ role: 'user', content: 'hi' }] });
    await settle();
    expect(await lastRecord('house-free')).toMatchObject({ unpriced: 0 });
    expect(Number((await lastRecord('house-free')).cost_nano_usd)).toBe(0);
  }, 30_000);

  it('price set refuses a malformed price with a clear message', async () => {
    const r = await runKeyward(['price', 'set', '--provider', 'openai', '--model', 'x', '--input-usd-per-mtok', 'cheap', '--output-usd-per-mtok', '1', '--json'], cliEnv());
    expect(r.code).not.toBe(0);
    expect(r.json.error.message).toMatch(/USD per million tokens/);
  });

  it('usage summary rows carry costUsd, and unpriced calls are counted, not zero', async () => {
    const r = await runKeyward(['usage', 'summary', '--since', '1h', '--json'], cliEnv());
    expect(r.code).toBe(0);
    const ft = r.json.rows.find((row: { model: string }) => row.model === 'ft-house-model-1');
    expect(ft).toMatchObject({ costUsd: 0.00975, unpricedCalls: 1 });
    const mini = r.json.rows.find((row: { model: string }) => row.model === 'gpt-4o-mini');
    expect(mini.costUsd).toBeGreaterThan(0);
    const text = await runKeyward(['usage', 'summary', '--since', '1h'], cliEnv());
    expect(text.stdout).toMatch(/\$0\.00975 \+ 1 unpriced calls/);
  }, 30_000);
});

describe('the cost response header, for callers that ask', () => {
  const ask = { headers: { 'x-keyward-include-cost': 'true' } };

  it('answers carry no price unless asked', async () => {
    h.upstreams.openai.enqueue({ type: 'text', text: 'hi', usage: { input: 1000, output: 100 } });
    const { response } = await h.openai().chat.completions.create({ model: 'openai:gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(response.headers.get('x-keyward-cost-usd')).toBeNull();
  });

  it('OpenAI wire: the exact cost of the call, in USD', async () => {
    h.upstreams.openai.enqueue({ type: 'text', text: 'hi', usage: { input: 1000, output: 100 } });
    const { response } = await h.openai().chat.completions.create({ model: 'openai:gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, ask).withResponse();
    const nano = costNanoUsd(catalogueRates('openai', 'gpt-4o-mini')!, { input: 1000, output: 100, cachedInput: 0, cacheWrite: 0 });
    expect(response.headers.get('x-keyward-cost-usd')).toBe((nano / 1e9).toFixed(9).replace(/0+$/, ''));
  });

  it('Anthropic wire too; "unknown" for a model with no known price, never 0', async () => {
    h.upstreams.anthropic.enqueue({ type: 'text', text: 'hi', usage: { input: 50, output: 5 } });
    const priced = await h.anthropic().messages.create({ model: 'anthropic:claude-3-5-haiku-latest', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }, ask).withResponse();
    expect(Number(priced.response.headers.get('x-keyward-cost-usd'))).toBeGreaterThan(0);
    h.upstreams.openai.enqueue({ type: 'text', text: 'hi', usage: { input: 10, output: 10 } });
    const unpriced = await h.openai().chat.completions.create({ model: 'openai:nobody-prices-this', messages: [{ role: 'user', content: 'hi' }] }, ask).withResponse();
    expect(unpriced.response.headers.get('x-keyward-cost-usd')).toBe('unknown');
  });

  it('a stream has no cost header (its headers leave before its usage)', async () => {
    h.upstreams.openai.enqueue({ type: 'text', text: 'hi', usage: { input: 10, output: 10 } });
    const { data, response } = await h.openai().chat.completions.create({ model: 'openai:gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }, ask).withResponse();
    for await (const _ of data);
    expect(response.headers.get('x-keyward-cost-usd')).toBeNull();
  });
});
