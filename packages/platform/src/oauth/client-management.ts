// OAuth clients and apps as administrators manage them: the confidential clients of a proxy
// (created with the secret shown once, rotated, disabled) and every app known to the
// organization, which an administrator can block. The writes are oauth/clients.ts's; this adds
// who may, the organization's bounds, and the audit entry.

import type { Kysely } from 'kysely';
import { requireAdmin, type Actor } from '../access/actor.js';
import type { ServiceContext } from '../app-context.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Database } from '../db/schema.js';
import { notFound } from '../errors.js';
import { createConfidentialClient, disableClient, rotateClientSecret } from './clients.js';
import { parseRouterResource } from './paths.js';
import type { OAuthClientTable, OAuthPayloadTable } from './tables.js';
import './tables.js';

/** Proxies of another organization do not exist for this actor (missing or mixed ones: clients.ts says why). */
async function requireOwnProxies(db: Kysely<Database>, actor: Actor, proxyIds: string[]): Promise<void> {
  if (!proxyIds.length) return;
  const proxies = await db.selectFrom('llm_proxies').select(['id', 'organization_id']).where('id', 'in', proxyIds).execute();
  const organizations = new Set(proxies.map((p) => p.organization_id));
  if (organizations.size === 1 && !organizations.has(actor.organizationId)) throw notFound('LLM proxy', proxies[0]!.id);
}

/** A client of the actor's organization (public apps belong to the one organization there is). */
async function requireOwnClient(db: Kysely<Database>, actor: Actor, clientId: string) {
  const row = await db.selectFrom('oauth_clients').select(['client_id', 'kind', 'name', 'organization_id']).where('client_id', '=', clientId).executeTakeFirst();
  if (!row || (row.organization_id !== null && row.organization_id !== actor.organizationId)) throw notFound('OAuth client', clientId);
  return row;
}

export async function createClientAs(ctx: ServiceContext, actor: Actor, input: { name: string; proxyIds: string[]; keyIds?: string[] }) {
  requireAdmin(actor);
  await requireOwnProxies(ctx.db, actor, input.proxyIds);
  const created = await createConfidentialClient(ctx, input);
  await recordAudit(ctx.db, actor, { action: 'client.created', targetKind: 'oauth_client', targetId: created.client_id, targetLabel: input.name.trim() });
  return created;
}

export async function rotateClientSecretAs(ctx: ServiceContext, actor: Actor, clientId: string) {
  requireAdmin(actor);
  const client = await requireOwnClient(ctx.db, actor, clientId);
  const rotated = await rotateClientSecret(ctx, clientId);
  await recordAudit(ctx.db, actor, { action: 'client.secret_rotated', targetKind: 'oauth_client', targetId: clientId, targetLabel: client.name });
  return rotated;
}

export async function disableClientAs(ctx: ServiceContext, actor: Actor, clientId: string) {
  requireAdmin(actor);
  const client = await requireOwnClient(ctx.db, actor, clientId);
  const result = await disableClient(ctx, clientId);
  await recordAudit(ctx.db, actor, {
    action: client.kind === 'public' ? 'app.blocked' : 'client.disabled',
    targetKind: 'oauth_client',
    targetId: clientId,
    targetLabel: client.name,
  });
  return result;
}

export interface ConfidentialClientRow {
  clientId: string;
  name: string | null;
  createdAt: number;
  disabled: boolean;
}

export async function clientsOfProxy(db: Kysely<Database>, actor: Actor, proxyId: string): Promise<ConfidentialClientRow[]> {
  requireAdmin(actor);
  const rows = await db
    .selectFrom('oauth_clients')
    .select(['client_id', 'name', 'created_at', 'disabled_at', 'proxy_ids_json'])
    .where('kind', '=', 'confidential')
    .where('organization_id', '=', actor.organizationId)
    .orderBy('created_at')
    .execute();
  return rows
    .filter((r) => (JSON.parse(r.proxy_ids_json ?? '[]') as string[]).includes(proxyId))
    .map((r) => ({ clientId: r.client_id, name: r.name, createdAt: r.created_at, disabled: r.disabled_at !== null }));
}

export interface AppRow {
  clientId: string;
  name: string | null;
  kind: 'public' | 'confidential';
  redirectHosts: string[];
  users: number;
  lastUsedAt: number | null;
  createdAt: number;
  blocked: boolean;
  /** Proxies users connected it through (undefined: the routes without a proxy id). */
  proxyIds: Array<string | undefined>;
}

function hostsOf(metadataJson: string): string[] {
  const uris = (JSON.parse(metadataJson) as { redirect_uris?: unknown }).redirect_uris;
  const hosts = new Set<string>();
  for (const uri of Array.isArray(uris) ? uris : []) {
    try {
      hosts.add(new URL(String(uri)).host);
    } catch {
      // An unreadable URI was refused at registration; nothing to show.
    }
  }
  return [...hosts];
}

type ClientListRow = Pick<OAuthClientTable, 'client_id' | 'name' | 'kind' | 'metadata_json' | 'created_at' | 'disabled_at'>;
type GrantListRow = Pick<OAuthPayloadTable, 'client_id' | 'account_id' | 'last_used_at' | 'payload'>;

