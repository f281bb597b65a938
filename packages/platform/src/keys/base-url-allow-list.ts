// The hosts members' keys may use, per organization: KEYWARD_KEY_BASE_URL_ALLOW by default, or
// the list an admin saved (organization_settings). Saving a list, and every start, disables the
// member keys it no longer allows — with the reason kept for their owner — rather than deleting them.

import type { Kysely } from 'kysely';
import type { ChangeFeed } from '../db/change-log.js';
import type { Database } from '../db/schema.js';
import { parseAllowedHosts } from './allowed-hosts.js';
import { effectiveBaseUrl, memberBaseUrlRefusal } from './base-url-policy.js';

export interface BaseUrlAllowList {
  hosts: string[];
  /** `environment`: KEYWARD_KEY_BASE_URL_ALLOW; `organization`: saved by an admin. */
  source: 'environment' | 'organization';
}

/** A member key the policy switched off: what an audit event and the owner's notice need. */
export interface DisabledMemberKey {
  id: string;
  organizationId: string;
  userId: string | null;
  provider: string;
  baseUrl: string;
  reason: string;
}

export async function readBaseUrlAllowList(db: Kysely<Database>, organizationId: string, defaultHosts: readonly string[]): Promise<BaseUrlAllowList> {
  const row = await db.selectFrom('organization_settings').select('key_base_url_allow').where('organization_id', '=', organizationId).executeTakeFirst();
  if (row?.key_base_url_allow == null) return { hosts: [...defaultHosts], source: 'environment' };
  return { hosts: JSON.parse(row.key_base_url_allow) as string[], source: 'organization' };
}

/**
 * Saves an organization's list (`null`: back to KEYWARD_KEY_BASE_URL_ALLOW), tells every instance,
 * and disables the member keys it no longer allows. Bad entries are refused with a KeywardError.
 */
export async function updateBaseUrlAllowList(
  db: Kysely<Database>,
  changes: ChangeFeed,
  input: { organizationId: string; hosts: string | readonly string[] | null; defaultHosts: readonly string[] },
): Promise<{ allowList: BaseUrlAllowList; disabled: DisabledMemberKey[] }> {
  const hosts = input.hosts === null ? null : parseAllowedHosts(input.hosts);
  const value = hosts === null ? null : JSON.stringify(hosts);
  const now = Date.now();
  await db
    .insertInto('organization_settings')
    .values({ organization_id: input.organizationId, key_base_url_allow: value, updated_at: now })
    .onConflict((oc) => oc.column('organization_id').doUpdateSet({ key_base_url_allow: value, updated_at: now }))
    .execute();
  await changes.publish('key_base_url_allow', input.organizationId);
  const disabled = await disableMemberKeysOutsidePolicy(db, changes, { organizationId: input.organizationId, defaultHosts: input.defaultHosts });
  return { allowList: await readBaseUrlAllowList(db, input.organizationId, input.defaultHosts), disabled };
}

/**
 * Disables every enabled member key whose base URL its organization's list (or official
 * endpoint) no longer allows, recording the reason on the key. Returns those it disabled, for
 * the caller's audit log. Idempotent: instances running it together disable each key once.
 */
export async function disableMemberKeysOutsidePolicy(
  db: Kysely<Database>,
  changes: ChangeFeed,
  input: { defaultHosts: readonly string[]; organizationId?: string },
): Promise<DisabledMemberKey[]> {
  let query = db
    .selectFrom('provider_keys')
    .select(['id', 'organization_id', 'user_id', 'provider', 'base_url'])
    .where('base_url_policy', '=', 'member')
    .where('disabled_at', 'is', null);
  if (input.organizationId) query = query.where('organization_id', '=', input.organizationId);
  const keys = await query.execute();
  const lists = new Map<string, string[]>();
  const disabled: DisabledMemberKey[] = [];
  for (const key of keys) {
    let hosts = lists.get(key.organization_id);
    if (!hosts) {
      hosts = (await readBaseUrlAllowList(db, key.organization_id, input.defaultHosts)).hosts;
      lists.set(key.organization_id, hosts);
    }
    const baseUrl = effectiveBaseUrl(key.provider, key.base_url);
    const reason = memberBaseUrlRefusal(key.provider, baseUrl, hosts);
    if (reason === null) continue;
    const now = Date.now();
    const result = await db
      .updateTable('provider_keys')
      .set({ disabled_at: now, disabled_reason: `This key was disabled because its base URL is no longer allowed. ${reason}`, updated_at: now })
      .where('id', '=', key.id)
      .where('disabled_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) continue;
    disabled.push({ id: key.id, organizationId: key.organization_id, userId: key.user_id, provider: key.provider, baseUrl, reason });
    await changes.publish('provider_key', key.id);
  }
  return disabled;
}
