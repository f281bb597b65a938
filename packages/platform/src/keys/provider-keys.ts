// Provider keys: the secret is sealed with AES-256-GCM (bound to the key's id) and only its last
// four characters are ever shown.

import type { Kysely } from 'kysely';
import type { AppContext } from '../app-context.js';
import type { Database, OwnerScope, ProviderKeyTable } from '../db/schema.js';
import { KeywardError } from '../errors.js';
import { timeOrderedId } from '../time-ordered-id.js';
import { getProviderAdapter, PROVIDER_IDS } from '../providers/registry.js';
import type { SealedBox } from '../secrets/sealed-box.js';
import { readBaseUrlAllowList } from './base-url-allow-list.js';
import { assertBaseUrlAllowed, effectiveBaseUrl, policyFor, type KeyActor } from './base-url-policy.js';
import type { HostLookup } from '../upstream/internal-address.js';

export interface NewProviderKey {
  organizationId: string;
  provider: string;
  apiKey: string;
  baseUrl?: string | undefined;
  options?: Record<string, string> | undefined;
  scope: OwnerScope;
  teamId?: string | undefined;
  userId?: string | undefined;
  primary?: boolean;
  /** Who adds it; a member's key is held to the base-URL policy. None: the operator (admin CLI). */
  actor?: KeyActor | undefined;
}

/** What the member policy needs beyond the database: the env default list and DNS. */
export interface MemberKeyPolicyContext {
  /** KEYWARD_KEY_BASE_URL_ALLOW (config.keyBaseUrlAllow), used when the organization saved none. */
  defaultAllowList: readonly string[];
  lookup: HostLookup;
}

/** The member policy context of a running platform: `addProviderKey(ctx.db, ctx.box, input, memberKeyPolicy(ctx))`. */
export const memberKeyPolicy = (ctx: Pick<AppContext, 'config' | 'lookupHost'>): MemberKeyPolicyContext => ({
  defaultAllowList: ctx.config.keyBaseUrlAllow,
  lookup: ctx.lookupHost,
});

/** What may be shown of a key: never the secret. */
export type ProviderKeySummary = Omit<ProviderKeyTable, 'secret_sealed' | 'options_json'>;

// Short keys show nothing: four characters of a six-character secret is most of it.
export const visibleSuffix = (secret: string) => (secret.length >= 16 ? secret.slice(-4) : '');

