// Before a call: which limits bind it, whether its rate allows it, and whether every budget that
// applies can pay its worst case (reserved from the local slice; max output lowered to fit the
// tightest). After it: the reservation settles to the actual cost. No database round trip per
// call while slices last; limits and the org's rule for unpriced models live in memory.

import type { Kysely } from 'kysely';
import { latestReadWins } from '../db/latest-read.js';
import type { Logger } from 'pino';
import { createBackgroundJobs, type BackgroundJob, type BackgroundJobs } from '../background-jobs.js';
import type { ChangeFeed } from '../db/change-log.js';
import type { Database } from '../db/schema.js';
import { costNanoUsd, nanoToUsd, type ModelRates } from '../usage/call-cost.js';
import type { PriceBook } from '../usage/model-prices.js';
import { BudgetLedger } from './budget-ledger.js';
import { periodEnd, periodStart } from './limit-periods.js';
import { RateCounter } from './rate-counter.js';
import { raiseSpendingAlertIfDue } from './spending-alerts.js';
import { loadLimits, type SpendingLimit, type UnpricedCallPolicy } from './spending-limits.js';

/** Worst-case output when the caller sets no max_tokens and a budget applies; max_tokens is then set to what fits. */
export const DEFAULT_OUTPUT_TOKENS = 16_384;
/** A call the budget cannot pay this many output tokens for is refused rather than cut to nothing. */
export const MIN_OUTPUT_TOKENS = 16;
/**
 * Worst-case searches of a web search tool with no `max_uses` when a budget applies (Anthropic sets
 * no default: without it, searches are unbounded); max_uses is then set to what fits. Anthropic's
 * documentation uses 5 in its examples.
 */
export const DEFAULT_WEB_SEARCHES = 5;
/** Input tokens estimated from the request's bytes (about 3-4 bytes per token in practice; see docs/money.md). */
export const BYTES_PER_INPUT_TOKEN = 3;

/** Who is calling, through what: enough to decide which limits apply. */
export interface CallSubject {
  organizationId: string;
  principalKind: 'user' | 'client';
  userId: string | null;
  clientId: string | null;
  proxyId: string;
  teamIds(): Promise<ReadonlySet<string>>;
}

export interface CallEstimate {
  provider: string;
  model: string;
  /** Called only when a budget applies: serialising the request is not free. */
  requestBytes: () => number;
  /**
   * Input tokens the bytes do not show, added to bytes ÷ 3: media parts (an image URL is a few
   * dozen bytes and thousands of tokens: limits/media-estimate.ts), token arrays. Called only when a budget applies.
   */
  extraInputTokens?: () => number;
  /** What the caller asked for; undefined = none given. */
  maxOutputTokens: number | undefined;
  /** False for embeddings: only input is paid. */
  producesOutput: boolean;
  /** Answers the provider makes for the call (`n`), each up to maxOutputTokens; default 1. */
  answers?: number;
  /** The provider does not charge for the call (a token count): rate limits apply, budgets do not. */
  free?: boolean;
  /**
   * The request's server-side web search tools, in order: each one's `max_uses`, undefined where
   * the caller set none. Each search is billed a fee (`ModelRates.webSearch`). Called only when a budget applies.
   */
  webSearchTools?: () => ReadonlyArray<number | undefined>;
}

/** What the metered call turned out to be. */
export interface CallOutcome {
  costNanoUsd: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  /**
   * What the provider may have billed beyond the usage it reported: `reservation` when it had
   * accepted the call and may have answered it (a stream that broke off, an answer without a usage
   * report, a non-streamed call left or timed out unanswered), so up to everything the call was
   * allowed; `input` when a stream was stopped before the provider opened it (it may have read the
   * prompt); `none` otherwise. The router's admit-call.ts decides which.
   */
  unreported: 'reservation' | 'input' | 'none';
}

export interface Admission {
  /** Set when Keyward lowered (or, with a budget and none given, set) the call's output limit. */
  maxOutputTokens: number | undefined;
  /** Set when Keyward lowered (or, with a budget and none given, set) a web search tool's max_uses: each tool's, in order. */
  webSearchUses: number[] | undefined;
  settle(outcome: CallOutcome): void;
}

export class LimitRefusal extends Error {
  constructor(
    readonly kind: 'budget' | 'rate',
    message: string,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
    this.name = 'LimitRefusal';
  }
}

