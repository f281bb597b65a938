// Spending and rate limits: who they bind (org, team, user, one user's use of one app, a
// confidential client, a proxy), how much per period, and how many requests/tokens per minute.
// These validate, write and publish; who may call them is decided by the services that wrap them (limit-management.ts).

import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { AppContext } from '../app-context.js';
import type { Database } from '../db/schema.js';
import { KeywardError } from '../errors.js';
import { nanoToUsd, parseUsdPerMtok } from '../usage/call-cost.js';
import { LIMIT_PERIODS, periodEnd, periodStart, type LimitPeriod } from './limit-periods.js';

export const LIMIT_SCOPES = ['org', 'team', 'user', 'app', 'client', 'proxy'] as const;
export type LimitScope = (typeof LIMIT_SCOPES)[number];
export type UnpricedCallPolicy = 'refuse' | 'allow';

export interface SpendingLimitTable {
  id: string;
  organization_id: string;
  scope: string;
  team_id: string | null;
  user_id: string | null;
  client_id: string | null;
  proxy_id: string | null;
  nano_usd: number | null;
  period: string | null;
  requests_per_minute: number | null;
  tokens_per_minute: number | null;
  alert_percent: number | null;
  created_at: number;
  /** null: an administrator's limit; 'user': a person's own cap on an app (limits/app-caps.ts). */
  chosen_by: string | null;
}

export interface LimitPeriodTable {
  limit_id: string;
  period_start: number;
  spent_nano_usd: number;
  leased_nano_usd: number;
  alerted_at: number | null;
}

export interface RateWindowTable {
  limit_id: string;
  window_start: number;
  requests: number;
  tokens: number;
}

declare module '../db/schema.js' {
  interface Database {
    spending_limits: SpendingLimitTable;
    limit_periods: LimitPeriodTable;
    rate_windows: RateWindowTable;
  }
}

/** A limit as the router holds it: numbers, not strings. */
export interface SpendingLimit {
  id: string;
  organizationId: string;
  scope: LimitScope;
  teamId: string | null;
  userId: string | null;
  clientId: string | null;
  proxyId: string | null;
  nanoUsd: number | null;
  period: LimitPeriod | null;
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  alertPercent: number | null;
  /** True for a person's own cap on an app (consent, Connected apps), false for an administrator's limit. */
  chosenByUser: boolean;
}

export const toSpendingLimit = (row: SpendingLimitTable): SpendingLimit => ({
  id: row.id,
  organizationId: row.organization_id,
  scope: row.scope as LimitScope,
  teamId: row.team_id,
  userId: row.user_id,
  clientId: row.client_id,
  proxyId: row.proxy_id,
  nanoUsd: row.nano_usd === null ? null : Number(row.nano_usd),
  period: row.period as LimitPeriod | null,
  requestsPerMinute: row.requests_per_minute === null ? null : Number(row.requests_per_minute),
  tokensPerMinute: row.tokens_per_minute === null ? null : Number(row.tokens_per_minute),
  alertPercent: row.alert_percent === null ? null : Number(row.alert_percent),
  chosenByUser: row.chosen_by === 'user',
});

export interface LimitInput {
  organizationId: string;
  scope: string;
  teamId?: string | undefined;
  userId?: string | undefined;
  clientId?: string | undefined;
  proxyId?: string | undefined;
  /** Decimal USD, e.g. "5" or "0.05". */
  usd?: string | undefined;
  period?: string | undefined;
  requestsPerMinute?: number | undefined;
  tokensPerMinute?: number | undefined;
  /** Percent of the amount at which an alert is raised once per period. */
  alertPercent?: number | undefined;
}

/** Which input a refusal is about, so a form can show it next to that field. */
export type LimitField = 'scope' | 'teamId' | 'userId' | 'clientId' | 'proxyId' | 'usd' | 'period' | 'requestsPerMinute' | 'tokensPerMinute' | 'alertPercent';

export class LimitInputError extends KeywardError {
  constructor(
    message: string,
    readonly field: LimitField,
    code = 'invalid_limit',
    status = 400,
  ) {
    super(code, message, status);
  }
}

const invalid = (message: string, field: LimitField) => new LimitInputError(message, field);

/** Which subject fields each scope needs; the others must be absent. */
export const LIMIT_SUBJECT_FIELDS: Record<LimitScope, Array<'teamId' | 'userId' | 'clientId' | 'proxyId'>> = {
  org: [],
  team: ['teamId'],
  user: ['userId'],
  app: ['userId', 'clientId'],
  client: ['clientId'],
  proxy: ['proxyId'],
};

/** The most a per-minute rate can be: the columns are 32-bit integers on PostgreSQL. */
const MAX_PER_MINUTE = 2_147_483_647;
/** The largest spending limit, in micro-USD: its nano-USD stay exact in a JavaScript number (below 2^53). */
/** The largest limit (USD 9,000,000): in nano-USD, sums of it stay exact JavaScript integers. */
export const MAX_LIMIT_MICRO_USD = 9_000_000 * 1_000_000;

