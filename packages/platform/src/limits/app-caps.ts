// Per-app spending caps chosen by the user: at consent and in Connected apps a person picks how much
// one app may spend as them (an `app` spending limit for that user and client), within the default
// and maximum their organization set for self-registered apps. Validation, who may, the write, the
// change notice and the audit entry all live here; pages only call it.

import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { requireAdmin, type Actor } from '../access/actor.js';
import type { AppContext } from '../app-context.js';
import { recordAudit, type AuditActor } from '../audit/audit-log.js';
import type { Database } from '../db/schema.js';
import { KeywardError } from '../errors.js';
import { microUsdToString, parseUsdPerMtok } from '../usage/call-cost.js';
import { periodEnd, periodStart, type LimitPeriod } from './limit-periods.js';
import { listLimits, MAX_LIMIT_MICRO_USD } from './spending-limits.js';

/** Periods a person picks from; a cap an administrator set with the CLI may have another. */
export const APP_CAP_PERIODS = ['day', 'month'] as const;
export type AppCapPeriod = (typeof APP_CAP_PERIODS)[number];

export interface AppCap {
  nanoUsd: number;
  period: LimitPeriod;
}

/** What the consent page offers besides "No limit" and "Another amount…". */
export const APP_CAP_PRESETS: readonly AppCap[] = [
  { nanoUsd: 1_000_000_000, period: 'day' },
  { nanoUsd: 5_000_000_000, period: 'month' },
  { nanoUsd: 20_000_000_000, period: 'month' },
];

export interface AppCapPolicy {
  /** Preselected at consent; null: "No limit" (only when there is no maximum). */
  defaultCap: AppCap | null;
  /** The highest cap a user may choose; null: any, and "No limit" is offered. */
  maximum: AppCap | null;
}

/** The control's form fields, as posted (consent, Connected apps, the console's policy form with a prefix). */
export interface CapChoiceFields {
  choice?: unknown;
  usd?: unknown;
  period?: unknown;
}

export const invalidCap = (message: string) => new KeywardError('invalid_spending_limit', message, 400);

const PERIOD_WORDS: Record<LimitPeriod, string> = { day: 'day', week: 'week', month: 'month', total: 'in total' };

/** "$1 per day", "$0.05 per month": the exact amount, as the options read. */
export function capLabel(cap: AppCap | null): string {
  if (!cap) return 'No limit';
  const amount = `$${microUsdToString(Math.ceil(cap.nanoUsd / 1000))}`;
  return cap.period === 'total' ? `${amount} in total` : `${amount} per ${PERIOD_WORDS[cap.period]}`;
}

/** The option value that stands for a cap: `1/day`, `0.05/month`. */
export const capValue = (cap: AppCap | null) => (cap ? `${microUsdToString(Math.ceil(cap.nanoUsd / 1000))}/${cap.period}` : 'none');

const sameCap = (a: AppCap | null, b: AppCap | null) => (a === null || b === null ? a === b : a.nanoUsd === b.nanoUsd && a.period === b.period);

function parseAmount(raw: unknown): number {
  const text = typeof raw === 'string' ? raw.trim().replace(/^\$/, '').trim() : '';
  if (!text) throw invalidCap('Enter an amount in USD, like 2 or 0.50.');
  const micro = parseUsdPerMtok(text);
  if (micro === null) throw invalidCap(`"${text.slice(0, 40)}" is not an amount in USD: use digits with up to six decimals, like 2 or 0.50.`);
  if (micro === 0) throw invalidCap('The amount must be more than $0 (to stop an app from spending, revoke it).');
  if (micro > MAX_LIMIT_MICRO_USD) throw invalidCap('The amount is at most $9,000,000.');
  return micro * 1000;
}

/**
 * The cap the control's fields describe; `fallback` when the choice is missing (a client that posts
 * only the decision gets what the page preselected). Throws invalid_spending_limit on bad input.
 */
export function parseCapChoice(fields: CapChoiceFields, fallback: AppCap | null): AppCap | null {
  const choice = fields.choice;
  if (choice === undefined || choice === '') return fallback;
  if (choice === 'none') return null;
  if (choice === 'custom') {
    const nanoUsd = parseAmount(fields.usd);
    if (!APP_CAP_PERIODS.includes(fields.period as AppCapPeriod)) throw invalidCap('Choose whether the amount is per day or per month.');
    return { nanoUsd, period: fields.period as AppCapPeriod };
  }
  const match = typeof choice === 'string' ? /^([^/]+)\/([a-z]+)$/.exec(choice) : null;
  // Day or month only: a person's cap never takes another period (each period counts apart).
  if (!match || !APP_CAP_PERIODS.includes(match[2] as AppCapPeriod)) throw invalidCap('Choose a spending limit from the list.');
  return { nanoUsd: parseAmount(match[1]), period: match[2] as LimitPeriod };
}

