// Reading usage back: the rows, totals, daily series and top lists the console, the CSV export and
// `keyward usage summary` show. Who may see what is decided here, from the actor: administrators
// see their organization's calls, members only their own.

import { sql, type Kysely } from 'kysely';
import { isAdmin, type Actor } from '../access/actor.js';
import { nanoToUsd } from './call-cost.js';
import type { Database } from '../db/schema.js';
import type { UsageOutcome } from './usage-record.js';

export const USAGE_OUTCOMES: readonly UsageOutcome[] = ['ok', 'rejected', 'upstream_error', 'upstream_timeout', 'client_aborted'];

export const DAY_MS = 86_400_000;

/** A time range [from, to) in ms, and the filters a reader may set; unset filters match everything. */
export interface UsageFilter {
  from: number;
  to: number;
  userId?: string;
  clientId?: string;
  proxyId?: string;
  provider?: string;
  model?: string;
  outcome?: UsageOutcome;
}

export interface UsageRow {
  id: string;
  requestId: string;
  createdAt: number;
  userId: string | null;
  userEmail: string | null;
  clientId: string | null;
  appName: string | null;
  proxyId: string | null;
  proxyName: string | null;
  endpoint: string;
  provider: string | null;
  model: string | null;
  stream: boolean;
  inputTokens: number | null;
  outputTokens: number | null;
  cachedTokens: number | null;
  reasoningTokens: number | null;
  latencyMs: number;
  timeToFirstTokenMs: number | null;
  status: number;
  outcome: string;
  errorMessage: string | null;
}

export interface UsageTotals {
  calls: number;
  failed: number;
  inputTokens: number;
  outputTokens: number;
  /** Integer nano-USD summed, shown in USD; null when no call in it has a known price. */
  costUsd: number | null;
  /** Calls whose model had no known price (their cost is not in costUsd). */
  unpricedCalls: number;
}

export interface UsageDay extends UsageTotals {
  /** Start of the UTC day, ms. */
  day: number;
}

export type UsageDimension = 'user' | 'app' | 'model';

export interface UsageRanking extends UsageTotals {
  key: string | null;
  label: string;
}

/**
 * The calls this actor may see in the range, filtered: an administrator, the organization's calls
 * (and those of its members refused before a proxy was known, which carry no organization);
 * anyone else, their own.
 */
function filtered(db: Kysely<Database>, actor: Actor, filter: UsageFilter) {
  let query = db
    .selectFrom('usage_records as u')
    .where((eb) => {
      if (!isAdmin(actor)) return actor.userId === null ? eb.val(false) : eb('u.user_id', '=', actor.userId);
      return eb.or([
        eb('u.organization_id', '=', actor.organizationId),
        eb.and([
          eb('u.organization_id', 'is', null),
          eb('u.user_id', 'in', eb.selectFrom('memberships').select('user_id').where('organization_id', '=', actor.organizationId)),
        ]),
      ]);
    })
    .where('u.created_at', '>=', filter.from)
    .where('u.created_at', '<', filter.to);
  if (filter.userId) query = query.where('u.user_id', '=', filter.userId);
  if (filter.clientId) query = query.where('u.client_id', '=', filter.clientId);
  if (filter.proxyId) query = query.where('u.proxy_id', '=', filter.proxyId);
  if (filter.provider) query = query.where('u.provider', '=', filter.provider);
  if (filter.model) query = query.where('u.model', '=', filter.model);
  if (filter.outcome) query = query.where('u.outcome', '=', filter.outcome);
  return query;
}

const totalsColumns = [
  sql<number | string>`count(*)`.as('calls'),
  sql<number | string>`coalesce(sum(case when u.outcome = 'ok' then 0 else 1 end), 0)`.as('failed'),
  sql<number | string>`coalesce(sum(u.input_tokens), 0)`.as('inputTokens'),
  sql<number | string>`coalesce(sum(u.output_tokens), 0)`.as('outputTokens'),
  sql<number | string | null>`sum(u.cost_nano_usd)`.as('costNanoUsd'),
  sql<number | string>`coalesce(sum(u.unpriced), 0)`.as('unpricedCalls'),
] as const;
const byCalls = sql`count(*) desc`;