export function checkBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new KeywardError('invalid_base_url', `"${raw}" is not an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new KeywardError('invalid_base_url', 'base URL must be http(s)');
  if (url.username || url.password || url.search || url.hash) {
    throw new KeywardError('invalid_base_url', 'base URL must not carry credentials, a query or a fragment');
  }
  return url.href.replace(/\/+$/, '');
}

export function checkOwner(scope: string, teamId?: string, userId?: string): OwnerScope {
  if (scope !== 'org' && scope !== 'team' && scope !== 'personal') {
    throw new KeywardError('invalid_scope', `scope must be org, team or personal, got "${scope}"`);
  }
  if (scope === 'team' && !teamId) throw new KeywardError('missing_team', 'scope team needs --team');
  if (scope === 'personal' && !userId) throw new KeywardError('missing_user', 'scope personal needs --user');
  if (scope !== 'team' && teamId) throw new KeywardError('invalid_scope', '--team goes with --scope team');
  if (scope !== 'personal' && userId) throw new KeywardError('invalid_scope', '--user goes with --scope personal');
  return scope;
}

/**
 * Validates and stores a key. With a member `actor`, the key's base URL (or its provider's default)
 * must pass the member policy (BaseUrlNotAllowedError, 400, says why and what an admin can do),
 * and `policy` is required. The caller publishes the `provider_key` change.
 */
export async function addProviderKey(
  db: Kysely<Database>,
  box: SealedBox,
  input: NewProviderKey,
  policy?: MemberKeyPolicyContext,
): Promise<ProviderKeySummary> {
  const adapter = getProviderAdapter(input.provider);
  if (!adapter) {
    throw new KeywardError('unknown_provider', `unknown provider "${input.provider}"; known providers: ${PROVIDER_IDS.join(', ')}`);
  }
  const scope = checkOwner(input.scope, input.teamId, input.userId);
  const apiKey = input.apiKey.trim();
  if (!apiKey && adapter.apiKeyRequired) throw new KeywardError('missing_api_key', `${adapter.displayName} needs an API key`);
  if (/\s/.test(apiKey) || apiKey.length > 4096) throw new KeywardError('invalid_api_key', 'the API key must be one line without spaces');
  const baseUrl = input.baseUrl ? checkBaseUrl(input.baseUrl) : null;
  if (!baseUrl && !adapter.defaultBaseUrl) {
    throw new KeywardError('missing_base_url', `${adapter.displayName} has no default address: give --base-url`);
  }
  const baseUrlPolicy = policyFor(input.actor);
  if (baseUrlPolicy === 'member') {
    if (!policy) throw new Error('addProviderKey: a member key needs the member policy context');
    const allowList = await readBaseUrlAllowList(db, input.organizationId, policy.defaultAllowList);
    await assertBaseUrlAllowed({
      provider: adapter.id,
      baseUrl: effectiveBaseUrl(adapter.id, baseUrl),
      policy: baseUrlPolicy,
      allowList: allowList.hosts,
      lookup: policy.lookup,
    });
  }
  // Time-ordered, so that two keys made in the same millisecond still rank oldest first (the id
  // breaks created_at ties in rankProviderKeys).
  const now = Date.now();
  const id = timeOrderedId(now);
  const row: ProviderKeyTable = {
    id,
    organization_id: input.organizationId,
    provider: adapter.id,
    scope,
    team_id: scope === 'team' ? input.teamId! : null,
    user_id: scope === 'personal' ? input.userId! : null,
    is_primary: input.primary ? 1 : 0,
    base_url: baseUrl,
    options_json: input.options && Object.keys(input.options).length ? JSON.stringify(input.options) : null,
    secret_sealed: box.seal(apiKey, `provider_key:${id}`),
    last4: visibleSuffix(apiKey),
    created_at: now,
    updated_at: now,
    disabled_at: null,
    base_url_policy: baseUrlPolicy,
    disabled_reason: null,
  };
  await db.transaction().execute(async (trx) => {
    // One primary per provider and owner: the new one takes over.
    if (input.primary) await clearPrimary(trx, row, now);
    await trx.insertInto('provider_keys').values(row).execute();
  });
  const { secret_sealed: _s, options_json: _o, ...summary } = row;
  return summary;
}

/** Makes no key of this one's provider and owner primary (before one of them becomes it). */
export async function clearPrimary(
  db: Kysely<Database>,
  key: Pick<ProviderKeyTable, 'organization_id' | 'provider' | 'scope' | 'team_id' | 'user_id'>,
  now: number,
): Promise<void> {
  await db
    .updateTable('provider_keys')
    .set({ is_primary: 0, updated_at: now })
    .where('organization_id', '=', key.organization_id)
    .where('provider', '=', key.provider)
    .where('scope', '=', key.scope)
    .where((eb) => (key.team_id ? eb('team_id', '=', key.team_id) : eb('team_id', 'is', null)))
    .where((eb) => (key.user_id ? eb('user_id', '=', key.user_id) : eb('user_id', 'is', null)))
    .execute();
}

export function openProviderKeySecret(box: SealedBox, row: Pick<ProviderKeyTable, 'id' | 'secret_sealed'>): string {
  return box.open(row.secret_sealed, `provider_key:${row.id}`);
}

export function listProviderKeys(db: Kysely<Database>, organizationId: string): Promise<ProviderKeySummary[]> {
  return db
    .selectFrom('provider_keys')
    .select(['id', 'organization_id', 'provider', 'scope', 'team_id', 'user_id', 'is_primary', 'base_url', 'last4', 'created_at', 'updated_at', 'disabled_at', 'base_url_policy', 'disabled_reason'])
    .where('organization_id', '=', organizationId)
    .orderBy('created_at')
    .execute();
}
