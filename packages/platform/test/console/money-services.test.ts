// Limits and prices are governed by administrators, whatever calls the services (console, CLI):
// a member is refused with 403 and nothing is written; every change is audited. A limit's alert
// threshold, once reached, is raised once per period however many instances settle at once
// (an audit entry and the alerted mark), and the overview shows it to admins and to the member
// whose limit it is.

import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/access/actor.js';
import { operatorActor } from '../../src/accounts/actors.js';
import type { AppContext } from '../../src/app-context.js';
import { LimitGuard, type CallSubject } from '../../src/limits/limit-guard.js';
import { limitsFor, listLimitsAs, removeLimitAs, setLimitAs, setUnpricedCallPolicyAs, spendingAlertsFor } from '../../src/limits/limit-management.js';
import { periodStart } from '../../src/limits/limit-periods.js';
import { raiseSpendingAlertIfDue } from '../../src/limits/spending-alerts.js';
import { loadLimits } from '../../src/limits/spending-limits.js';
import { listModelPrices, PriceBook } from '../../src/usage/model-prices.js';
import { effectiveModelPrice, removeModelPriceAs, setModelPriceAs } from '../../src/usage/price-management.js';
import { startTestPlatform, testEngine, type TestPlatform } from '../support/test-platform.js';
import { actorFor, addPerson } from '../usage/support/usage-fixtures.js';
import { page, signIn } from './console-session.js';

let tp: TestPlatform;
let ctx: AppContext;
let admin: Actor;
let casey: Actor;
let robin: Actor;
const log = pino({ level: 'silent' });

beforeAll(async () => {
  tp = await startTestPlatform();
  ctx = tp.platform.ctx;
  admin = await operatorActor(ctx.db);
  await addPerson(tp, 'casey@example.com');
  await addPerson(tp, 'robin@example.com');
  casey = await actorFor(tp, 'casey@example.com');
  robin = await actorFor(tp, 'robin@example.com');
}, 60_000);

afterAll(async () => {
  await tp?.close();
});

const refused = (promise: Promise<unknown>) => expect(promise).rejects.toMatchObject({ code: 'forbidden', status: 403 });
const auditActions = async () => (await ctx.db.selectFrom('audit_log').select(['action', 'actor_label', 'target_label', 'detail']).orderBy('created_at').execute());

