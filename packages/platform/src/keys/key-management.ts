// Provider keys as people manage them: administrators manage every key of the organization;
// members add and manage their own personal keys (bring your own key) and see, without secrets,
// the org and team keys they may use. Every change is published for other instances and audited.

import type { Kysely } from 'kysely';
import { forbidden, isAdmin, requireSameOrganization, type Actor } from '../access/actor.js';
import type { ServiceContext } from '../app-context.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Database, OwnerScope, ProviderKeyTable } from '../db/schema.js';
import { KeywardError, notFound } from '../errors.js';
import { getProviderAdapter } from '../providers/registry.js';
import { UpstreamClient } from '../router/upstream/upstream-client.js';
import { addProviderKey, memberKeyPolicy, visibleSuffix, type ProviderKeySummary } from './provider-keys.js';
import { testProviderKey, type ProviderKeyTestOutcome } from './test-provider-key.js';

export interface KeyRequest {
  provider: string;
  apiKey: string;
  baseUrl?: string | undefined;
  scope: OwnerScope;
  teamId?: string | undefined;
  /** Personal keys: whose; members may name only themselves. */
  userId?: string | undefined;
  primary?: boolean;
  options?: Record<string, string> | undefined;
}

async function checkTeam(db: Kysely<Database>, actor: Actor, teamId: string | undefined): Promise<void> {
  if (!teamId) return;
  const team = await db.selectFrom('teams').select(['id', 'organization_id']).where('id', '=', teamId).executeTakeFirst();
  if (!team || team.organization_id !== actor.organizationId) throw new KeywardError('team_not_found', `team "${teamId}" does not exist`, 404);
}