const positiveInt = (name: string, field: LimitField, value: number | undefined) => {
  if (value === undefined) return null;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PER_MINUTE) throw invalid(`${name} must be a positive whole number, at most ${MAX_PER_MINUTE}`, field);
  return value;
};

/** Creates the limit for a subject, or replaces the one it has: one limit per scope and subject. */
export async function setLimit(ctx: Pick<AppContext, 'db' | 'changes'>, input: LimitInput): Promise<{ id: string }> {
  const scope = input.scope as LimitScope;
  if (!LIMIT_SCOPES.includes(scope)) throw invalid(`scope must be one of ${LIMIT_SCOPES.join(', ')}`, 'scope');
  for (const field of ['teamId', 'userId', 'clientId', 'proxyId'] as const) {
    const needed = LIMIT_SUBJECT_FIELDS[scope].includes(field);
    if (needed && !input[field]) throw invalid(`a ${scope} limit needs ${flag(field)}`, field);
    if (!needed && input[field]) throw invalid(`a ${scope} limit takes no ${flag(field)}`, field);
  }
  let nanoUsd: number | null = null;
  if (input.usd !== undefined) {
    const micro = parseUsdPerMtok(input.usd);
    if (micro === null) throw invalid(`--usd takes an amount in USD like 5 or 0.05, got "${input.usd}"`, 'usd');
    if (micro > MAX_LIMIT_MICRO_USD) throw invalid('--usd is at most 9000000 (USD)', 'usd');
    nanoUsd = micro * 1000;
    if (!input.period || !LIMIT_PERIODS.includes(input.period as LimitPeriod)) throw invalid(`a spending limit needs --period ${LIMIT_PERIODS.join('|')}`, 'period');
  } else if (input.period) throw invalid('--period goes with --usd', 'usd');
  const rpm = positiveInt('requests per minute', 'requestsPerMinute', input.requestsPerMinute);
  const tpm = positiveInt('tokens per minute', 'tokensPerMinute', input.tokensPerMinute);
  if (nanoUsd === null && rpm === null && tpm === null) throw invalid('set at least one of --usd, --requests-per-minute, --tokens-per-minute', 'usd');
  const alert = input.alertPercent === undefined ? null : input.alertPercent;
  if (alert !== null && (!Number.isInteger(alert) || alert < 1 || alert > 100)) throw invalid('the alert threshold is a percent from 1 to 100', 'alertPercent');
  if (alert !== null && nanoUsd === null) throw invalid('an alert threshold needs --usd', 'alertPercent');
  await checkSubject(ctx.db, input);

  const subject = {
    team_id: input.teamId ?? null,
    user_id: input.userId ?? null,
    client_id: input.clientId ?? null,
    proxy_id: input.proxyId ?? null,
  };
  const values = {
    nano_usd: nanoUsd,
    period: nanoUsd === null ? null : input.period!,
    requests_per_minute: rpm,
    tokens_per_minute: tpm,
    alert_percent: alert,
  };
  // An administrator's limit; a person's own app cap (chosen_by 'user') is another row, left alone.
  let query = ctx.db.selectFrom('spending_limits').select('id').where('organization_id', '=', input.organizationId).where('scope', '=', scope).where('chosen_by', 'is', null);
  for (const [column, value] of Object.entries(subject) as Array<[keyof typeof subject, string | null]>) query = query.where(column, value === null ? 'is' : '=', value);
  const existing = await query.executeTakeFirst();
  const id = existing?.id ?? randomUUID();
  if (existing) await ctx.db.updateTable('spending_limits').set(values).where('id', '=', id).execute();
  else await ctx.db.insertInto('spending_limits').values({ id, organization_id: input.organizationId, scope, ...subject, ...values, created_at: Date.now(), chosen_by: null }).execute();
  await ctx.changes.publish('spending_limit', id);
  return { id };
}

const flag = (field: string) => `--${field.replace(/Id$/, '')}`;

async function checkSubject(db: Kysely<Database>, input: LimitInput): Promise<void> {
  if (input.teamId) {
    const team = await db.selectFrom('teams').select('id').where('id', '=', input.teamId).where('organization_id', '=', input.organizationId).executeTakeFirst();
    if (!team) throw new LimitInputError(`there is no team "${input.teamId}" in this organization`, 'teamId', 'not_found', 404);
  }
  if (input.proxyId) {
    const proxy = await db.selectFrom('llm_proxies').select('id').where('id', '=', input.proxyId).where('organization_id', '=', input.organizationId).executeTakeFirst();
    if (!proxy) throw new LimitInputError(`there is no LLM proxy "${input.proxyId}" in this organization`, 'proxyId', 'not_found', 404);
  }
  if (input.clientId) {
    const client = await db.selectFrom('oauth_clients').select(['client_id', 'secret_hash']).where('client_id', '=', input.clientId).executeTakeFirst();
    if (!client) throw new LimitInputError(`there is no OAuth client "${input.clientId}"`, 'clientId', 'not_found', 404);
    if (input.scope === 'client' && client.secret_hash === null) throw invalid('a client limit is for confidential clients; limit a public app per user with --scope app --user E --client ID', 'clientId');
  }
}