const CLIENT_LIST_COLUMNS = ['client_id', 'name', 'kind', 'metadata_json', 'created_at', 'disabled_at'] as const;

/** Grants in force (a grant past its expiry is gone even before the prune deletes its row), of these apps only when given. */
function liveGrants(db: Kysely<Database>, clientIds?: string[]): Promise<GrantListRow[]> {
  let query = db
    .selectFrom('oauth_payloads')
    .select(['client_id', 'account_id', 'last_used_at', 'payload'])
    .where('model', '=', 'Grant')
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', Date.now())]));
  if (clientIds) query = query.where('client_id', 'in', clientIds);
  return query.execute();
}

/** The proxies a grant's resources name (undefined: the routes without a proxy id). */
function grantProxyIds(publicUrl: string, grant: GrantListRow): Array<string | undefined> {
  const resources = (JSON.parse(grant.payload) as { resources?: Record<string, string> }).resources ?? {};
  const proxyIds: Array<string | undefined> = [];
  for (const resource of Object.keys(resources)) {
    const parsed = parseRouterResource(publicUrl, resource);
    if (parsed) proxyIds.push(parsed.proxyId);
  }
  return proxyIds;
}

function groupByClient(grants: GrantListRow[]): Map<string, GrantListRow[]> {
  const byClient = new Map<string, GrantListRow[]>();
  for (const grant of grants) {
    if (grant.client_id === null) continue;
    const own = byClient.get(grant.client_id);
    if (own) own.push(grant);
    else byClient.set(grant.client_id, [grant]);
  }
  return byClient;
}

function toAppRow(client: ClientListRow, own: GrantListRow[], publicUrl: string): AppRow {
  const proxyIds = new Set<string | undefined>();
  for (const grant of own) for (const proxyId of grantProxyIds(publicUrl, grant)) proxyIds.add(proxyId);
  const lastUsed = own.reduce<number | null>((max, g) => (g.last_used_at !== null && (max === null || Number(g.last_used_at) > max) ? Number(g.last_used_at) : max), null);
  return {
    clientId: client.client_id,
    name: client.name,
    kind: client.kind,
    redirectHosts: hostsOf(client.metadata_json),
    users: new Set(own.map((g) => g.account_id).filter(Boolean)).size,
    lastUsedAt: lastUsed,
    createdAt: Number(client.created_at),
    blocked: client.disabled_at !== null,
    proxyIds: [...proxyIds],
  };
}

/**
 * One page of the apps known to the organization, newest first: self-registered public apps and
 * its confidential clients. Anyone may register apps, so the page is read from the database (one
 * page of apps, then the grants of those apps only), never the whole list.
 */
export async function appsOfOrganization(
  db: Kysely<Database>,
  actor: Actor,
  publicUrl: string,
  page: { limit: number; offset: number },
): Promise<{ apps: AppRow[]; more: boolean }> {
  requireAdmin(actor);
  const clients = await db
    .selectFrom('oauth_clients')
    .select(CLIENT_LIST_COLUMNS)
    .where((eb) => eb.or([eb('organization_id', 'is', null), eb('organization_id', '=', actor.organizationId)]))
    .orderBy('created_at', 'desc')
    .orderBy('client_id', 'desc')
    .limit(page.limit + 1)
    .offset(page.offset)
    .execute();
  const shown = clients.slice(0, page.limit);
  const grants = shown.length > 0 ? groupByClient(await liveGrants(db, shown.map((c) => c.client_id))) : new Map<string, GrantListRow[]>();
  return { apps: shown.map((client) => toAppRow(client, grants.get(client.client_id) ?? [], publicUrl)), more: clients.length > page.limit };
}

/** The self-registered apps people connected through this proxy (a default proxy: also through the routes without a proxy id). */
export async function appsConnectedThrough(db: Kysely<Database>, actor: Actor, publicUrl: string, proxy: { id: string; isDefault: boolean }): Promise<AppRow[]> {
  requireAdmin(actor);
  const through = (proxyId: string | undefined) => proxyId === proxy.id || (proxyId === undefined && proxy.isDefault);
  const grants = groupByClient(await liveGrants(db));
  const ids = [...grants].filter(([, own]) => own.some((grant) => grantProxyIds(publicUrl, grant).some(through))).map(([clientId]) => clientId);
  const clients: ClientListRow[] = [];
  // In slices: an `in` list has a bound on each engine (SQLite's is 32,766 parameters).
  for (let i = 0; i < ids.length; i += 1000) {
    clients.push(
      ...(await db
        .selectFrom('oauth_clients')
        .select(CLIENT_LIST_COLUMNS)
        .where('client_id', 'in', ids.slice(i, i + 1000))
        .where('kind', '=', 'public')
        .where((eb) => eb.or([eb('organization_id', 'is', null), eb('organization_id', '=', actor.organizationId)]))
        .execute()),
    );
  }
  clients.sort((a, b) => Number(b.created_at) - Number(a.created_at));
  return clients.map((client) => toAppRow(client, grants.get(client.client_id) ?? [], publicUrl));
}
