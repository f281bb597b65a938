// Spending and rate limits as people manage them: administrators set and remove any limit and the
// organization's rule for unpriced models (console and CLI alike, each change audited); members
// see, read-only, the limits that bind their own calls, with their own spend.

import type { Kysely } from 'kysely';
import { isAdmin, requireAdmin, type Actor } from '../access/actor.js';
import { findMembership } from '../accounts/organizations.js';
import { findUserByEmail } from '../accounts/users.js';
import type { ServiceContext } from '../app-context.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Database } from '../db/schema.js';
import { KeywardError } from '../errors.js';
import { proxiesFor } from '../proxies/proxy-management.js';
import { usageTotals } from '../usage/usage-queries.js';
import { periodStart } from './limit-periods.js';
import {
  LimitInputError,
  listLimits,
  removeLimit,
  setLimit,
  setUnpricedCallPolicy,
  type LimitInput,
  type LimitView,
  type UnpricedCallPolicy,
} from './spending-limits.js';

/** What an administrator asks for: the subject's user by email, everything else as LimitInput. */
export type LimitRequest = Omit<LimitInput, 'organizationId' | 'userId'> & { userEmail?: string | undefined };

type Subject = Pick<LimitView, 'scope' | 'teamId' | 'userId' | 'clientId' | 'proxyId'> & { user?: string | null };

/** Names of the teams, clients and proxies limits refer to, looked up once for a list. */
async function subjectNames(db: Kysely<Database>, subjects: readonly Subject[]) {
  const ids = (pick: (s: Subject) => string | null) => [...new Set(subjects.map(pick).filter((id): id is string => id !== null))];
  const [teams, clients, proxies, users] = await Promise.all([
    ids((s) => s.teamId).length ? db.selectFrom('teams').select(['id', 'name']).where('id', 'in', ids((s) => s.teamId)).execute() : [],
    ids((s) => s.clientId).length ? db.selectFrom('oauth_clients').select(['client_id as id', 'name']).where('client_id', 'in', ids((s) => s.clientId)).execute() : [],
    ids((s) => s.proxyId).length ? db.selectFrom('llm_proxies').select(['id', 'name']).where('id', 'in', ids((s) => s.proxyId)).execute() : [],
    ids((s) => (s.user ? null : s.userId)).length ? db.selectFrom('users').select(['id', 'email as name']).where('id', 'in', ids((s) => (s.user ? null : s.userId))).execute() : [],
  ]);
  const map = (rows: Array<{ id: string; name: string | null }>) => new Map(rows.map((r) => [r.id, r.name ?? r.id]));
  return { teams: map(teams), clients: map(clients), proxies: map(proxies), users: map(users) };
}

/** Whom a limit binds, in words a person recognises: names and emails rather than ids. */
export async function describeSubjects(db: Kysely<Database>, subjects: readonly Subject[]): Promise<string[]> {
  const names = await subjectNames(db, subjects);
  return subjects.map((s) => {
    const user = s.user ?? names.users.get(s.userId ?? '') ?? s.userId;
    switch (s.scope) {
      case 'org':
        return 'the organization';
      case 'team':
        return `team ${names.teams.get(s.teamId!) ?? s.teamId}`;
      case 'user':
        return `user ${user}`;
      case 'app':
        return `app ${names.clients.get(s.clientId!) ?? s.clientId} for ${user}`;
      case 'client':
        return `client ${names.clients.get(s.clientId!) ?? s.clientId}`;
      case 'proxy':
        return `proxy ${names.proxies.get(s.proxyId!) ?? s.proxyId}`;
    }
  });
}

/** "$5 per day, 60 requests/min, alert at 80%": what a limit allows, for the audit log and pages. */
export function describeAllowance(limit: Pick<LimitView, 'usd' | 'period' | 'requestsPerMinute' | 'tokensPerMinute' | 'alertPercent'>): string {
  return [
    limit.usd === null ? null : `$${limit.usd} per ${limit.period}`,
    limit.requestsPerMinute === null ? null : `${limit.requestsPerMinute} requests/min`,
    limit.tokensPerMinute === null ? null : `${limit.tokensPerMinute} tokens/min`,
    limit.alertPercent === null ? null : `alert at ${limit.alertPercent}%`,
  ]
    .filter(Boolean)
    .join(', ');
}

