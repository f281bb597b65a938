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

/** Every app known to the organization: self-registered public apps and its confidential clients. */
export async function appsOfOrganization(db: Kysely<Database>, actor: Actor, publicUrl: string): Promise<AppRow[]> {
  requireAdmin(actor);
  const clients = await db
    .selectFrom('oauth_clients')
    .select(['client_id', 'name', 'kind', 'metadata_json', 'created_at', 'disabled_at', 'organization_id'])
    .where((eb) => eb.or([eb('organization_id', 'is', null), eb('organization_id', '=', actor.organizationId)]))
    .orderBy('created_at', 'desc')
    .execute();
  const grants = await db
    .selectFrom('oauth_payloads')
    .select(['client_id', 'account_id', 'last_used_at', 'payload'])
    .where('model', '=', 'Grant')
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', Date.now())]))
    .execute();
  return clients.map((client) => {
    const own = grants.filter((g) => g.client_id === client.client_id);
    const proxyIds = new Set<string | undefined>();
    for (const grant of own) {
      const resources = (JSON.parse(grant.payload) as { resources?: Record<string, string> }).resources ?? {};
      for (const resource of Object.keys(resources)) {
        const parsed = parseRouterResource(publicUrl, resource);
        if (parsed) proxyIds.add(parsed.proxyId);
      }
    }
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
  });
}