const describe = (limit: SpendingLimit) => {
  if (limit.chosenByUser) return `your own spending limit for app ${limit.clientId} (${limit.id})`;
  const who = { org: 'organization', team: `team ${limit.teamId}`, user: 'user', app: `app ${limit.clientId} for this user`, client: `client ${limit.clientId}`, proxy: `proxy ${limit.proxyId}` }[limit.scope];
  return `the ${who} limit (${limit.id})`;
};

function resetsText(limit: SpendingLimit, now: number): string {
  if (limit.period === 'total') return 'it is a total and does not reset; an admin can raise it';
  return `it resets at ${new Date(periodEnd(limit.period!, now)!).toISOString()}`;
}

const NO_LIMITS: SpendingLimit[] = [];

/** What one call holds under one spending limit until it settles. */
interface Reservation {
  limit: SpendingLimit;
  start: number;
  amount: number;
}

export class LimitGuard {
  private byOrg = new Map<string, SpendingLimit[]>();
  private unpriced = new Map<string, UnpricedCallPolicy>();
  private readonly limitsById = new Map<string, SpendingLimit>();
  readonly ledger: BudgetLedger;
  readonly rates: RateCounter;
  private readonly job: BackgroundJob;
  private ticks = 0;

  private constructor(
    private readonly db: Kysely<Database>,
    private readonly log: Logger,
    private readonly prices: PriceBook,
    syncIntervalMs: number,
    jobs: BackgroundJobs,
  ) {
    this.ledger = new BudgetLedger(db, log, (id, start) => void this.checkAlert(id, start).catch((err) => log.warn({ err, limitId: id }, 'spending alert could not be raised; the next settlement retries')), { flushIntervalMs: syncIntervalMs, jobs });
    this.rates = new RateCounter(db);
    this.job = jobs.every('rate counts sync', syncIntervalMs, async () => {
      await this.rates.sync();
      if (++this.ticks % 600 === 0) await this.rates.prune().catch(() => undefined);
    });
  }

  /** `jobs`: where the settlement and rate-sync jobs run (the platform's); without it, jobs of its own (tests). */
  static async load(db: Kysely<Database>, changes: ChangeFeed, log: Logger, prices: PriceBook, syncIntervalMs = 1000, jobs: BackgroundJobs = createBackgroundJobs(log)): Promise<LimitGuard> {
    const guard = new LimitGuard(db, log, prices, syncIntervalMs, jobs);
    await guard.reload();
    changes.on('spending_limit', () => void guard.reload().catch((err) => log.warn({ err }, 'limits could not be reloaded; the next reconcile retries')));
    return guard;
  }

  /** Reads every limit again (on a change, and every few seconds: a missed change or a failed read still converges). */
  readonly reload = latestReadWins(
    () => loadLimits(this.db),
    (loaded) => this.apply(loaded),
  );

  private apply({ limits, unpricedPolicy }: Awaited<ReturnType<typeof loadLimits>>): void {
    const byOrg = new Map<string, SpendingLimit[]>();
    this.limitsById.clear();
    for (const limit of limits) {
      byOrg.set(limit.organizationId, [...(byOrg.get(limit.organizationId) ?? []), limit]);
      this.limitsById.set(limit.id, limit);
    }
    this.byOrg = byOrg;
    this.unpriced = unpricedPolicy;
  }

  /** The limits that bind this call; a promise only when a team limit needs the caller's teams. */
  private applicable(subject: CallSubject): SpendingLimit[] | Promise<SpendingLimit[]> {
    const limits = this.byOrg.get(subject.organizationId);
    if (!limits) return NO_LIMITS;
    if (subject.userId && limits.some((l) => l.scope === 'team')) return subject.teamIds().then((teams) => this.select(limits, subject, teams));
    return this.select(limits, subject, undefined);
  }

