// Which provider key answers a call: among the keys of the model's provider in the proxy's
// organization that this caller may use, personal first, then team, then org; within that rank
// the primary key first, then the oldest. Keys of that same rank are the failover candidates.
// Keys live in memory with their secrets opened, per organization, dropped on every
// `provider_key` change; a lookup that finds nothing re-reads the database before answering, so
// a key added a moment ago (by the CLI, on another instance) is never refused from a stale cache.

import type { Kysely } from 'kysely';
import type { ChangeFeed } from '../db/change-log.js';
import type { Database, OwnerScope, ProviderKeyTable } from '../db/schema.js';
import { KeywardError } from '../errors.js';
import { cacheCounters } from '../metrics/metrics.js';
import type { UpstreamTarget } from '../providers/provider-adapter.js';
import { getProviderAdapter } from '../providers/registry.js';
import type { SealedBox } from '../secrets/sealed-box.js';
import { hostIsListed } from './allowed-hosts.js';
import { readBaseUrlAllowList } from './base-url-allow-list.js';
import type { BaseUrlPolicy } from './base-url-policy.js';
import { openProviderKeySecret } from './provider-keys.js';

const providerKeyLookups = cacheCounters('provider_keys');

export interface UsableProviderKey {
  id: string;
  organizationId: string;
  provider: string;
  scope: OwnerScope;
  teamId: string | null;
  userId: string | null;
  isPrimary: boolean;
  createdAt: number;
  /** The key's base URL, or the provider's default. No trailing slash. */
  baseUrl: string;
  options: Record<string, string> | undefined;
  /** The opened secret. Never logged, never sent to a caller. */
  apiKey: string;
  /** `member`: added by a member; the provider's error bodies are not shown to callers. */
  baseUrlPolicy: BaseUrlPolicy;
  /** A member key whose host is not on the allow-list: connect only to public addresses. */
  publicAddressesOnly: boolean;
}

/** Who is asking, as far as keys are concerned. */
export type KeyCaller =
  | { kind: 'user'; userId: string; teamIds: ReadonlySet<string> }
  /** A confidential client: only `keyIds`, or its organization's org-scoped keys when null. */
  | { kind: 'client'; keyIds: readonly string[] | null };

export class ProviderKeyMissingError extends KeywardError {
  constructor(readonly provider: string) {
    const name = getProviderAdapter(provider)?.displayName ?? provider;
    super(
      'provider_key_missing',
      `No ${name} key is available to you on this proxy (provider "${provider}"). An admin can add one: keyward key add --provider ${provider} --api-key … --scope org|team|personal`,
      400,
    );
    this.name = 'ProviderKeyMissingError';
  }
}

const RANK: Record<OwnerScope, number> = { personal: 0, team: 1, org: 2 };

function usableBy(key: UsableProviderKey, caller: KeyCaller): boolean {
  // A client is never paid for by a person's own provider account, even if bound to such a key before that was refused.
  if (caller.kind === 'client') return caller.keyIds === null ? key.scope === 'org' : key.scope !== 'personal' && caller.keyIds.includes(key.id);
  if (key.scope === 'personal') return key.userId === caller.userId;
  if (key.scope === 'team') return key.teamId !== null && caller.teamIds.has(key.teamId);
  return true;
}

