// OAuth clients: public apps that registered themselves (RFC 7591) and the confidential clients an
// admin creates for client_credentials ("Proxy Auth > OAuth Clients"). Secrets are never stored:
// only their SHA-256 (a 256-bit random secret needs no slow hash), compared by compareClientSecret.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AdapterPayload } from 'oidc-provider';
import type { AppContext } from '../app-context.js';
import type { Database } from '../db/schema.js';
import { KeywardError, notFound } from '../errors.js';
import { DEVICE_CODE_GRANT_TYPE } from './paths.js';
import './tables.js';

export const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
/** What a self-registered (public) client may use: the code flow, the device flow (RFC 8628) for CLIs, refresh. */
export const PUBLIC_GRANT_TYPES = new Set(['authorization_code', DEVICE_CODE_GRANT_TYPE, 'refresh_token']);

export function hashClientSecret(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('base64url')}`;
}

export function clientSecretMatches(storedHash: string | undefined, presented: unknown): boolean {
  if (typeof storedHash !== 'string' || typeof presented !== 'string' || presented.length > 512) return false;
  const expected = Buffer.from(storedHash);
  const given = Buffer.from(hashClientSecret(presented));
  return expected.length === given.length && timingSafeEqual(expected, given);
}

const newClientId = () => `kwc_${randomBytes(16).toString('base64url')}`;
/**
 * An app's client id from dynamic registration. oidc-provider's default (nanoid) starts with `-`
 * one time in 64, which a command line reads as an option (`--client -x…`); a prefix never does.
 */
/** What every self-registered app's client id starts with, and no administrator's client's does. */
export const SELF_REGISTERED_CLIENT_ID_PREFIX = 'kwa_';
export const newRegisteredClientId = () => `${SELF_REGISTERED_CLIENT_ID_PREFIX}${randomBytes(16).toString('base64url')}`;
/** Whether a client id was made by the registration endpoint (an app that registered itself), not by an administrator. */
export const isSelfRegisteredClientId = (clientId: string) => clientId.startsWith(SELF_REGISTERED_CLIENT_ID_PREFIX);
const newClientSecret = () => `kws_${randomBytes(32).toString('base64url')}`;

// --- storage for oidc-provider's Client model -------------------------------------------------

/** The metadata oidc-provider sees for a client id; disabled clients do not exist for it. */
export async function findClientMetadata(db: Kysely<Database>, clientId: string): Promise<AdapterPayload | undefined> {
  if (clientId.length > 200) return undefined;
  const row = await db.selectFrom('oauth_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
  if (!row || row.disabled_at !== null) return undefined;
  const metadata = JSON.parse(row.metadata_json) as AdapterPayload;
  if (row.kind === 'confidential') metadata.client_secret = row.secret_hash;
  return metadata;
}

/** A client registered through the registration endpoint (always public, see validateRegistration). */
export async function saveRegisteredClient(db: Kysely<Database>, clientId: string, metadata: AdapterPayload): Promise<void> {
  const now = Date.now();
  const { client_secret: _never, ...stored } = metadata;
  await db
    .insertInto('oauth_clients')
    .values({
      client_id: clientId,
      kind: 'public',
      name: typeof metadata.client_name === 'string' ? metadata.client_name : null,
      metadata_json: JSON.stringify(stored),
      secret_hash: null,
      organization_id: null,
      proxy_ids_json: null,
      key_ids_json: null,
      created_at: now,
      updated_at: now,
      disabled_at: null,
    })
    .onConflict((oc) => oc.column('client_id').doUpdateSet({ metadata_json: JSON.stringify(stored), updated_at: now }))
    .execute();
}

// --- registration policy (RFC 7591, public clients only) --------------------------------------

/** Why a redirect URI may not be registered, or undefined when it may. */
export function redirectUriProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 2000) return 'redirect_uris must be URLs';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `redirect URI ${value} is not a URL`;
  }
  if (value.includes('#')) return `redirect URI ${value} must not have a fragment`;
  if (url.username || url.password) return `redirect URI ${value} must not carry user information`;
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') {
    return LOOPBACK_HOSTS.has(url.hostname) ? undefined : `redirect URI ${value} must use https (http only on localhost, 127.0.0.1 or [::1])`;
  }
  return `redirect URI ${value} must use https (or http on a loopback host)`;
}

/**
 * Exact redirect-URI matching, except the port of an http loopback redirect (RFC 8252 §7.3),
 * which oidc-provider grants only to `application_type: native` clients.
 */
export function loopbackRedirectMatches(registered: string[], value: string): boolean {
  let asked: URL;
  try {
    asked = new URL(value);
  } catch {
    return false;
  }
  if (asked.protocol !== 'http:' || !LOOPBACK_HOSTS.has(asked.hostname) || asked.username || asked.password || value.includes('#')) {
    return false;
  }
  // The value must be in canonical form, so nothing but the port can differ.
  if (value !== `http://${asked.host}${asked.pathname}${asked.search}`) return false;
  return registered.some((uri) => {
    try {
      const r = new URL(uri);
      return (
        r.protocol === 'http:' &&
        r.hostname === asked.hostname &&
        uri === `http://${r.host}${r.pathname}${r.search}` &&
        r.pathname === asked.pathname &&
        r.search === asked.search
      );
    } catch {
      return false;
    }
  });
}

// --- confidential clients (admin CLI) ----------------------------------------------------------

