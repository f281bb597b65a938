// Provider keys as people manage them: administrators manage every key of the organization;
// members add and manage their own personal keys (bring your own key) and see, without secrets,
// the org and team keys they may use. Every change is published for other instances and audited.

import type { Kysely } from 'kysely';
import { forbidden, isAdmin, requireAdmin, requireSameOrganization, type Actor } from '../access/actor.js';
import type { ServiceContext } from '../app-context.js';
import { recordAudit, type AuditActor } from '../audit/audit-log.js';
import type { Database, OwnerScope, ProviderKeyTable } from '../db/schema.js';
import { KeywardError, notFound } from '../errors.js';
import { getProviderAdapter } from '../providers/registry.js';
import { readBaseUrlAllowList, updateBaseUrlAllowList, type BaseUrlAllowList, type DisabledMemberKey } from './base-url-allow-list.js';
import { assertBaseUrlAllowed, effectiveBaseUrl, memberBaseUrlRefusal } from './base-url-policy.js';
import { addProviderKey, clearPrimary, memberKeyPolicy, visibleSuffix, type ProviderKeySummary } from './provider-keys.js';
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
    await clearPrimary(trx, key, now);
    await trx.updateTable('provider_keys').set({ is_primary: 1, updated_at: now }).where('id', '=', key.id).execute();
  });
  await changed(ctx, actor, key, 'key.made_primary');
}

/**
 * Kept on a personal key an administrator disabled for its owner (`disabled_reason`): its owner
 * may not enable it again, an administrator may. Stored on keys: change the text only together
 * with the rows that carry it.
 */
export const DISABLED_BY_ADMIN = 'An administrator disabled this key; only an administrator can enable it again.';