  private select(limits: SpendingLimit[], subject: CallSubject, teams: ReadonlySet<string> | undefined): SpendingLimit[] {
    const out: SpendingLimit[] = [];
    for (const limit of limits) {
      switch (limit.scope) {
        case 'org':
          out.push(limit);
          break;
        case 'team':
          if (teams?.has(limit.teamId!)) out.push(limit);
          break;
        case 'user':
          if (subject.principalKind === 'user' && subject.userId === limit.userId) out.push(limit);
          break;
        case 'app':
          if (subject.principalKind === 'user' && subject.userId === limit.userId && subject.clientId === limit.clientId) out.push(limit);
          break;
        case 'client':
          if (subject.principalKind === 'client' && subject.clientId === limit.clientId) out.push(limit);
          break;
        case 'proxy':
          if (subject.proxyId === limit.proxyId) out.push(limit);
          break;
      }
    }
    return out;
  }

  /** null: no limit applies (nothing to settle). Throws LimitRefusal when a limit stops the call. */
  async admit(subject: CallSubject, estimate: CallEstimate, now = Date.now()): Promise<Admission | null> {
    const found = this.applicable(subject);
    const limits = Array.isArray(found) ? found : await found;
    if (limits.length === 0) return null;

    const rated = limits.filter((l) => l.requestsPerMinute !== null || l.tokensPerMinute !== null);
    // Each rate limit counts the call as it passes (check and count in one step, so concurrent
    // calls cannot all pass). A call refused after that, by another limit, or a database error
    // part-way (a lease that failed), gives back everything counted and reserved for it.
    const counted: SpendingLimit[] = [];
    const reserved: Reservation[] = [];
    try {
      for (const limit of rated) {
        const refused = this.rates.admit(limit.id, limit.requestsPerMinute, limit.tokensPerMinute, now);
        if (refused) {
          const what = refused.which === 'requests' ? `${limit.requestsPerMinute} requests per minute` : `${limit.tokensPerMinute} tokens per minute`;
          throw new LimitRefusal('rate', `Rate limit reached: ${describe(limit)} allows ${what}; the window resets in ${refused.retryAfterSeconds} s.`, refused.retryAfterSeconds);
        }
        counted.push(limit);
      }
      return await this.reserveBudgets(subject, estimate, now, limits, rated, reserved);
    } catch (error) {
      for (const limit of counted) this.rates.release(limit.id, now);
      for (const r of reserved) this.ledger.settle(r.limit.id, r.start, r.amount, 0);
      throw error;
    }
  }