async function requireMemberByEmail(db: Kysely<Database>, actor: Actor, email: string) {
  const user = await findUserByEmail(db, email.trim());
  if (!user || !(await findMembership(db, actor.organizationId, user.id))) {
    throw new LimitInputError(`no member of this organization has the email ${email.trim()}`, 'userId', 'user_not_found');
  }
  return user;
}

/** Administrators only: creates or replaces the limit of a subject (one per scope and subject). */
export async function setLimitAs(ctx: ServiceContext, actor: Actor, request: LimitRequest): Promise<{ id: string }> {
  requireAdmin(actor);
  const { userEmail, ...input } = request;
  const user = userEmail?.trim() ? await requireMemberByEmail(ctx.db, actor, userEmail) : undefined;
  const result = await setLimit(ctx, { ...input, organizationId: actor.organizationId, userId: user?.id });
  const view = (await listLimits(ctx.db, actor.organizationId)).find((l) => l.id === result.id)!;
  const [subject] = await describeSubjects(ctx.db, [view]);
  await recordAudit(ctx.db, actor, { action: 'limit.set', targetKind: 'spending_limit', targetId: view.id, targetLabel: subject!, detail: describeAllowance(view) });
  return result;
}

/** Administrators only: removes a limit of their organization. */
export async function removeLimitAs(ctx: ServiceContext, actor: Actor, limitId: string): Promise<{ id: string; removed: true }> {
  requireAdmin(actor);
  const view = (await listLimits(ctx.db, actor.organizationId)).find((l) => l.id === limitId);
  if (!view) throw new KeywardError('not_found', `there is no limit "${limitId}"`, 404);
  const [subject] = await describeSubjects(ctx.db, [view]);
  const result = await removeLimit(ctx, limitId);
  await recordAudit(ctx.db, actor, { action: 'limit.removed', targetKind: 'spending_limit', targetId: limitId, targetLabel: subject!, detail: describeAllowance(view) });
  return result;
}

/** Administrators only: whether calls to models with no known price may run while a spending limit applies. */
export async function setUnpricedCallPolicyAs(ctx: ServiceContext, actor: Actor, policy: string): Promise<{ unpricedCalls: UnpricedCallPolicy }> {
  requireAdmin(actor);
  const result = await setUnpricedCallPolicy(ctx, actor.organizationId, policy);
  await recordAudit(ctx.db, actor, {
    action: 'unpriced_policy.set',
    targetKind: 'organization',
    targetId: actor.organizationId,
    targetLabel: 'Calls to models with no known price',
    detail: result.unpricedCalls,
  });
  return result;
}

export async function unpricedCallPolicy(db: Kysely<Database>, actor: Actor): Promise<UnpricedCallPolicy> {
  const org = await db.selectFrom('organizations').select('unpriced_calls_under_limit').where('id', '=', actor.organizationId).executeTakeFirst();
  return org?.unpriced_calls_under_limit === 'allow' ? 'allow' : 'refuse';
}

/** Administrators only: every limit of the organization with this period's spend (what `keyward limit list` prints). */
export async function listLimitsAs(db: Kysely<Database>, actor: Actor, now = Date.now()): Promise<LimitView[]> {
  requireAdmin(actor);
  return listLimits(db, actor.organizationId, {}, now);
}

export interface LimitShown extends LimitView {
  /** Whom it binds, by name or email. */
  subject: string;
  /** A member's own spend under this limit this period (their calls only); null for administrators' view. */
  ownSpentUsd: number | null;
}

/**
 * The limits this actor sees: an administrator every limit of the organization; a member those that
 * bind their own calls (the organization's, their teams', their own and their apps', and those of
 * the proxies they may use), each with what they themselves spent under it this period.
 */