// PostgreSQL returns sums and counts of bigints as strings.
type TotalsRow = { calls: unknown; failed: unknown; inputTokens: unknown; outputTokens: unknown; costNanoUsd: unknown; unpricedCalls: unknown };
const totalsOf = (row: TotalsRow | undefined): UsageTotals => {
  const unpricedCalls = Number(row?.unpricedCalls ?? 0);
  const cost = row?.costNanoUsd;
  return {
    calls: Number(row?.calls ?? 0),
    failed: Number(row?.failed ?? 0),
    inputTokens: Number(row?.inputTokens ?? 0),
    outputTokens: Number(row?.outputTokens ?? 0),
    costUsd: cost === null || cost === undefined ? (unpricedCalls > 0 ? null : 0) : nanoToUsd(Number(cost)),
    unpricedCalls,
  };
};

/** Calls, failures and tokens in the range. */
export async function usageTotals(db: Kysely<Database>, actor: Actor, filter: UsageFilter): Promise<UsageTotals> {
  return totalsOf(await filtered(db, actor, filter).select(totalsColumns).executeTakeFirst());
}

/** One entry per UTC day of the range that had calls, oldest first. */
export async function usageByDay(db: Kysely<Database>, actor: Actor, filter: UsageFilter): Promise<UsageDay[]> {
  const day = sql<number | string>`(u.created_at / ${sql.lit(DAY_MS)})`;
  const rows = await filtered(db, actor, filter).select([day.as('day'), ...totalsColumns]).groupBy(day).orderBy(day).execute();
  return rows.map((row) => ({ day: Number(row.day) * DAY_MS, ...totalsOf(row) }));
}

/** The users, apps or models with the most calls in the range. */
export async function topUsage(db: Kysely<Database>, actor: Actor, filter: UsageFilter, by: UsageDimension, limit = 5): Promise<UsageRanking[]> {
  const base = filtered(db, actor, filter)
    .leftJoin('users', 'users.id', 'u.user_id')
    .leftJoin('oauth_clients as c', 'c.client_id', 'u.client_id');
  const rows =
    by === 'user'
      ? await base.select(['u.user_id as key', 'users.email as label', ...totalsColumns]).groupBy(['u.user_id', 'users.email']).orderBy(byCalls).limit(limit).execute()
      : by === 'app'
        ? await base.select(['u.client_id as key', 'c.name as label', ...totalsColumns]).groupBy(['u.client_id', 'c.name']).orderBy(byCalls).limit(limit).execute()
        : await base
            .select([sql<string | null>`case when u.model is null then null else coalesce(u.provider, '') || ':' || u.model end`.as('key'), sql<string | null>`null`.as('label'), ...totalsColumns])
            .groupBy(['u.provider', 'u.model'])
            .orderBy(byCalls)
            .limit(limit)
            .execute();
  return rows.map((row) => ({
    key: row.key,
    label: row.label || (by === 'user' ? (row.key ? 'a removed user' : 'a service (client credentials)') : by === 'app' ? (row.key ?? 'no app') : row.key || 'no model (model lists, calls refused before a model was chosen)'),
    ...totalsOf(row),
  }));
}

