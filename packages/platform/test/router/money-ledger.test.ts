// The budget ledger's slices against three ways they went wrong: a lowered limit binds at once
// although the instance still holds a slice leased under the old amount; a burst of concurrent
// calls on one instance is refused only when the database has no budget left for it; and a call
// that needs far more than a slice (an absurd max_tokens) leaves no more than one slice unused on
// its instance once it has settled, so other instances sharing the database can spend the rest.

import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BudgetLedger } from '../../src/limits/budget-ledger.js';
import { periodStart } from '../../src/limits/limit-periods.js';
import { testEngine } from '../support/test-platform.js';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';
import { keywardCli, propagate } from './support/money-support.js';

let h: RouterHarness;
// $1000 in / $10000 out per million tokens: a tenth of a cent per input token, a cent per output token.
const MODEL = 'openai:ledger-model';
beforeAll(async () => {
  h = await startRouterHarness();
  await h.addKey('openai');
  await keyward('price', 'set', '--provider', 'openai', '--model', 'ledger-model', '--input-usd-per-mtok', '1000', '--output-usd-per-mtok', '10000');
}, 60_000);
afterAll(() => h?.close());

const keyward = keywardCli(() => h);
const db = () => h.tp.platform.ctx.db;
/** A ledger of its own: another instance on the same database. It writes only when told to. */
const newLedger = () => new BudgetLedger(db(), pino({ level: 'silent' }), () => undefined, { flushIntervalMs: 60_000 });
async function period(limitId: string, start = 0) {
  const row = await db().selectFrom('limit_periods').selectAll().where('limit_id', '=', limitId).where('period_start', '=', start).executeTakeFirstOrThrow();
  return { spent: Number(row.spent_nano_usd), leased: Number(row.leased_nano_usd) };
}
let users = 0;
async function freshUser() {
  const user = await h.addUser(`ledger-${++users}-${Date.now()}@example.com`);
  return { user, openai: h.openai(await h.tokenFor(user)) };
}
const ask = (openai: OpenAI, maxTokens: number) => openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: maxTokens });

const USD = 1_000_000_000; // nano-USD

describe('a lowered limit binds at once', () => {
  it('the ledger hands back the slice it leased under the old amount and leases under the new one', async () => {
    const ledger = newLedger();
    const id = randomUUID();
    // Under $100, a call of $0.13 leases a $5 slice and spends $0.06 of it.
    const first = await ledger.reserve(id, 0, 100 * USD, 130_000_000, 30_000_000);
    expect(first).toBe(130_000_000);
    ledger.settle(id, 0, 130_000_000, 60_000_000);
    expect((await period(id)).leased).toBe(5 * USD);
    // Lowered to $0.20: $0.14 is left, whatever the instance still holds. Each call spends all it reserved.
    const lowered = 200_000_000;
    let admitted = 0;
    let reserved = 0;
    for (let i = 0; i < 20; i++) {
      const got = await ledger.reserve(id, 0, lowered, 130_000_000, 30_000_000);
      if (got === null) break;
      admitted += 1;
      reserved += got;
      ledger.settle(id, 0, got, got);
    }
    await ledger.flush();
    const after = await period(id);
    console.log(`lowered $100 → $0.20 (${testEngine()}): ${admitted} calls admitted, $${reserved / USD} reserved; spent $${after.spent / USD}, leased $${after.leased / USD}`);
    expect(reserved).toBeLessThanOrEqual(lowered - 60_000_000);
    expect(admitted).toBeGreaterThan(0); // $0.14 pays one call of $0.13
    expect(after.spent + after.leased).toBeLessThanOrEqual(lowered);
    // Raised again: the next call passes at once.
    expect(await ledger.reserve(id, 0, 100 * USD, 130_000_000, 30_000_000)).toBe(130_000_000);
    await ledger.close();
  }, 30_000);

  it('through the router: after an admin lowers a user limit from $100 to $0.20, calls stop at $0.20', async () => {
    const { user, openai } = await freshUser();
    const { id } = await keyward('limit', 'set', '--scope', 'user', '--user', user.email, '--usd', '100', '--period', 'day');
    await propagate();
    // One call leases a $5 slice into this instance. A call (the mock's 10 in + 5 out tokens) costs $0.06.
    await ask(openai, 10);
    await keyward('limit', 'set', '--scope', 'user', '--user', user.email, '--usd', '0.2', '--period', 'day');
    await propagate();
    let admitted = 0;
    for (let i = 0; i < 10; i++) {
      const before = h.upstreams.openai.requests.length;
      const status = await ask(openai, 10).then(
        () => 200,
        (e: { status: number }) => e.status,
      );
      if (status !== 200) {
        expect(status).toBe(402);
        expect(h.upstreams.openai.requests.length).toBe(before); // refused before the provider
        break;
      }
      admitted += 1;
    }
    await propagate();
    const { spent } = await period(id, periodStart('day'));
    console.log(`lowered to $0.20 through the router (${testEngine()}): ${admitted} of 10 further calls admitted; spent $${spent / USD}`);
    // $0.06 spent before; each call reserves about $0.13: one more fits in $0.20, not two.
    expect(admitted).toBe(1);
    expect(spent).toBeLessThanOrEqual(200_000_000);
    await keyward('limit', 'remove', '--id', id);
  }, 60_000);
});