async function checkMember(db: Kysely<Database>, actor: Actor, userId: string | undefined): Promise<void> {
  if (!userId) return;
  const member = await db
    .selectFrom('memberships')
    .select('user_id')
    .where('organization_id', '=', actor.organizationId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (!member) throw new KeywardError('user_not_found', 'that user is not a member of the organization', 404);
}

const keyLabel = (key: Pick<ProviderKeyTable, 'provider' | 'last4'>) => `${key.provider}${key.last4 ? ` …${key.last4}` : ''}`;

export async function addKey(ctx: ServiceContext, actor: Actor, input: KeyRequest): Promise<ProviderKeySummary> {
  let request = input;
  if (!isAdmin(actor)) {
    if (input.scope !== 'personal') throw forbidden('Members can add personal keys only.');
    if (input.userId && input.userId !== actor.userId) throw forbidden('Members can add keys for themselves only.');
    request = { ...input, userId: actor.userId ?? undefined };
  }
  await checkTeam(ctx.db, actor, request.teamId);
  await checkMember(ctx.db, actor, request.userId);
  const key = await addProviderKey(ctx.db, ctx.box, {
    organizationId: actor.organizationId,
    provider: request.provider,
    apiKey: request.apiKey,
    baseUrl: request.baseUrl?.trim() || undefined,
    options: request.options,
    scope: request.scope,
    teamId: request.teamId,
    userId: request.userId,
    primary: request.primary ?? false,
    // A member's key is held to the base-URL policy now and at every connection.
    actor: actor.userId ? { userId: actor.userId, role: isAdmin(actor) ? 'admin' : 'member' } : undefined,
  }, memberKeyPolicy(ctx));
  await ctx.changes.publish('provider_key', key.id);
  await recordAudit(ctx.db, actor, { action: 'key.added', targetKind: 'provider_key', targetId: key.id, targetLabel: keyLabel(key), detail: `scope ${key.scope}` });
  return key;
}

/** A key this actor may change: any key of the organization for an admin, their own personal keys for a member. */
async function requireManageableKey(db: Kysely<Database>, actor: Actor, keyId: string): Promise<ProviderKeyTable> {
  const key = await db.selectFrom('provider_keys').selectAll().where('id', '=', keyId).executeTakeFirst();
  if (!key) throw notFound('provider key', keyId);
  requireSameOrganization(actor, key.organization_id, 'provider key', keyId);
  if (isAdmin(actor)) return key;
  if (key.scope === 'personal' && key.user_id === actor.userId) return key;
  throw forbidden('Members can change only their own personal keys.');
}

async function changed(ctx: ServiceContext, actor: Actor, key: ProviderKeyTable, action: string): Promise<void> {
  await ctx.changes.publish('provider_key', key.id);
  await recordAudit(ctx.db, actor, { action, targetKind: 'provider_key', targetId: key.id, targetLabel: keyLabel(key), detail: `scope ${key.scope}` });
}

export async function makeKeyPrimary(ctx: ServiceContext, actor: Actor, keyId: string): Promise<void> {
  const key = await requireManageableKey(ctx.db, actor, keyId);
  const now = Date.now();
  await ctx.db.transaction().execute(async (trx) => {
    // One primary per provider and owner.
    await trx
      .updateTable('provider_keys')
      .set({ is_primary: 0, updated_at: now })
      .where('organization_id', '=', key.organization_id)
      .where('provider', '=', key.provider)
      .where('scope', '=', key.scope)
      .where((eb) => (key.team_id ? eb('team_id', '=', key.team_id) : eb('team_id', 'is', null)))
      .where((eb) => (key.user_id ? eb('user_id', '=', key.user_id) : eb('user_id', 'is', null)))
      .execute();
    await trx.updateTable('provider_keys').set({ is_primary: 1, updated_at: now }).where('id', '=', key.id).execute();
  });
  await changed(ctx, actor, key, 'key.made_primary');
}

export async function setKeyDisabled(ctx: ServiceContext, actor: Actor, keyId: string, disabled: boolean): Promise<void> {
  const key = await requireManageableKey(ctx.db, actor, keyId);
  const now = Date.now();
  await ctx.db.updateTable('provider_keys').set({ disabled_at: disabled ? now : null, updated_at: now }).where('id', '=', key.id).execute();
  await changed(ctx, actor, key, disabled ? 'key.disabled' : 'key.enabled');
}

export async function deleteKey(ctx: ServiceContext, actor: Actor, keyId: string): Promise<void> {
  const key = await requireManageableKey(ctx.db, actor, keyId);
  await ctx.db.deleteFrom('provider_keys').where('id', '=', key.id).execute();
  await changed(ctx, actor, key, 'key.deleted');
}

/** A new secret for the same key (same id, scope and rank): what rotating at the provider needs. */
export async function rotateKeySecret(ctx: ServiceContext, actor: Actor, keyId: string, apiKey: string): Promise<void> {
  const key = await requireManageableKey(ctx.db, actor, keyId);
  const secret = apiKey.trim();
  if (!secret) throw new KeywardError('missing_api_key', 'Enter the new API key.');
  if (/\s/.test(secret) || secret.length > 4096) throw new KeywardError('invalid_api_key', 'the API key must be one line without spaces');
  await ctx.db
    .updateTable('provider_keys')
    .set({ secret_sealed: ctx.box.seal(secret, `provider_key:${key.id}`), last4: visibleSuffix(secret), updated_at: Date.now() })
    .where('id', '=', key.id)
    .execute();
  await changed(ctx, actor, { ...key, last4: visibleSuffix(secret) }, 'key.rotated');
}

export async function testKey(ctx: ServiceContext, actor: Actor, keyId: string): Promise<ProviderKeyTestOutcome> {
  const key = await requireManageableKey(ctx.db, actor, keyId);
  // The same client routed calls use: a member's key gets the same connect-time address guard.
  const upstream = new UpstreamClient({ connectMs: ctx.config.upstreamConnectTimeoutMs, idleMs: ctx.config.upstreamTimeoutMs }, ctx.lookupHost);
  try {
    return await testProviderKey(
      { db: ctx.db, box: ctx.box, upstream, defaultAllowList: ctx.config.keyBaseUrlAllow },
      { organizationId: key.organization_id, keyId: key.id },
    );
  } finally {
    await upstream.close();
  }
}

export interface KeysView {
  /** Keys this actor may change. */
  manageable: ProviderKeySummary[];
  /** Org and team keys a member may use but not change (empty for admins, who manage them). */
  usable: ProviderKeySummary[];
}

const SUMMARY_COLUMNS = ['id', 'organization_id', 'provider', 'scope', 'team_id', 'user_id', 'is_primary', 'base_url', 'base_url_policy', 'last4', 'created_at', 'updated_at', 'disabled_at', 'disabled_reason'] as const;

export async function keysFor(db: Kysely<Database>, actor: Actor): Promise<KeysView> {
  const all = await db.selectFrom('provider_keys').select(SUMMARY_COLUMNS).where('organization_id', '=', actor.organizationId).orderBy('created_at').orderBy('id').execute();
  if (isAdmin(actor)) return { manageable: all, usable: [] };
  const teams = new Set(
    (await db.selectFrom('team_members').select('team_id').where('user_id', '=', actor.userId ?? '').execute()).map((r) => r.team_id),
  );
  return {
    manageable: all.filter((k) => k.scope === 'personal' && k.user_id === actor.userId),
    usable: all.filter((k) => k.disabled_at === null && (k.scope === 'org' || (k.scope === 'team' && k.team_id !== null && teams.has(k.team_id)))),
  };
}