describe('who may change limits and prices', () => {
  it('a member is refused every change, and nothing is written or audited', async () => {
    const before = (await auditActions()).length;
    await refused(setLimitAs(ctx, casey, { scope: 'user', userEmail: 'casey@example.com', usd: '100', period: 'day' }));
    await refused(setLimitAs(ctx, casey, { scope: 'org', usd: '100', period: 'day' }));
    await refused(setUnpricedCallPolicyAs(ctx, casey, 'allow'));
    await refused(setModelPriceAs(ctx, casey, { provider: 'openai', model: 'gpt-4o-mini', inputUsdPerMtok: '0', outputUsdPerMtok: '0' }));
    await refused(removeModelPriceAs(ctx, casey, 'openai', 'gpt-4o-mini'));
    await refused(listLimitsAs(ctx.db, casey));
    const { id } = await setLimitAs(ctx, admin, { scope: 'org', usd: '100', period: 'day' });
    await refused(removeLimitAs(ctx, casey, id));
    expect((await ctx.db.selectFrom('spending_limits').select('id').execute()).map((r) => r.id)).toEqual([id]);
    expect(await listModelPrices(ctx.db)).toEqual([]);
    expect((await ctx.db.selectFrom('organizations').select('unpriced_calls_under_limit').executeTakeFirstOrThrow()).unpriced_calls_under_limit).toBe('refuse');
    expect((await auditActions()).slice(before).map((a) => a.action)).toEqual(['limit.set']);
    await removeLimitAs(ctx, admin, id);
  });

  it('an administrator’s changes are audited with who, what and the amounts, never as a member', async () => {
    const before = (await auditActions()).length;
    const { id } = await setLimitAs(ctx, admin, { scope: 'user', userEmail: 'Casey@Example.com', usd: '5', period: 'week', requestsPerMinute: 60, alertPercent: 75 });
    await removeLimitAs(ctx, admin, id);
    await setUnpricedCallPolicyAs(ctx, admin, 'allow');
    await setUnpricedCallPolicyAs(ctx, admin, 'refuse');
    await setModelPriceAs(ctx, admin, { provider: 'vllm', model: 'qwen', inputUsdPerMtok: '0.1', outputUsdPerMtok: '0.2', cacheWriteUsdPerMtok: '0.125' });
    await removeModelPriceAs(ctx, admin, 'vllm', 'qwen');
    // Removing an override that is not there changes nothing: no entry.
    expect(await removeModelPriceAs(ctx, admin, 'vllm', 'qwen')).toEqual({ removed: false });
    expect((await auditActions()).slice(before)).toEqual([
      { action: 'limit.set', actor_label: 'admin CLI', target_label: 'user casey@example.com', detail: '$5 per week, 60 requests/min, alert at 75%' },
      { action: 'limit.removed', actor_label: 'admin CLI', target_label: 'user casey@example.com', detail: '$5 per week, 60 requests/min, alert at 75%' },
      { action: 'unpriced_policy.set', actor_label: 'admin CLI', target_label: 'Calls to models with no known price', detail: 'allow' },
      { action: 'unpriced_policy.set', actor_label: 'admin CLI', target_label: 'Calls to models with no known price', detail: 'refuse' },
      { action: 'price.set', actor_label: 'admin CLI', target_label: 'vllm:qwen', detail: '$0.1 in, $0.2 out, $0.125 cache write per million tokens' },
      { action: 'price.removed', actor_label: 'admin CLI', target_label: 'vllm:qwen', detail: null },
    ]);
  });

  it('a limit for someone outside the organization, or a limit that does not exist, is refused in words', async () => {
    await expect(setLimitAs(ctx, admin, { scope: 'user', userEmail: 'stranger@example.com', usd: '1', period: 'day' })).rejects.toMatchObject({ field: 'userId', status: 400 });
    await expect(removeLimitAs(ctx, admin, 'no-such-limit')).rejects.toMatchObject({ code: 'not_found', status: 404 });
  });

  it('the effective price of a model: override, else catalogue, else none', async () => {
    expect(await effectiveModelPrice(ctx.db, 'ollama', 'llama3.2')).toMatchObject({ source: null, inputUsdPerMtok: null });
    expect(await effectiveModelPrice(ctx.db, 'openai', 'gpt-4o-mini')).toMatchObject({ source: 'catalogue', inputUsdPerMtok: '0.15', outputUsdPerMtok: '0.6' });
    await setModelPriceAs(ctx, admin, { provider: 'openai', model: 'gpt-4o-mini', inputUsdPerMtok: '0.1', outputUsdPerMtok: '0.5' });
    expect(await effectiveModelPrice(ctx.db, 'openai', 'gpt-4o-mini')).toMatchObject({ source: 'override', inputUsdPerMtok: '0.1', outputUsdPerMtok: '0.5', cachedInputUsdPerMtok: null });
    await removeModelPriceAs(ctx, admin, 'openai', 'gpt-4o-mini');
  });
});