/**
 * How many periods of a cap one period of the maximum can touch: a per-day cap can be spent on each
 * of a month's 31 days, a per-month cap entirely within one day, a week can straddle two months.
 */
function periodsWithin(cap: LimitPeriod, maximum: LimitPeriod): number {
  if (cap === maximum || cap === 'total') return 1;
  if (maximum === 'total') return Infinity;
  const table: Record<string, number> = { 'day:week': 7, 'day:month': 31, 'week:day': 1, 'week:month': 6, 'month:day': 1, 'month:week': 2 };
  return table[`${cap}:${maximum}`]!;
}

/** A cap is within the maximum when the most it lets the app spend in one period of the maximum is no more than the maximum. */
export function capWithinMaximum(cap: AppCap | null, maximum: AppCap | null): boolean {
  if (!maximum) return true;
  if (!cap) return false;
  return cap.nanoUsd * periodsWithin(cap.period, maximum.period) <= maximum.nanoUsd;
}

function requireWithinMaximum(cap: AppCap | null, maximum: AppCap | null): void {
  if (capWithinMaximum(cap, maximum)) return;
  if (!cap) throw invalidCap(`Your organization requires a spending limit for apps: at most ${capLabel(maximum)}.`);
  const perDayInMonth = cap.period === 'day' && maximum!.period === 'month' ? ` (a daily limit counts 31 times against a monthly maximum: ${capLabel(cap)} can spend $${microUsdToString((cap.nanoUsd * 31) / 1000)} in a month)` : '';
  throw invalidCap(`${capLabel(cap)} is above your organization's maximum of ${capLabel(maximum)}${perDayInMonth}.`);
}

/** The options the control offers under a policy, with the one to preselect. */
export function capOptions(policy: AppCapPolicy, current: AppCap | null | undefined): { options: Array<AppCap | null>; selected: AppCap | null } {
  const offered: Array<AppCap | null> = policy.maximum ? [] : [null];
  for (const preset of APP_CAP_PRESETS) if (capWithinMaximum(preset, policy.maximum)) offered.push(preset);
  const fallback = policy.maximum ? (policy.defaultCap ?? policy.maximum) : policy.defaultCap;
  const selected = current !== undefined && capWithinMaximum(current, policy.maximum) ? current : fallback;
  for (const extra of [fallback, selected]) if (extra && !offered.some((o) => sameCap(o, extra))) offered.push(extra);
  return { options: offered, selected };
}

// ---- the organization's default and maximum -------------------------------------------------

const capFrom = (nano: number | null, period: string | null): AppCap | null =>
  nano === null || period === null ? null : { nanoUsd: Number(nano), period: period as LimitPeriod };

export async function readAppCapPolicy(db: Kysely<Database>, organizationId: string): Promise<AppCapPolicy> {
  const row = await db
    .selectFrom('organization_settings')
    .select(['app_cap_default_nano_usd', 'app_cap_default_period', 'app_cap_max_nano_usd', 'app_cap_max_period'])
    .where('organization_id', '=', organizationId)
    .executeTakeFirst();
  return {
    defaultCap: capFrom(row?.app_cap_default_nano_usd ?? null, row?.app_cap_default_period ?? null),
    maximum: capFrom(row?.app_cap_max_nano_usd ?? null, row?.app_cap_max_period ?? null),
  };
}

/** The default and the maximum, each an amount in USD (empty: No limit / no maximum) and a period (day or month). */
export interface AppCapPolicyInput {
  defaultUsd?: unknown;
  defaultPeriod?: unknown;
  maximumUsd?: unknown;
  maximumPeriod?: unknown;
}

function parsePolicyCap(usd: unknown, period: unknown, what: string): AppCap | null {
  if (usd === undefined || usd === null || (typeof usd === 'string' && usd.trim() === '')) return null;
  try {
    return parseCapChoice({ choice: 'custom', usd, period }, null);
  } catch (error) {
    throw invalidCap(`${what}: ${(error as Error).message}`);
  }
}