/** Personal < team < org; primary first; then oldest; the id breaks ties so the order is stable. */
function compareKeys(a: UsableProviderKey, b: UsableProviderKey): number {
  return (
    RANK[a.scope] - RANK[b.scope] ||
    Number(b.isPrimary) - Number(a.isPrimary) ||
    a.createdAt - b.createdAt ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/** The keys worth trying, in order: the best rank only (the next rank is not a fallback). */
export function rankProviderKeys(keys: readonly UsableProviderKey[], provider: string, caller: KeyCaller): UsableProviderKey[] {
  const usable = keys.filter((key) => key.provider === provider && usableBy(key, caller)).sort(compareKeys);
  const best = usable[0];
  return best ? usable.filter((key) => key.scope === best.scope) : [];
}

interface CachedOrganization {
  keys: UsableProviderKey[];
  loadedAt: number;
}

export class ProviderKeyCache {
  private readonly byOrganization = new Map<string, Promise<CachedOrganization>>();
  /** Bumped on each invalidation, so a load that raced a change is not kept. */
  private generation = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly box: SealedBox,
    changes: ChangeFeed,
    /** A last safety net: a missed change notice is caught by the feed's resync within seconds. */
    private readonly ttlMs = 5 * 60_000,
    /** KEYWARD_KEY_BASE_URL_ALLOW, for organizations that saved no list of their own. */
    private readonly defaultAllowList: readonly string[] = [],
  ) {
    changes.on('provider_key', () => this.invalidate());
    changes.on('key_base_url_allow', () => this.invalidate());
    changes.onResync('provider_key', () => this.invalidate());
    changes.onResync('key_base_url_allow', () => this.invalidate());
  }

  invalidate(): void {
    this.generation += 1;
    this.byOrganization.clear();
  }

  async keysOf(organizationId: string, fresh = false): Promise<UsableProviderKey[]> {
    const cached = this.byOrganization.get(organizationId);
    if (cached && !fresh) {
      const value = await cached;
      if (Date.now() - value.loadedAt < this.ttlMs) {
        providerKeyLookups.hit();
        return value.keys;
      }
    }
    providerKeyLookups.miss();
    const generation = this.generation;
    const loading = this.load(organizationId);
    this.byOrganization.set(organizationId, loading);
    try {
      const value = await loading;
      if (generation !== this.generation && this.byOrganization.get(organizationId) === loading) this.byOrganization.delete(organizationId);
      return value.keys;
    } catch (error) {
      if (this.byOrganization.get(organizationId) === loading) this.byOrganization.delete(organizationId);
      throw error;
    }
  }

  private async load(organizationId: string): Promise<CachedOrganization> {
    const rows = await this.db
      .selectFrom('provider_keys')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('disabled_at', 'is', null)
      .execute();
    const allowList = rows.some((row) => row.base_url_policy === 'member')
      ? (await readBaseUrlAllowList(this.db, organizationId, this.defaultAllowList)).hosts
      : [];
    const keys: UsableProviderKey[] = [];
    for (const row of rows) {
      const key = usableProviderKey(this.box, row, allowList);
      if (key) keys.push(key);
    }
    return { keys, loadedAt: Date.now() };
  }
}

/** A stored key, opened, as the router calls with it; undefined for a provider Keyward no longer knows. */
export function usableProviderKey(box: SealedBox, row: ProviderKeyTable, allowList: readonly string[]): UsableProviderKey | undefined {
  const adapter = getProviderAdapter(row.provider);
  if (!adapter) return undefined;
  const baseUrl = (row.base_url || adapter.defaultBaseUrl).replace(/\/+$/, '');
  return {
    id: row.id,
    organizationId: row.organization_id,
    provider: row.provider,
    scope: row.scope,
    teamId: row.team_id,
    userId: row.user_id,
    isPrimary: Number(row.is_primary) === 1,
    createdAt: Number(row.created_at),
    baseUrl,
    options: row.options_json ? (JSON.parse(row.options_json) as Record<string, string>) : undefined,
    apiKey: openProviderKeySecret(box, row),
    baseUrlPolicy: row.base_url_policy,
    publicAddressesOnly: row.base_url_policy === 'member' && !listedHost(baseUrl, allowList),
  };
}

function listedHost(baseUrl: string, allowList: readonly string[]): boolean {
  try {
    return hostIsListed(new URL(baseUrl), allowList);
  } catch {
    return false;
  }
}

/**
 * The failover candidates for one call, best first. Throws ProviderKeyMissingError (400) when the
 * caller may use no key of this provider: never a 500, never a key from the environment.
 */
export async function resolveProviderKey(
  cache: ProviderKeyCache,
  input: { organizationId: string; provider: string; caller: KeyCaller },
): Promise<UsableProviderKey[]> {
  let candidates = rankProviderKeys(await cache.keysOf(input.organizationId), input.provider, input.caller);
  if (candidates.length === 0) candidates = rankProviderKeys(await cache.keysOf(input.organizationId, true), input.provider, input.caller);
  if (candidates.length === 0) throw new ProviderKeyMissingError(input.provider);
  return candidates;
}

/** Providers this caller holds at least one key for (for "unknown provider" messages and /models). */
export async function usableProviders(cache: ProviderKeyCache, organizationId: string, caller: KeyCaller): Promise<string[]> {
  const keys = await cache.keysOf(organizationId);
  return [...new Set(keys.filter((key) => usableBy(key, caller)).map((key) => key.provider))].sort();
}

/** Every usable key, best first within each provider (for /models). */
export async function usableKeysByProvider(
  cache: ProviderKeyCache,
  organizationId: string,
  caller: KeyCaller,
): Promise<Map<string, UsableProviderKey[]>> {
  const keys = await cache.keysOf(organizationId);
  const out = new Map<string, UsableProviderKey[]>();
  for (const provider of new Set(keys.map((key) => key.provider))) {
    const ranked = rankProviderKeys(keys, provider, caller);
    if (ranked.length) out.set(provider, ranked);
  }
  return out;
}

/** What an adapter needs of a key to build its request. */
export function targetOf(key: UsableProviderKey): UpstreamTarget {
  const target: UpstreamTarget = { baseUrl: key.baseUrl, apiKey: key.apiKey };
  if (key.options) target.options = key.options;
  return target;
}
