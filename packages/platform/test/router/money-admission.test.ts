// What a call that is not let through gives back: a call refused by a budget uses none of the
// requests per minute it had been counted against, and a database error while reserving under a
// later limit releases what earlier limits had reserved (else it stays reserved until the period
// ends). And the cost header never says 0 for an answer whose cost is unknown.

import OpenAI from 'openai';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LimitGuard } from '../../src/limits/limit-guard.js';
import { removeLimit, setLimit } from '../../src/limits/spending-limits.js';
import { PriceBook, setModelPrice } from '../../src/usage/model-prices.js';
import { testEngine } from '../support/test-platform.js';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';
import { propagate } from './support/money-support.js';

let h: RouterHarness;
// $1000 in / $10000 out per million tokens.
const MODEL = 'openai:admission-model';
beforeAll(async () => {
  h = await startRouterHarness();
  await h.addKey('openai');
  await setModelPrice(h.tp.platform.ctx, { provider: 'openai', model: 'admission-model', inputUsdPerMtok: '1000', outputUsdPerMtok: '10000' });
}, 60_000);
afterAll(() => h?.close());

const ctx = () => h.tp.platform.ctx;
let users = 0;
async function freshUser() {
  const user = await h.addUser(`admission-${++users}-${Date.now()}@example.com`);
  const token = await h.tokenFor(user);
  return { user, token, openai: h.openai(token) };
}
const ask = (openai: OpenAI) => openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 });

describe(`what a refused call gives back (${testEngine()})`, () => {
  it('calls a budget refused (402, nothing sent) use none of the requests per minute', async () => {
    const { user, openai } = await freshUser();
    await setLimit(ctx(), { organizationId: h.orgId, scope: 'user', userId: user.id, usd: '0.000001', period: 'day', requestsPerMinute: 3 });
    await propagate();
    const sent = h.upstreams.openai.requests.length;
    for (let i = 0; i < 3; i++) await expect(ask(openai)).rejects.toMatchObject({ status: 402 });
    expect(h.upstreams.openai.requests.length).toBe(sent);
    // The budget is raised, the rate stays: no call of this minute reached a provider, so three may.
    await setLimit(ctx(), { organizationId: h.orgId, scope: 'user', userId: user.id, usd: '10', period: 'day', requestsPerMinute: 3 });
    await propagate();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push(await ask(openai).then(() => 200, (error: { status: number }) => error.status));
    expect(statuses).toEqual([200, 200, 200, 429]);
  }, 30_000);

  it('a database error while reserving under a later limit releases what the earlier ones reserved', async () => {
    const { user } = await freshUser();
    const proxyLimit = await setLimit(ctx(), { organizationId: h.orgId, scope: 'proxy', proxyId: h.tp.defaultProxyId, usd: '1', period: 'day', requestsPerMinute: 1 });
    const userLimit = await setLimit(ctx(), { organizationId: h.orgId, scope: 'user', userId: user.id, usd: '1', period: 'day' });
    try {
      const prices = await PriceBook.load(ctx().db, ctx().changes);
      const guard = await LimitGuard.load(ctx().db, ctx().changes, pino({ level: 'silent' }), prices, 60_000);
      const reserve = guard.ledger.reserve.bind(guard.ledger);
      // The database drops the connection while the user limit's slice is leased.
      const failing = vi.spyOn(guard.ledger, 'reserve').mockImplementation((limitId, ...rest) => (limitId === userLimit.id ? Promise.reject(new Error('Connection terminated unexpectedly')) : reserve(limitId, ...rest)));
      const subject = { organizationId: h.orgId, principalKind: 'user' as const, userId: user.id, clientId: 'an-app', proxyId: h.tp.defaultProxyId, teamIds: async () => new Set<string>() };
      const estimate = { provider: 'openai', model: 'admission-model', requestBytes: () => 90, maxOutputTokens: 10, producesOutput: true };
      await expect(guard.admit(subject, estimate)).rejects.toThrow(/Connection terminated/);
      failing.mockRestore();
      // The proxy limit's request of this minute was given back: the next call is admitted.
      const admitted = await guard.admit(subject, estimate);
      expect(admitted).not.toBeNull();
      admitted!.settle({ costNanoUsd: 0, inputTokens: 0, outputTokens: 0, unreported: 'none' });
      // Nothing is in flight: closing hands every slice back (a leaked reservation would stay leased).
      await guard.close();
      const periods = await ctx().db.selectFrom('limit_periods').select(['limit_id', 'leased_nano_usd']).where('limit_id', 'in', [proxyLimit.id, userLimit.id]).execute();
      expect(periods.map((p) => Number(p.leased_nano_usd))).toEqual(periods.map(() => 0));
    } finally {
      await removeLimit(ctx(), proxyLimit.id);
      await removeLimit(ctx(), userLimit.id);
      await propagate();
    }
  }, 30_000);
});

describe(`the cost header (${testEngine()})`, () => {
  it('says unknown, not 0, for an answer that came without its usage (its limit was charged what it was allowed)', async () => {
    const { user, token } = await freshUser();
    await setLimit(ctx(), { organizationId: h.orgId, scope: 'user', userId: user.id, usd: '5', period: 'day' });
    await propagate();
    const completion = { id: 'chatcmpl-no-usage', object: 'chat.completion', created: 1, model: 'admission-model', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] };
    h.upstreams.openai.enqueue({ type: 'raw', status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(completion) });
    const answer = await fetch(`${h.baseURL()}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-keyward-include-cost': 'true' },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 }),
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-keyward-cost-usd')).toBe('unknown');
  }, 30_000);
});