  /** The budgets' part of `admit`: price the worst case and reserve it under every spending limit, into `reserved`. */
  private async reserveBudgets(subject: CallSubject, estimate: CallEstimate, now: number, limits: SpendingLimit[], rated: SpendingLimit[], reserved: Reservation[]): Promise<Admission> {
    const budgets = estimate.free ? [] : limits.filter((l) => l.nanoUsd !== null && l.period !== null);
    const inputTokens = budgets.length ? Math.ceil(estimate.requestBytes() / BYTES_PER_INPUT_TOKEN) + (estimate.extraInputTokens?.() ?? 0) : 0;
    let rates: ModelRates | null = null;
    if (budgets.length) {
      rates = this.prices.ratesFor(estimate.provider, estimate.model);
      if (!rates && this.unpriced.get(subject.organizationId) !== 'allow') {
        throw new LimitRefusal(
          'budget',
          `${estimate.provider}:${estimate.model} has no known price and ${describe(budgets[0]!)} applies, so the call is refused; an admin can set its price (keyward price set) or allow unpriced calls.`,
        );
      }
    }
    let maxOutputTokens: number | undefined;
    let webSearchUses: number[] | undefined;
    let inputCost = 0;
    if (rates) {
      inputCost = costNanoUsd(rates, { input: inputTokens, output: 0, cachedInput: 0, cacheWrite: 0 });
      const perOutput = estimate.producesOutput ? costNanoUsd(rates, { input: inputTokens, output: 1_000_000, cachedInput: 0, cacheWrite: 0 }) - inputCost : 0;
      const askedOutput = estimate.producesOutput ? (estimate.maxOutputTokens ?? DEFAULT_OUTPUT_TOKENS) : 0;
      // max_tokens binds each answer: n answers may cost n times it.
      const answers = Math.max(1, Math.floor(estimate.answers ?? 1));
      const outputCost = (tokens: number) => Math.ceil((tokens * answers * perOutput) / 1_000_000);
      // Searches are billed per search, whatever the tokens: each tool may run its max_uses.
      const searchFee = rates.webSearch ?? 0;
      const searchTools = searchFee > 0 ? (estimate.webSearchTools?.() ?? []) : [];
      const askedUses = searchTools.map((uses) => uses ?? DEFAULT_WEB_SEARCHES);
      const askedSearches = askedUses.reduce((sum, uses) => sum + uses, 0);
      const searchCost = (searches: number) => searches * searchFee;
      const want = inputCost + outputCost(askedOutput) + searchCost(askedSearches);
      // Like output (MIN_OUTPUT_TOKENS), a tool is cut to one search at least, never to none: a call
      // that cannot pay for that is refused, as the caller asked for a tool it could not use.
      const min = inputCost + outputCost(Math.min(askedOutput, MIN_OUTPUT_TOKENS)) + searchCost(searchTools.length);
      let allowance = want;
      for (const limit of budgets) {
        const start = periodStart(limit.period!, now);
        const reserving = this.ledger.reserve(limit.id, start, limit.nanoUsd!, want, min);
        const amount = typeof reserving === 'object' && reserving !== null ? await reserving : reserving;
        if (amount === null) {
          throw new LimitRefusal(
            'budget',
            `Spending limit reached: ${describe(limit)} of $${nanoToUsd(limit.nanoUsd!)} per ${limit.period} cannot pay for this call; ${resetsText(limit, now)}${limit.chosenByUser ? '; you can raise it under Connected apps in Keyward' : ''}.`,
          );
        }
        reserved.push({ limit, start, amount });
        allowance = Math.min(allowance, amount);
      }
      // Searches give way before output: a search cut short tells the model so and it still
      // answers, while an answer cut by max_tokens stops mid-sentence.
      let searches = askedSearches;
      if (searchTools.length) {
        const affordable = Math.floor((allowance - inputCost - outputCost(askedOutput)) / searchFee);
        searches = Math.max(searchTools.length, Math.min(askedSearches, affordable));
        const uses = spreadSearches(searches, askedUses);
        if (uses.some((n, i) => n !== searchTools[i])) webSearchUses = uses;
      }
      if (estimate.producesOutput && perOutput > 0) {
        const affordable = Math.min(askedOutput, Math.floor(((allowance - inputCost - searchCost(searches)) * 1_000_000) / (perOutput * answers)));
        if (affordable < askedOutput || estimate.maxOutputTokens === undefined) maxOutputTokens = affordable;
        allowance = Math.min(allowance, inputCost + outputCost(affordable) + searchCost(searches));
      }
      // Each limit keeps only what the tightest lets the call spend.
      for (const r of reserved) {
        if (r.amount > allowance) this.ledger.unreserve(r.limit.id, r.start, r.amount - allowance);
        r.amount = Math.min(r.amount, allowance);
      }
    }

    let settled = false;
    return {
      maxOutputTokens,
      webSearchUses,
      settle: (outcome) => {
        if (settled) return;
        settled = true;
        const reported = outcome.costNanoUsd ?? (outcome.inputTokens === null && outcome.unreported === 'input' ? inputCost : 0);
        for (const r of reserved) {
          // An answer whose usage never arrived is charged what the call was allowed (its output was capped to that).
          const actual = outcome.unreported === 'reservation' ? Math.max(reported, r.amount) : reported;
          this.ledger.settle(r.limit.id, r.start, r.amount, actual);
        }
        // A free call (a token count) uses no model tokens, whatever number it answers with.
        const tokens = estimate.free ? 0 : (outcome.inputTokens ?? 0) + (outcome.outputTokens ?? 0);
        for (const limit of rated) this.rates.addTokens(limit.id, tokens);
      },
    };
  }

  /** Once per limit and period, past its alert threshold: see spending-alerts.ts. */
  private async checkAlert(limitId: string, start: number): Promise<void> {
    const limit = this.limitsById.get(limitId);
    if (limit) await raiseSpendingAlertIfDue(this.db, this.log, limit, start);
  }

  async close(): Promise<void> {
    await this.job.stop();
    await this.ledger.close();
    await this.rates.sync().catch(() => undefined);
  }
}

/** `total` searches among tools that asked for `asked` each, in order: each keeps at least one, none more than it asked. */
function spreadSearches(total: number, asked: readonly number[]): number[] {
  let left = total;
  return asked.map((uses, i) => {
    const given = Math.max(1, Math.min(uses, left - (asked.length - i - 1)));
    left -= given;
    return given;
  });
}