export async function setKeyDisabled(ctx: ServiceContext, actor: Actor, keyId: string, disabled: boolean): Promise<void> {
  const key = await requireManageableKey(ctx.db, actor, keyId);
  const refusedToOwner = () =>
    new KeywardError('key_disabled_by_admin', 'An administrator disabled this key: ask an administrator to enable it again.', 409);
  if (!disabled && !isAdmin(actor) && key.disabled_at !== null && key.disabled_reason === DISABLED_BY_ADMIN) throw refusedToOwner();
  if (!disabled && key.base_url_policy === 'member') {
    // The allow-list may have shrunk since the key was added (or the policy disabled it): enabling checks again.
    await assertBaseUrlAllowed({
      provider: key.provider,
      baseUrl: effectiveBaseUrl(key.provider, key.base_url),
      policy: 'member',
      allowList: (await readBaseUrlAllowList(ctx.db, key.organization_id, ctx.config.keyBaseUrlAllow)).hosts,
      lookup: ctx.lookupHost,
    });
  }
  const now = Date.now();
  // An administrator's Disable of someone else's key holds against its owner; the owner's own
  // Disable of a key that is already off keeps the reason it was switched off for.
  const reason = !disabled
    ? null
    : isAdmin(actor) && key.scope === 'personal' && key.user_id !== actor.userId
      ? DISABLED_BY_ADMIN
      : key.disabled_at !== null
        ? key.disabled_reason
        : null;
  let update = ctx.db
    .updateTable('provider_keys')
    .set({ disabled_at: disabled ? (key.disabled_at ?? now) : null, disabled_reason: reason, updated_at: now })
    .where('id', '=', key.id);
  // The owner's Enable does not undo an administrator's Disable that landed in the meantime.
  const guarded = !disabled && !isAdmin(actor);
  if (guarded) update = update.where((eb) => eb.or([eb('disabled_reason', 'is', null), eb('disabled_reason', '!=', DISABLED_BY_ADMIN)]));
  const result = await update.executeTakeFirst();
  if (guarded && Number(result.numUpdatedRows) === 0) throw refusedToOwner();
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

/** `clientGone`: tripped when the person who pressed Test has gone (the provider call is dropped). */
export async function testKey(ctx: ServiceContext, actor: Actor, keyId: string, clientGone?: AbortSignal): Promise<ProviderKeyTestOutcome> {
  const key = await requireManageableKey(ctx.db, actor, keyId);
  // The client routed calls use: a member's key gets the same connect-time address guard.
  return testProviderKey(
    { db: ctx.db, box: ctx.box, upstream: ctx.upstream, defaultAllowList: ctx.config.keyBaseUrlAllow },
    { organizationId: key.organization_id, keyId: key.id, clientGone },
  );
}

/** The hosts members' keys may use in this actor's organization (KEYWARD_KEY_BASE_URL_ALLOW unless an admin saved a list). */
export function memberKeyAllowList(ctx: ServiceContext, actor: Actor): Promise<BaseUrlAllowList> {
  return readBaseUrlAllowList(ctx.db, actor.organizationId, ctx.config.keyBaseUrlAllow);
}

/**
 * Admins only: saves the hosts members' keys may use (`null`: back to KEYWARD_KEY_BASE_URL_ALLOW).
 * Member keys the new list no longer allows are disabled, each with an audit event.
 */
export async function setMemberKeyAllowList(
  ctx: ServiceContext,
  actor: Actor,
  hosts: string | readonly string[] | null,
): Promise<{ allowList: BaseUrlAllowList; disabled: DisabledMemberKey[] }> {
  requireAdmin(actor);
  const result = await updateBaseUrlAllowList(ctx.db, ctx.changes, { organizationId: actor.organizationId, hosts, defaultHosts: ctx.config.keyBaseUrlAllow });
  const listed = result.allowList.hosts.join(', ') || 'none';
  await recordAudit(ctx.db, actor, {
    action: 'key_base_url_allow.updated',
    targetKind: 'organization',
    targetId: actor.organizationId,
    targetLabel: 'Allowed hosts for members’ keys',
    detail: result.allowList.source === 'environment' ? `back to KEYWARD_KEY_BASE_URL_ALLOW (${listed})` : listed,
  });
  await auditDisabledMemberKeys(ctx.db, actor, result.disabled);
  return result;
}

/** One audit event per member key the base-URL policy disabled; the start-up sweep uses a system actor. */
export async function auditDisabledMemberKeys(db: Kysely<Database>, actor: Omit<AuditActor, 'organizationId'>, disabled: readonly DisabledMemberKey[]): Promise<void> {
  for (const key of disabled) {
    await recordAudit(db, { ...actor, organizationId: key.organizationId }, {
      action: 'key.disabled',
      targetKind: 'provider_key',
      targetId: key.id,
      targetLabel: key.provider,
      detail: `base URL no longer allowed: ${key.baseUrl}`,
    });
  }
}

/**
 * A person who is no longer an administrator keeps their personal keys, under the member rules:
 * each becomes a `member` key (provider error bodies hidden, connect-time address guard, Enable
 * checked against the allow-list), and one whose base URL the organization's allow-list refuses
 * is disabled with the reason kept for its owner, as the allow-list sweep does. Each key is
 * published and audited. setUserRole calls it when someone goes from admin to member.
 */
export async function holdPersonalKeysToMemberRules(ctx: ServiceContext, actor: Actor, userId: string): Promise<void> {
  requireAdmin(actor);
  const keys = await ctx.db
    .selectFrom('provider_keys')
    .selectAll()
    .where('organization_id', '=', actor.organizationId)
    .where('scope', '=', 'personal')
    .where('user_id', '=', userId)
    .where('base_url_policy', '!=', 'member')
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  if (!keys.length) return;
  const hosts = (await readBaseUrlAllowList(ctx.db, actor.organizationId, ctx.config.keyBaseUrlAllow)).hosts;
  for (const key of keys) {
    const baseUrl = effectiveBaseUrl(key.provider, key.base_url);
    const refusal = memberBaseUrlRefusal(key.provider, baseUrl, hosts);
    const disable = refusal !== null && key.disabled_at === null;
    const now = Date.now();
    const result = await ctx.db
      .updateTable('provider_keys')
      .set(
        disable
          ? {
              base_url_policy: 'member',
              disabled_at: now,
              disabled_reason: `This key was disabled because its owner is no longer an administrator and its base URL is not allowed for members’ keys. ${refusal}`,
              updated_at: now,
            }
          : { base_url_policy: 'member', updated_at: now },
      )
      .where('id', '=', key.id)
      .where('base_url_policy', '!=', 'member')
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) continue;
    await ctx.changes.publish('provider_key', key.id);
    await recordAudit(ctx.db, actor, {
      action: disable ? 'key.disabled' : 'key.member_rules',
      targetKind: 'provider_key',
      targetId: key.id,
      targetLabel: keyLabel(key),
      detail: disable
        ? `owner no longer an administrator; base URL not allowed for members’ keys: ${baseUrl}`
        : 'owner no longer an administrator: held to the rules for members’ keys',
    });
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