describe('a burst on one instance', () => {
  it('30 concurrent calls of $0.01 against $1: none is refused', async () => {
    const ledger = newLedger();
    const id = randomUUID();
    // A slice ($0.05) holds five of them: most calls wait for another call's lease, then lease themselves.
    const got = await Promise.all(Array.from({ length: 30 }, () => ledger.reserve(id, 0, USD, 10_000_000, 5_000_000)));
    const { leased } = await period(id);
    console.log(`burst of 30 × $0.01 against $1 (${testEngine()}): ${got.filter((g) => g === null).length} refused; leased $${leased / USD}`);
    expect(got.filter((g) => g === null)).toEqual([]);
    expect(got.every((g) => g === 10_000_000)).toBe(true);
    expect(leased).toBeLessThanOrEqual(USD);
    await ledger.close();
  }, 30_000);

  it('150 concurrent calls of $0.01 against $1 on two instances: exactly 100 admitted, the rest refused, and every call answers', async () => {
    const [a, b] = [newLedger(), newLedger()];
    const id = randomUUID();
    const got = await Promise.all(Array.from({ length: 150 }, (_, i) => (i % 2 ? a : b).reserve(id, 0, USD, 10_000_000, 10_000_000)));
    const admitted = got.filter((g) => g !== null);
    const { leased } = await period(id);
    console.log(`burst of 150 × $0.01 against $1 on two ledgers (${testEngine()}): ${admitted.length} admitted; leased $${leased / USD}`);
    expect(admitted.length).toBe(100);
    expect(admitted.every((g) => g === 10_000_000)).toBe(true);
    expect(leased).toBe(USD);
    for (const [i, g] of got.entries()) if (g !== null) (i % 2 ? a : b).settle(id, 0, g, 0);
    await a.close();
    await b.close();
    expect(await period(id)).toEqual({ spent: 0, leased: 0 });
  }, 30_000);
});

describe('a call that needs more than a slice', () => {
  it('reserves what the limit can pay, and once settled leaves at most one slice unused on its instance', async () => {
    const [a, b] = [newLedger(), newLedger()];
    const id = randomUUID();
    const limit = 10 * USD;
    // max_tokens 10^12 at a cent per token: far more than the limit. At least $0.03 is needed.
    const got = await a.reserve(id, 0, limit, 10_000 * USD, 30_000_000);
    expect(got).toBe(limit); // all the limit can pay: the router lowers max_tokens to it
    a.settle(id, 0, got!, 60_000_000);
    await a.flush();
    const after = await period(id);
    // Another instance on the same database asks for $0.01.
    const other = await b.reserve(id, 0, limit, 10_000_000, 10_000_000);
    console.log(`after one call wanting $10,000 of $10 (${testEngine()}): spent $${after.spent / USD}, leased $${after.leased / USD}; another instance got ${other}`);
    expect(after.spent).toBe(60_000_000);
    expect(after.leased).toBeLessThanOrEqual(limit / 20);
    expect(other).toBe(10_000_000);
    await a.close();
    await b.close();
  }, 30_000);

  it('a minimum larger than a slice is still reserved', async () => {
    const ledger = newLedger();
    const id = randomUUID();
    // A $1 limit has $0.05 slices; this call needs at least $0.30.
    expect(await ledger.reserve(id, 0, USD, 400_000_000, 300_000_000)).toBe(400_000_000);
    expect(await ledger.reserve(id, 0, USD, 700_000_000, 300_000_000)).toBe(600_000_000);
    expect(await ledger.reserve(id, 0, USD, 10_000_000, 10_000_000)).toBeNull();
    await ledger.close();
  }, 30_000);

  it('through the router: max_tokens 10^12 under $10, then another instance still gets its call', async () => {
    const { user, openai } = await freshUser();
    const { id } = await keyward('limit', 'set', '--scope', 'user', '--user', user.email, '--usd', '10', '--period', 'day');
    await propagate();
    h.upstreams.openai.enqueue({ type: 'text', text: 'ok', usage: { input: 30, output: 10 } });
    await ask(openai, 1_000_000_000_000);
    const sent = h.upstreams.openai.requests.at(-1)!.body;
    const lowered = Number(sent.max_completion_tokens ?? sent.max_tokens);
    await propagate(); // settled, and what the call left unused beyond a slice handed back
    const start = periodStart('day');
    const after = await period(id, start);
    const other = newLedger();
    const got = await other.reserve(id, start, 10 * USD, 10_000_000, 10_000_000);
    await other.close();
    console.log(`max_tokens 1e12 under $10 (${testEngine()}): sent max_tokens ${lowered}; then spent $${after.spent / USD}, leased $${after.leased / USD}; another instance got ${got}`);
    // $10 less the input estimate, at a cent per output token.
    expect(lowered).toBeGreaterThan(900);
    expect(lowered).toBeLessThan(1000);
    expect(after.leased).toBeLessThanOrEqual((10 * USD) / 20);
    expect(got).toBe(10_000_000);
    await keyward('limit', 'remove', '--id', id);
  }, 60_000);
});