export interface ConfidentialClientAccess {
  organizationId: string;
  proxyIds: string[];
  /** Org and team keys of its organization (never a personal key); null: the org keys of its proxies' organization. */
  keyIds: string[] | null;
}

async function checkAccess(db: Kysely<Database>, proxyIds: string[], keyIds: string[]): Promise<ConfidentialClientAccess> {
  if (!proxyIds.length) throw new KeywardError('invalid_proxy', 'a client needs at least one --proxy');
  const proxies = await db.selectFrom('llm_proxies').select(['id', 'organization_id']).where('id', 'in', proxyIds).execute();
  for (const id of proxyIds) if (!proxies.some((p) => p.id === id)) throw notFound('LLM proxy', id);
  const organizations = new Set(proxies.map((p) => p.organization_id));
  if (organizations.size !== 1) throw new KeywardError('invalid_proxy', 'all proxies of a client must belong to one organization');
  const organizationId = [...organizations][0]!;
  if (keyIds.length) {
    const keys = await db.selectFrom('provider_keys').select(['id', 'organization_id', 'scope']).where('id', 'in', keyIds).execute();
    for (const id of keyIds) {
      const key = keys.find((k) => k.id === id);
      if (!key) throw notFound('provider key', id);
      if (key.organization_id !== organizationId) throw new KeywardError('invalid_key', `provider key "${id}" belongs to another organization`);
      // A person's own key is paid by their own provider account: a client's calls may not be.
      if (key.scope === 'personal') {
        throw new KeywardError('invalid_key', `provider key "${id}" is someone's personal key: a client may use organization and team keys only`);
      }
    }
  }
  return { organizationId, proxyIds: [...new Set(proxyIds)], keyIds: keyIds.length ? [...new Set(keyIds)] : null };
}

export async function createConfidentialClient(
  ctx: Pick<AppContext, 'db' | 'changes'>,
  input: { name: string; proxyIds: string[]; keyIds?: string[] },
): Promise<{ client_id: string; client_secret: string }> {
  const name = input.name.trim();
  if (!name || name.length > 200) throw new KeywardError('invalid_name', 'client name must be 1 to 200 characters');
  const access = await checkAccess(ctx.db, input.proxyIds, input.keyIds ?? []);
  const clientId = newClientId();
  const secret = newClientSecret();
  const now = Date.now();
  const metadata = {
    client_id: clientId,
    client_name: name,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
  };
  await ctx.db
    .insertInto('oauth_clients')
    .values({
      client_id: clientId,
      kind: 'confidential',
      name,
      metadata_json: JSON.stringify(metadata),
      secret_hash: hashClientSecret(secret),
      organization_id: access.organizationId,
      proxy_ids_json: JSON.stringify(access.proxyIds),
      key_ids_json: access.keyIds ? JSON.stringify(access.keyIds) : null,
      created_at: now,
      updated_at: now,
      disabled_at: null,
    })
    .execute();
  await ctx.changes.publish('client', clientId);
  return { client_id: clientId, client_secret: secret };
}

async function requireConfidentialClient(db: Kysely<Database>, clientId: string) {
  const row = await db.selectFrom('oauth_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
  if (!row || row.kind !== 'confidential') throw notFound('OAuth client', clientId);
  return row;
}

export async function rotateClientSecret(ctx: Pick<AppContext, 'db' | 'changes'>, clientId: string): Promise<{ client_id: string; client_secret: string }> {
  await requireConfidentialClient(ctx.db, clientId);
  const secret = newClientSecret();
  await ctx.db.updateTable('oauth_clients').set({ secret_hash: hashClientSecret(secret), updated_at: Date.now() }).where('client_id', '=', clientId).execute();
  await ctx.changes.publish('client', clientId);
  return { client_id: clientId, client_secret: secret };
}

export async function disableClient(ctx: Pick<AppContext, 'db' | 'changes'>, clientId: string): Promise<{ client_id: string; disabled: true }> {
  const row = await ctx.db.selectFrom('oauth_clients').select(['client_id']).where('client_id', '=', clientId).executeTakeFirst();
  if (!row) throw notFound('OAuth client', clientId);
  await ctx.db.updateTable('oauth_clients').set({ disabled_at: Date.now(), updated_at: Date.now() }).where('client_id', '=', clientId).execute();
  await ctx.changes.publish('client', clientId);
  return { client_id: clientId, disabled: true };
}

export interface ClientRecord {
  clientId: string;
  kind: 'public' | 'confidential';
  name: string | null;
  disabled: boolean;
  access: ConfidentialClientAccess | null;
}

export async function findClientRecord(db: Kysely<Database>, clientId: string): Promise<ClientRecord | undefined> {
  const row = await db.selectFrom('oauth_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
  if (!row) return undefined;
  return {
    clientId: row.client_id,
    kind: row.kind,
    name: row.name,
    disabled: row.disabled_at !== null,
    access:
      row.kind === 'confidential' && row.organization_id
        ? {
            organizationId: row.organization_id,
            proxyIds: JSON.parse(row.proxy_ids_json ?? '[]') as string[],
            keyIds: row.key_ids_json ? (JSON.parse(row.key_ids_json) as string[]) : null,
          }
        : null,
  };
}

export async function listDisabledClientIds(db: Kysely<Database>): Promise<string[]> {
  const rows = await db.selectFrom('oauth_clients').select('client_id').where('disabled_at', 'is not', null).execute();
  return rows.map((r) => r.client_id);
}