/** An administrator sets the default and maximum cap for self-registered apps of their organization. */
export async function setAppCapPolicy(ctx: Pick<AppContext, 'db' | 'changes'>, actor: Actor, input: AppCapPolicyInput): Promise<AppCapPolicy> {
  requireAdmin(actor);
  const defaultCap = parsePolicyCap(input.defaultUsd, input.defaultPeriod, 'Default limit');
  const maximum = parsePolicyCap(input.maximumUsd, input.maximumPeriod, 'Maximum limit');
  if (maximum && defaultCap && !capWithinMaximum(defaultCap, maximum)) {
    throw invalidCap(`The default (${capLabel(defaultCap)}) is above the maximum (${capLabel(maximum)}).`);
  }
  const values = {
    app_cap_default_nano_usd: defaultCap?.nanoUsd ?? null,
    app_cap_default_period: defaultCap?.period ?? null,
    app_cap_max_nano_usd: maximum?.nanoUsd ?? null,
    app_cap_max_period: maximum?.period ?? null,
    updated_at: Date.now(),
  };
  await ctx.db
    .insertInto('organization_settings')
    .values({ organization_id: actor.organizationId, key_base_url_allow: null, ...values })
    .onConflict((oc) => oc.column('organization_id').doUpdateSet(values))
    .execute();
  await ctx.changes.publish('app_cap_policy', actor.organizationId);
  await recordAudit(ctx.db, actor, {
    action: 'app_cap_policy.set',
    targetKind: 'organization',
    targetId: actor.organizationId,
    detail: `default ${capLabel(defaultCap)}, maximum ${maximum ? capLabel(maximum) : 'none'}`,
  });
  return { defaultCap, maximum };
}

// ---- one person's cap on one app ------------------------------------------------------------

export interface AppCapState {
  cap: AppCap | null;
  /** Settled spend in the cap's current period (or this month's, with no cap). */
  spentNanoUsd: number;
  /** When the cap's period ends; null for no cap or a total. */
  resetsAt: number | null;
}

async function appLimitRow(db: Kysely<Database>, organizationId: string, userId: string, clientId: string) {
  return db
    .selectFrom('spending_limits')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('scope', '=', 'app')
    .where('user_id', '=', userId)
    .where('client_id', '=', clientId)
    .where('chosen_by', '=', 'user')
    .executeTakeFirst();
}

/**
 * A person's cap on an app has one id for good (derived from organization, person and app), so a cap
 * removed with its grant and chosen again at the next consent keeps counting the same period's
 * spend: revoking and re-allowing an app never buys it a fresh budget.
 */
