// LLM proxies: named entry points of the Model Router, owned by the organization, a team or a
// person. The default proxy serves the routes without a {proxyId}.

import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, LlmProxyTable, OwnerScope } from '../db/schema.js';
import { KeywardError } from '../errors.js';
import { checkOwner } from '../keys/provider-keys.js';

export type LlmProxy = LlmProxyTable;

export const DEFAULT_PROXY_NAME = 'Default LLM Proxy';

export async function createLlmProxy(
  db: Kysely<Database>,
  input: { organizationId: string; name: string; scope?: OwnerScope; teamId?: string; userId?: string; isDefault?: boolean },
): Promise<LlmProxy> {
  const name = input.name.trim();
  if (!name || name.length > 200) throw new KeywardError('invalid_name', 'proxy name must be 1 to 200 characters');
  const scope = checkOwner(input.scope ?? 'org', input.teamId, input.userId);
  const now = Date.now();
  const proxy: LlmProxy = {
    id: randomUUID(),
    organization_id: input.organizationId,
    name,
    scope,
    team_id: scope === 'team' ? input.teamId! : null,
    user_id: scope === 'personal' ? input.userId! : null,
    is_default: input.isDefault ? 1 : 0,
    created_at: now,
    updated_at: now,
    allowed_models_json: null,
  };
  await db.insertInto('llm_proxies').values(proxy).execute();
  return proxy;
}

export function listLlmProxies(db: Kysely<Database>, organizationId?: string): Promise<LlmProxy[]> {
  let query = db.selectFrom('llm_proxies').selectAll().orderBy('created_at').orderBy('id');
  if (organizationId) query = query.where('organization_id', '=', organizationId);
  return query.execute();
}

export function findLlmProxy(db: Kysely<Database>, id: string) {
  return db.selectFrom('llm_proxies').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The organization's default proxy: the one flagged default, else the oldest org-scoped one. */
export function findDefaultLlmProxy(db: Kysely<Database>) {
  return db
    .selectFrom('llm_proxies')
    .selectAll()
    .where('scope', '=', 'org')
    .orderBy('is_default', 'desc')
    .orderBy('created_at')
    .limit(1)
    .executeTakeFirst();
}
