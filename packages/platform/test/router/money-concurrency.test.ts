// Budgets hold under concurrency: 20 instances leasing slices of one limit at once never lease
// more than the limit, and 50 callers spread over two instances sharing PostgreSQL (one instance
// on SQLite) spend no more than the limit plus the stated overshoot bound.

import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BudgetLedger } from '../../src/limits/budget-ledger.js';
import { runKeyward } from '../support/cli.js';
import { startTestPlatform, testEngine, type TestPlatform } from '../support/test-platform.js';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';

const onPostgres = testEngine() === 'postgres';
let h: RouterHarness;
let b: TestPlatform | undefined;
beforeAll(async () => {
  h = await startRouterHarness();
  await h.addKey('openai');
  // A second instance on the same database (PostgreSQL only: the embedded SQLite serves one).
  if (onPostgres) b = await startTestPlatform({ PUBLIC_URL: h.tp.url }, { dataDir: h.tp.config.dataDir, databaseUrl: h.tp.config.databaseUrl, drop: async () => undefined });
}, 60_000);
afterAll(async () => {
  await b?.stop();
  await h?.close();
});

const cliEnv = () => ({ KEYWARD_DATA_DIR: h.tp.config.dataDir, DATABASE_URL: h.tp.config.databaseUrl ?? '' });
async function keyward(...args: string[]) {
  const r = await runKeyward([...args, '--json'], cliEnv());
  if (r.code !== 0) throw new Error(`keyward ${args.join(' ')} failed: ${r.stdout} ${r.stderr}`);
  return r.json;
}

describe('leasing budget slices', () => {
  it('20 instances leasing at once never lease more than the limit', async () => {
    const db = h.tp.platform.ctx.db;
    const log = pino({ level: 'silent' });
    const limitId = randomUUID();
    const limit = 1_000_000; // nano-USD
    const ledgers = Array.from({ length: 20 }, () => new BudgetLedger(db, log, () => undefined, { flushIntervalMs: 60_000 }));
    // Each wants a tenth of the limit and needs at least that much.
    const got = await Promise.all(ledgers.map((ledger) => ledger.reserve(limitId, 0, limit, limit / 10, limit / 10)));
    const row = await db.selectFrom('limit_periods').selectAll().where('limit_id', '=', limitId).executeTakeFirstOrThrow();
    const total = got.reduce<number>((a, n) => a + (n ?? 0), 0);
    console.log(`20-way lease race (${testEngine()}): ${got.filter((n) => n !== null).length} granted, ${total} of ${limit} nano-USD reserved, ${Number(row.leased_nano_usd)} leased in the database`);
    expect(Number(row.leased_nano_usd)).toBeLessThanOrEqual(limit);
    expect(total).toBeLessThanOrEqual(limit);
    expect(got.filter((n) => n !== null).length).toBe(10);
    for (const ledger of ledgers) await ledger.close();
  }, 60_000);
});

describe(`50 concurrent callers against a limit of five cents, ${onPostgres ? 'on two instances sharing PostgreSQL' : 'on one instance'}`, () => {
  it('spend stays within the limit plus the stated overshoot bound', async () => {
    // $10 in / $100 out per million: a call of 30 in + 50 out tokens costs $0.0053; max_tokens 100 reserves about $0.0104.
    await keyward('price', 'set', '--provider', 'openai', '--model', 'race-model', '--input-usd-per-mtok', '10', '--output-usd-per-mtok', '100');
    const { id } = await keyward('limit', 'set', '--scope', 'org', '--usd', '0.05', '--period', 'day');
    await new Promise((r) => setTimeout(r, 1600));
    h.upstreams.openai.enqueue(...Array.from({ length: 300 }, () => ({ type: 'text' as const, text: 'ok', usage: { input: 30, output: 50 } })));
    const instances = [h.tp.url, ...(b ? [b.url] : [])];
    const statuses: number[] = [];
    const callers = Array.from({ length: 50 }, async (_, i) => {
      const openai = new OpenAI({ apiKey: h.adminToken, baseURL: `${instances[i % instances.length]}/v1/model-router`, maxRetries: 0, timeout: 20_000 });
      // Each caller keeps calling until the budget refuses it (or five calls).
      for (let n = 0; n < 5; n++) {
        try {
          await openai.chat.completions.create({ model: 'openai:race-model', messages: [{ role: 'user', content: 'hi' }], max_tokens: 100 });
          statuses.push(200);
        } catch (error) {
          statuses.push((error as { status: number }).status);
          break;
        }
      }
    });
    await Promise.all(callers);
    await new Promise((r) => setTimeout(r, 1600)); // both instances settle within a second
    const row = await h.tp.platform.ctx.db.selectFrom('limit_periods').selectAll().where('limit_id', '=', id).executeTakeFirstOrThrow();
    const spent = Number(row.spent_nano_usd);
    const ok = statuses.filter((s) => s === 200).length;
    const limitNano = 50_000_000;
    const overshoot = Math.max(0, spent - limitNano);
    // The bound: what admitted calls cost beyond their reservation. A real provider stops at max_tokens;
    // this mock always answers 50 output tokens, so a call whose max_tokens Keyward lowered below 50
    // overshoots by the difference (the input, 30 tokens, is under its estimate).
    // The input is estimated at a token per 3 bytes of the request; 30 real tokens can exceed that
    // estimate by a token or two for a body this short, which the stated bound includes too.
    const bodies = h.upstreams.openai.requests.filter((r) => r.body?.model === 'race-model');
    const sent = bodies.map((r) => Number(r.body.max_completion_tokens ?? r.body.max_tokens));
    // Keyward estimates from the request as the caller sent it, with the provider's model id.
    const estimatedInput = Math.ceil(Buffer.byteLength(JSON.stringify({ model: 'race-model', messages: [{ role: 'user', content: 'hi' }], max_tokens: 100 })) / 3);
    const inputShortfall = Math.max(0, 30 - estimatedInput);
    const bound = bodies.reduce((sum, _r, i) => sum + Math.max(0, 50 - sent[i]!) * 100_000 + inputShortfall * 10_000, 0);
    console.log(
      `50 callers on ${instances.length} instance(s) (${testEngine()}): ${ok} calls admitted, ${statuses.filter((s) => s === 402).length} refused with 402; ` +
        `spent $${spent / 1e9} of $${limitNano / 1e9}; overshoot $${overshoot / 1e9}; bound $${bound / 1e9} ` +
        `(output past max_tokens, which this mock ignores: ${sent.filter((m) => m < 50).join(', ') || 'none'})`,
    );
    expect(statuses.every((s) => s === 200 || s === 402)).toBe(true);
    expect(spent).toBe(ok * 5_300_000);
    expect(overshoot).toBeLessThanOrEqual(bound);
    expect(ok).toBeGreaterThan(0);
    await keyward('limit', 'remove', '--id', id);
  }, 120_000);
});