describe(`a spending limit's alert threshold (${testEngine()})`, () => {
  const subject = (userId: string): CallSubject => ({
    organizationId: admin.organizationId,
    principalKind: 'user',
    userId,
    clientId: null,
    proxyId: tp.defaultProxyId,
    teamIds: async () => new Set(),
  });
  // $1000 in / $10000 out per million tokens: 10 bytes of request and 10 output tokens reserve about $0.10.
  const estimate = { provider: 'openai', model: 'alert-model', requestBytes: () => 10, maxOutputTokens: 10, producesOutput: true };
  let limitId: string;

  it('two instances settling past it at once raise it once: one audit entry, the period marked', async () => {
    await setModelPriceAs(ctx, admin, { provider: 'openai', model: 'alert-model', inputUsdPerMtok: '1000', outputUsdPerMtok: '10000' });
    limitId = (await setLimitAs(ctx, admin, { scope: 'user', userEmail: 'casey@example.com', usd: '1', period: 'day', alertPercent: 50 })).id;
    const prices = await PriceBook.load(ctx.db, ctx.changes);
    const guards = await Promise.all([1, 2].map(() => LimitGuard.load(ctx.db, ctx.changes, log, prices, 60_000)));
    try {
      // Each instance settles $0.30: neither alone reaches 50% of $1, together they do.
      for (const guard of guards) {
        const admission = await guard.admit(subject(casey.userId!), estimate);
        admission!.settle({ costNanoUsd: 300_000_000, inputTokens: 10, outputTokens: 10, unreported: 'none' });
      }
      await Promise.all(guards.map((g) => g.ledger.flush()));
      // Both flushes ask for the alert; whichever saw the total raises it. Wait for the check to land.
      const started = Date.now();
      while (Date.now() - started < 5000 && !(await auditActions()).some((a) => a.action === 'limit.alert_reached')) await new Promise((r) => setTimeout(r, 50));
    } finally {
      for (const guard of guards) await guard.close();
    }
    const alerts = (await auditActions()).filter((a) => a.action === 'limit.alert_reached');
    expect(alerts).toEqual([{ action: 'limit.alert_reached', actor_label: 'Keyward (system)', target_label: 'user casey@example.com', detail: '$0.6 spent of $1 per day, alert at 50%' }]);
    const period = await ctx.db.selectFrom('limit_periods').select('alerted_at').where('limit_id', '=', limitId).executeTakeFirstOrThrow();
    expect(period.alerted_at).not.toBeNull();
  }, 30_000);

  it('however many raise it at the same moment, it is raised once per period', async () => {
    const start = periodStart('day');
    await ctx.db.updateTable('limit_periods').set({ alerted_at: null }).where('limit_id', '=', limitId).execute();
    await ctx.db.deleteFrom('audit_log').where('action', '=', 'limit.alert_reached').execute();
    const limit = (await loadLimits(ctx.db)).limits.find((l) => l.id === limitId)!;
    const raised = await Promise.all(Array.from({ length: 20 }, () => raiseSpendingAlertIfDue(ctx.db, log, limit, start)));
    expect(raised.filter(Boolean)).toHaveLength(1);
    expect((await auditActions()).filter((a) => a.action === 'limit.alert_reached')).toHaveLength(1);
    // Below the threshold nothing is raised.
    const quiet = (await setLimitAs(ctx, admin, { scope: 'user', userEmail: 'robin@example.com', usd: '1', period: 'day', alertPercent: 50 })).id;
    await ctx.db.insertInto('limit_periods').values({ limit_id: quiet, period_start: start, spent_nano_usd: 400_000_000, leased_nano_usd: 0, alerted_at: null }).execute();
    const robinLimit = (await loadLimits(ctx.db)).limits.find((l) => l.id === quiet)!;
    expect(await raiseSpendingAlertIfDue(ctx.db, log, robinLimit, start)).toBe(false);
  });

  it('the overview shows it to administrators and to the member whose limit it is, not to others', async () => {
    expect((await spendingAlertsFor(ctx.db, admin)).map((l) => l.id)).toEqual([limitId]);
    expect((await spendingAlertsFor(ctx.db, casey)).map((l) => l.id)).toEqual([limitId]);
    expect(await spendingAlertsFor(ctx.db, robin)).toEqual([]);
    const notice = /<div class="notice warn" role="status" data-spending-alert="[^"]+">[^]*?<\/div>/;
    const adminPage = (await page(await signIn(tp, tp.admin.email, tp.admin.password), `${tp.url}/console`)).text;
    expect(notice.exec(adminPage)?.[0]).toMatch(/Spending alert:.*user casey@example\.com has reached 50% of its amount: \$0\.6000 of \$1\.00 per day spent/);
    const caseyPage = (await page(await signIn(tp, 'casey@example.com', 'a long enough member password'), `${tp.url}/console`)).text;
    expect(caseyPage).toContain(`data-spending-alert="${limitId}"`);
    const robinPage = (await page(await signIn(tp, 'robin@example.com', 'a long enough member password'), `${tp.url}/console`)).text;
    expect(robinPage).not.toContain('data-spending-alert');
    // Casey's own limit, read-only, with her spend.
    expect((await limitsFor(ctx.db, casey)).find((l) => l.id === limitId)).toMatchObject({ ownSpentUsd: 0.6, alerted: true });
  });

  it('a new period has no alert', async () => {
    const tomorrow = periodStart('day') + 86_400_000 + 1000;
    expect(await spendingAlertsFor(ctx.db, admin, tomorrow)).toEqual([]);
  });
});