export function appCapLimitId(organizationId: string, userId: string, clientId: string): string {
  const hex = createHash('sha256').update(`app-cap\u0000${organizationId}\u0000${userId}\u0000${clientId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The user's current cap on an app (undefined: none set; null is never returned here). */
export async function findAppCap(db: Kysely<Database>, organizationId: string, userId: string, clientId: string): Promise<AppCap | undefined> {
  const row = await appLimitRow(db, organizationId, userId, clientId);
  return capFrom(row?.nano_usd ?? null, row?.period ?? null) ?? undefined;
}

/** Each app's cap and spend for one person, by client id (apps without a cap: this month's spend from usage). */
export async function appCapsOfUser(db: Kysely<Database>, organizationId: string, userId: string, clientIds: string[], now = Date.now()): Promise<Map<string, AppCapState>> {
  const out = new Map<string, AppCapState>();
  for (const limit of await listLimits(db, organizationId, { userId }, now)) {
    if (limit.scope !== 'app' || limit.chosenBy !== 'user' || !limit.clientId || limit.nanoUsd === null || !limit.period) continue;
    out.set(limit.clientId, {
      cap: { nanoUsd: limit.nanoUsd, period: limit.period },
      spentNanoUsd: limit.spentNanoUsd ?? 0,
      resetsAt: limit.resetsAt ? Date.parse(limit.resetsAt) : null,
    });
  }
  const uncapped = clientIds.filter((id) => !out.has(id));
  if (uncapped.length) {
    const rows = await db
      .selectFrom('usage_records')
      .select(['client_id', (eb) => eb.fn.sum<number | string | null>('cost_nano_usd').as('cost')])
      .where('user_id', '=', userId)
      .where('client_id', 'in', uncapped)
      .where('created_at', '>=', periodStart('month', now))
      .groupBy('client_id')
      .execute();
    for (const id of uncapped) {
      const cost = rows.find((r) => r.client_id === id)?.cost;
      out.set(id, { cap: null, spentNanoUsd: Number(cost ?? 0), resetsAt: periodEnd('month', now) });
    }
  }
  return out;
}

/** Does this person hold a live grant for this app? */
async function hasGrant(db: Kysely<Database>, userId: string, clientId: string, exceptGrantId?: string): Promise<boolean> {
  let query = db
    .selectFrom('oauth_payloads')
    .select('id')
    .where('model', '=', 'Grant')
    .where('account_id', '=', userId)
    .where('client_id', '=', clientId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', Date.now())]));
  if (exceptGrantId) query = query.where('id', '!=', exceptGrantId);
  return Boolean(await query.executeTakeFirst());
}

/**
 * Writes the person's cap: its own `app` limit row (chosen_by 'user'), apart from any limit an
 * administrator set on the same person and app, which it never changes. Removing it keeps the
 * period's recorded spend (limit_periods) under the same id. Returns the previous cap when it changed.
 */
async function writeAppCap(ctx: Pick<AppContext, 'db' | 'changes'>, organizationId: string, userId: string, clientId: string, cap: AppCap | null): Promise<{ previous: AppCap | null } | undefined> {
  const existing = await appLimitRow(ctx.db, organizationId, userId, clientId);
  const previous = capFrom(existing?.nano_usd ?? null, existing?.period ?? null);
  if (sameCap(previous, cap)) return undefined;
  const id = appCapLimitId(organizationId, userId, clientId);
  if (cap) {
    // An upsert on the derived id: two consents answered at once leave one row, not two.
    await ctx.db
      .insertInto('spending_limits')
      .values({ id, organization_id: organizationId, scope: 'app', team_id: null, user_id: userId, client_id: clientId, proxy_id: null, nano_usd: cap.nanoUsd, period: cap.period, requests_per_minute: null, tokens_per_minute: null, alert_percent: null, created_at: Date.now(), chosen_by: 'user' })
      .onConflict((oc) => oc.column('id').doUpdateSet({ nano_usd: cap.nanoUsd, period: cap.period }))
      .execute();
  } else {
    await ctx.db.deleteFrom('spending_limits').where('id', '=', id).execute();
  }
  await ctx.changes.publish('spending_limit', id);
  return { previous };
}

async function writeAndAudit(ctx: Pick<AppContext, 'db' | 'changes'>, actor: AuditActor & { organizationId: string }, userId: string, clientId: string, cap: AppCap | null): Promise<void> {
  const changed = await writeAppCap(ctx, actor.organizationId, userId, clientId, cap);
  if (!changed) return;
  await recordAudit(ctx.db, actor, {
    action: cap ? 'app_cap.set' : 'app_cap.removed',
    targetKind: 'oauth_client',
    targetId: clientId,
    detail: `${capLabel(cap)} for user ${userId}${changed.previous ? ` (was ${capLabel(changed.previous)})` : ''}`,
  });
}

/**
 * At consent, before the grant is saved: the cap the person chose for the app, checked against the
 * organization's maximum (throws invalid_spending_limit, so nothing is granted). Call `apply` after.
 */
export async function checkConsentCap(db: Kysely<Database>, organizationId: string, fields: CapChoiceFields, preselected: AppCap | null): Promise<AppCap | null> {
  const policy = await readAppCapPolicy(db, organizationId);
  const cap = parseCapChoice(fields, preselected);
  requireWithinMaximum(cap, policy.maximum);
  return cap;
}

/** The consenting person's cap becomes the app limit for (them, this app). */
export async function applyConsentCap(ctx: Pick<AppContext, 'db' | 'changes'>, actor: AuditActor & { userId: string; organizationId: string }, clientId: string, cap: AppCap | null): Promise<void> {
  await writeAndAudit(ctx, actor, actor.userId, clientId, cap);
}

/** Connected apps: a person changes the cap of an app they granted (an administrator may for anyone), within the maximum. */
export async function changeAppCap(
  ctx: Pick<AppContext, 'db' | 'changes'>,
  actor: Actor,
  input: { userId: string; clientId: string; fields: CapChoiceFields },
): Promise<AppCap | null> {
  if (actor.userId !== input.userId) requireAdmin(actor);
  if (!(await hasGrant(ctx.db, input.userId, input.clientId))) throw new KeywardError('not_found', 'That app is not connected to this account.', 404);
  const current = await findAppCap(ctx.db, actor.organizationId, input.userId, input.clientId);
  const policy = await readAppCapPolicy(ctx.db, actor.organizationId);
  const cap = parseCapChoice(input.fields, current ?? null);
  requireWithinMaximum(cap, policy.maximum);
  await writeAndAudit(ctx, actor, input.userId, input.clientId, cap);
  return cap;
}

/**
 * A grant ended (revoked, replayed, the app blocked): the cap belonged to it, so it goes too, unless
 * the person still holds another grant for the same app (another browser's session).
 */
export async function removeCapOfEndedGrant(ctx: Pick<AppContext, 'db' | 'changes'>, grant: { id: string; accountId: string; clientId: string }): Promise<boolean> {
  if (await hasGrant(ctx.db, grant.accountId, grant.clientId, grant.id)) return false;
  const rows = await ctx.db.selectFrom('spending_limits').select('organization_id').where('scope', '=', 'app').where('chosen_by', '=', 'user').where('user_id', '=', grant.accountId).where('client_id', '=', grant.clientId).execute();
  let removed = false;
  for (const row of rows) removed = Boolean(await writeAppCap(ctx, row.organization_id, grant.accountId, grant.clientId, null)) || removed;
  return removed;
}