export async function limitsFor(db: Kysely<Database>, actor: Actor, now = Date.now()): Promise<LimitShown[]> {
  const all = await listLimits(db, actor.organizationId, {}, now);
  if (isAdmin(actor)) {
    const subjects = await describeSubjects(db, all);
    return all.map((limit, i) => ({ ...limit, subject: subjects[i]!, ownSpentUsd: null }));
  }
  const userId = actor.userId ?? '';
  const teams = new Set((await db.selectFrom('team_members').select('team_id').where('user_id', '=', userId).execute()).map((r) => r.team_id));
  const proxies = new Set((await proxiesFor(db, actor)).map((p) => p.id));
  const binding = all.filter(
    (l) =>
      l.scope === 'org' ||
      (l.scope === 'team' && teams.has(l.teamId!)) ||
      ((l.scope === 'user' || l.scope === 'app') && l.userId === userId) ||
      (l.scope === 'proxy' && proxies.has(l.proxyId!)),
  );
  const subjects = await describeSubjects(db, binding);
  return Promise.all(
    binding.map(async (limit, i) => {
      // A user or app limit counts this person's calls only: its spend is theirs. A shared limit's total is not.
      const own = limit.scope === 'user' || limit.scope === 'app';
      const ownSpentUsd =
        limit.usd === null
          ? null
          : own
            ? limit.spentUsd
            : ((await usageTotals(db, actor, { from: periodStart(limit.period!, now), to: now + 1, proxyId: limit.proxyId ?? undefined })).costUsd ?? 0);
      return { ...limit, spentUsd: own ? limit.spentUsd : null, subject: subjects[i]!, ownSpentUsd };
    }),
  );
}

/**
 * Limits past their alert threshold this period that this actor should hear about: every one for an
 * administrator, a member's own user and app limits for that member.
 */
export async function spendingAlertsFor(db: Kysely<Database>, actor: Actor, now = Date.now()): Promise<LimitShown[]> {
  const limits = await listLimits(db, actor.organizationId, isAdmin(actor) ? {} : { userId: actor.userId ?? '' }, now);
  const alerted = limits.filter((l) => l.alerted);
  const subjects = await describeSubjects(db, alerted);
  return alerted.map((limit, i) => ({ ...limit, subject: subjects[i]!, ownSpentUsd: null }));
}

export interface LimitSubjectChoices {
  teams: Array<{ id: string; name: string }>;
  clients: Array<{ id: string; name: string }>;
  proxies: Array<{ id: string; name: string }>;
}

/** What the set-limit form offers to pick from. Administrators only. */
export async function limitSubjectChoices(db: Kysely<Database>, actor: Actor): Promise<LimitSubjectChoices> {
  requireAdmin(actor);
  const [teams, clients, proxies] = await Promise.all([
    db.selectFrom('teams').select(['id', 'name']).where('organization_id', '=', actor.organizationId).orderBy('name').execute(),
    // The organization's confidential clients, and the self-registered apps someone connected (an
    // app limit binds one person's use of one app): not every app that ever registered, which
    // anyone may do.
    db
      .selectFrom('oauth_clients')
      .select(['client_id as id', 'name'])
      .where((eb) =>
        eb.or([
          eb('organization_id', '=', actor.organizationId),
          eb.and([
            eb('organization_id', 'is', null),
            eb('client_id', 'in', eb.selectFrom('oauth_payloads').select('client_id').where('model', '=', 'Grant').where('client_id', 'is not', null).$narrowType<{ client_id: string }>()),
          ]),
        ]),
      )
      .orderBy('name')
      .execute(),
    db.selectFrom('llm_proxies').select(['id', 'name']).where('organization_id', '=', actor.organizationId).orderBy('name').execute(),
  ]);
  return { teams, clients: clients.map((c) => ({ id: c.id, name: c.name ?? c.id })), proxies };
}