export async function removeLimit(ctx: Pick<AppContext, 'db' | 'changes'>, id: string): Promise<{ id: string; removed: true }> {
  const result = await ctx.db.deleteFrom('spending_limits').where('id', '=', id).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw new KeywardError('not_found', `there is no limit "${id}"`, 404);
  await ctx.db.deleteFrom('limit_periods').where('limit_id', '=', id).execute();
  await ctx.changes.publish('spending_limit', id);
  return { id, removed: true };
}

export interface LimitView {
  id: string;
  scope: LimitScope;
  teamId: string | null;
  userId: string | null;
  user: string | null;
  clientId: string | null;
  proxyId: string | null;
  usd: number | null;
  /** The amount and this period's settled spend as integers (usd and spentUsd are for display). */
  nanoUsd: number | null;
  spentNanoUsd: number | null;
  period: LimitPeriod | null;
  /** Settled spend of the current period (calls in flight and the last second's settlements not yet included). */
  spentUsd: number | null;
  resetsAt: string | null;
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  alertPercent: number | null;
  alerted: boolean;
  /** null: set by an administrator; 'user': the person's own cap on an app. */
  chosenBy: 'user' | null;
}

/** The organization's limits with this period's spend; `userId` narrows to those naming that user (a member's own view). */
export async function listLimits(db: Kysely<Database>, organizationId: string, options: { userId?: string } = {}, now = Date.now()): Promise<LimitView[]> {
  let query = db
    .selectFrom('spending_limits as l')
    .leftJoin('users', 'users.id', 'l.user_id')
    .selectAll('l')
    .select('users.email')
    .where('l.organization_id', '=', organizationId);
  if (options.userId) query = query.where('l.user_id', '=', options.userId);
  const rows = await query.orderBy('l.created_at').execute();
  const periods = rows.length
    ? await db
        .selectFrom('limit_periods')
        .selectAll()
        .where(
          'limit_id',
          'in',
          rows.map((r) => r.id),
        )
        .execute()
    : [];
  return rows.map((row) => {
    const limit = toSpendingLimit(row);
    const start = limit.period ? periodStart(limit.period, now) : null;
    const current = periods.find((p) => p.limit_id === row.id && Number(p.period_start) === start);
    const end = limit.period ? periodEnd(limit.period, now) : null;
    return {
      id: limit.id,
      scope: limit.scope,
      teamId: limit.teamId,
      userId: limit.userId,
      user: row.email ?? null,
      clientId: limit.clientId,
      proxyId: limit.proxyId,
      usd: limit.nanoUsd === null ? null : nanoToUsd(limit.nanoUsd),
      period: limit.period,
      spentUsd: limit.nanoUsd === null ? null : nanoToUsd(Number(current?.spent_nano_usd ?? 0)),
      nanoUsd: limit.nanoUsd,
      spentNanoUsd: limit.nanoUsd === null ? null : Number(current?.spent_nano_usd ?? 0),
      resetsAt: end === null ? null : new Date(end).toISOString(),
      requestsPerMinute: limit.requestsPerMinute,
      tokensPerMinute: limit.tokensPerMinute,
      alertPercent: limit.alertPercent,
      alerted: current?.alerted_at !== null && current?.alerted_at !== undefined,
      chosenBy: row.chosen_by === 'user' ? 'user' : null,
    };
  });
}

/** May a call whose model has no known price run while a spending limit applies? Default: refuse. */
export async function setUnpricedCallPolicy(ctx: Pick<AppContext, 'db' | 'changes'>, organizationId: string, policy: string): Promise<{ unpricedCalls: UnpricedCallPolicy }> {
  if (policy !== 'refuse' && policy !== 'allow') throw new KeywardError('invalid_limit', 'unpriced calls under a limit are either "refuse" or "allow"');
  await ctx.db.updateTable('organizations').set({ unpriced_calls_under_limit: policy }).where('id', '=', organizationId).execute();
  await ctx.changes.publish('spending_limit', organizationId);
  return { unpricedCalls: policy };
}

export async function loadLimits(db: Kysely<Database>): Promise<{ limits: SpendingLimit[]; unpricedPolicy: Map<string, UnpricedCallPolicy> }> {
  const [rows, orgs] = await Promise.all([
    db.selectFrom('spending_limits').selectAll().execute(),
    db.selectFrom('organizations').select(['id', sql<string>`unpriced_calls_under_limit`.as('policy')]).execute(),
  ]);
  return {
    limits: rows.map(toSpendingLimit),
    unpricedPolicy: new Map(orgs.map((o) => [o.id, o.policy === 'allow' ? 'allow' : 'refuse'])),
  };
}