/** One page of calls, newest first, with their app, user and proxy names; `more` when another page follows. */
export async function listUsage(
  db: Kysely<Database>,
  actor: Actor,
  filter: UsageFilter,
  page: { limit: number; offset: number },
): Promise<{ rows: UsageRow[]; more: boolean }> {
  const rows = await filtered(db, actor, filter)
    .leftJoin('users', 'users.id', 'u.user_id')
    .leftJoin('oauth_clients as c', 'c.client_id', 'u.client_id')
    .leftJoin('llm_proxies as p', 'p.id', 'u.proxy_id')
    .selectAll('u')
    .select(['users.email as user_email', 'c.name as app_name', 'p.name as proxy_name'])
    .orderBy('u.created_at', 'desc')
    .orderBy('u.id', 'desc')
    .limit(page.limit + 1)
    .offset(page.offset)
    .execute();
  return {
    more: rows.length > page.limit,
    rows: rows.slice(0, page.limit).map((r) => ({
      id: r.id,
      requestId: r.request_id,
      createdAt: Number(r.created_at),
      userId: r.user_id,
      userEmail: r.user_email,
      clientId: r.client_id,
      appName: r.app_name,
      proxyId: r.proxy_id,
      proxyName: r.proxy_name,
      endpoint: r.endpoint,
      provider: r.provider,
      model: r.model,
      stream: Boolean(r.stream),
      inputTokens: r.input_tokens === null ? null : Number(r.input_tokens),
      outputTokens: r.output_tokens === null ? null : Number(r.output_tokens),
      cachedTokens: r.cached_tokens === null ? null : Number(r.cached_tokens),
      reasoningTokens: r.reasoning_tokens === null ? null : Number(r.reasoning_tokens),
      latencyMs: Number(r.latency_ms),
      timeToFirstTokenMs: r.time_to_first_token_ms === null ? null : Number(r.time_to_first_token_ms),
      status: Number(r.status),
      outcome: r.outcome,
      errorMessage: r.error_message,
    })),
  };
}

/** The choices the usage filters offer this actor: what appears in the calls it may see. */
export async function usageFilterChoices(db: Kysely<Database>, actor: Actor, range: { from: number; to: number }) {
  const scope = () => filtered(db, actor, range);
  const [users, apps, proxies, providers, models] = await Promise.all([
    isAdmin(actor)
      ? scope().innerJoin('users', 'users.id', 'u.user_id').select(['users.id as id', 'users.email as label']).distinct().orderBy('label').limit(500).execute()
      : Promise.resolve([]),
    scope().innerJoin('oauth_clients as c', 'c.client_id', 'u.client_id').select(['c.client_id as id', 'c.name as label']).distinct().orderBy('label').limit(500).execute(),
    scope().innerJoin('llm_proxies as p', 'p.id', 'u.proxy_id').select(['p.id as id', 'p.name as label']).distinct().orderBy('label').limit(500).execute(),
    scope().select('u.provider as id').where('u.provider', 'is not', null).distinct().orderBy('id').limit(100).execute(),
    scope().select('u.model as id').where('u.model', 'is not', null).distinct().orderBy('id').limit(500).execute(),
  ]);
  return {
    users: users.map((u) => ({ id: u.id, label: u.label })),
    apps: apps.map((a) => ({ id: a.id, label: a.label || a.id })),
    proxies: proxies.map((p) => ({ id: p.id, label: p.label })),
    providers: providers.map((p) => p.id!).filter(Boolean),
    models: models.map((m) => m.id!).filter(Boolean),
  };
}

/** Per user (or service), app and model: what `keyward usage summary` prints. */
export async function summarizeUsage(db: Kysely<Database>, actor: Actor, filter: UsageFilter) {
  const rows = await filtered(db, actor, filter)
    .leftJoin('users', 'users.id', 'u.user_id')
    .leftJoin('oauth_clients as c', 'c.client_id', 'u.client_id')
    .select(['users.email as user', 'u.client_id as clientId', 'c.name as app', 'u.provider as provider', 'u.model as model', ...totalsColumns])
    .groupBy(['users.email', 'u.client_id', 'c.name', 'u.provider', 'u.model'])
    .orderBy(byCalls)
    .limit(1000)
    .execute();
  return rows.map(({ calls, failed, inputTokens, outputTokens, costNanoUsd, unpricedCalls, ...rest }) => ({
    ...rest,
    ...totalsOf({ calls, failed, inputTokens, outputTokens, costNanoUsd, unpricedCalls }),
  }));
}

/** Per app, this actor's own calls in the range (the connected-apps page shows each app's recent use). */
export async function usageByApp(db: Kysely<Database>, actor: Actor, filter: UsageFilter): Promise<Map<string, UsageTotals>> {
  const rows = await filtered(db, actor, filter)
    .where('u.client_id', 'is not', null)
    .select(['u.client_id as clientId', ...totalsColumns])
    .groupBy('u.client_id')
    .execute();
  return new Map(rows.map((row) => [row.clientId!, totalsOf(row)]));
}
