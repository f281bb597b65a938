// The router's side of OAuth: a bearer token becomes a Principal, checked locally (signature, alg,
// issuer, audience, expiry, scope) against the shared public key, and against in-memory lists of
// revoked grants and disabled clients that the change feed keeps current on every instance, and
// that a periodic re-read from the database (reconcile) corrects if an event was ever missed.

import type { KeyObject } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { AppContext } from '../app-context.js';
import { cacheCounters } from '../metrics/metrics.js';
import { findClientRecord, listDisabledClientIds, type ClientRecord } from './clients.js';
import { parseRouterResource, protectedResourceMetadataUrl, routerResource } from './paths.js';
import { BearerError, LLM_PROXY_SCOPE, type AuthenticateBearer, type Principal } from './principal.js';
import { ACCESS_TOKEN_ALG } from './signing-keys.js';
import './tables.js';

/** The claim carrying the grant id in user access tokens (set through extraTokenClaims). */
export const GRANT_ID_CLAIM = 'gid';
const MAX_TOKEN_LENGTH = 8192;
const VERIFIED_CACHE_SIZE = 10_000;

export interface VerifiedToken {
  payload: JWTPayload & { scope?: string; client_id?: string; [GRANT_ID_CLAIM]?: string };
  audience: string;
  proxyId: string | undefined;
  exp: number;
}

export interface RevocationsFound {
  /** Grant ids and client-credentials token ids (jti). */
  grantIds: string[];
  clientIds: string[];
}

/** Revoked grants and client state, in memory, fed by ctx.changes ('grant', 'client') and reconcile(). */
export class RevocationState {
  private readonly revokedGrants = new Map<string, number>();
  private readonly clients = new Map<string, Promise<ClientRecord | undefined>>();
  private readonly disabledClients = new Set<string>();

  constructor(
    private readonly ctx: AppContext,
    private readonly keepMs: number,
  ) {}

  async load(): Promise<void> {
    await this.reconcile();
    this.ctx.changes.on('grant', (grantId) => {
      if (!this.revokedGrants.has(grantId)) this.revokedGrants.set(grantId, Date.now() + this.keepMs);
    });
    this.ctx.changes.on('client', (clientId) => {
      this.clients.delete(clientId);
      // Re-read at once so a disabled client is refused without waiting for its next request.
      this.client(clientId).catch((error) => this.ctx.log.warn({ err: error, clientId }, 'could not re-read a changed client; the next reconcile retries'));
    });
    // A client changed with its notice lost (its key or proxy bindings, say): every record is read
    // again when next asked for, and the disabled-client list at once (a user's token is checked
    // against that list only, so the running calls checked again after a resync wait for it).
    this.ctx.changes.onResync('client', () => {
      this.clients.clear();
      this.clientsResynced = this.reconcile().catch((error) => this.ctx.log.warn({ err: error }, 'could not re-read clients after a resync; the next reconcile retries'));
    });
  }

  private readonly foundListeners: Array<(found: RevocationsFound) => void> = [];

  /** Told the revoked grants (and token ids) and disabled clients a reconcile found that memory did not hold yet. */
  onFound(listener: (found: RevocationsFound) => void): void {
    this.foundListeners.push(listener);
  }

  /** Settles once the disabled-client list was read again after the last resync that found a client changed. */
  clientsResynced: Promise<void> = Promise.resolve();

  /**
   * Makes memory agree with the database: every revoked grant still kept there is revoked here
   * (revocations are never undone), and the disabled-client list is the database's.
   */
  async reconcile(): Promise<void> {
    const now = Date.now();
    const rows = await this.ctx.db.selectFrom('oauth_revoked_grants').select(['grant_id', 'keep_until']).where('keep_until', '>', now).execute();
    const grantIds: string[] = [];
    for (const row of rows) {
      if (this.revokedGrants.has(row.grant_id)) continue;
      this.revokedGrants.set(row.grant_id, row.keep_until);
      grantIds.push(row.grant_id);
    }
    const disabled = new Set(await listDisabledClientIds(this.ctx.db));
    const clientIds: string[] = [];
    for (const id of disabled) {
      if (this.disabledClients.has(id)) continue;
      this.disabledClients.add(id);
      this.clients.delete(id);
      clientIds.push(id);
    }
    // Found here, not by a notice (lost, or not read yet): the running calls they concern are checked again.
    if (grantIds.length || clientIds.length) {
      for (const listener of this.foundListeners) {
        try {
          listener({ grantIds, clientIds });
        } catch (error) {
          this.ctx.log.error({ err: error }, 'revocation listener failed');
        }
      }
    }
    // Enabled again: re-read rather than trust this list, which an event may have overtaken.
    const enabled = [...this.disabledClients].filter((id) => !disabled.has(id));
    await Promise.all(
      enabled.map((id) => {
        this.clients.delete(id);
        return this.client(id);
      }),
    );
  }

  isGrantRevoked(grantId: string): boolean {
    return this.revokedGrants.has(grantId);
  }

  isClientDisabled(clientId: string): boolean {
    return this.disabledClients.has(clientId);
  }

  /**
   * A client-credentials access token belongs to no grant, so revoking one revokes its `jti`: the
   * same set and table as grants (both are random ids), so it reaches every instance the same way.
   */
  isTokenRevoked(jti: string): boolean {
    return this.revokedGrants.has(jti);
  }

  revokeToken(jti: string): Promise<void> {
    return this.revokeGrant(jti);
  }

  /** Records a revocation (adapter hook) and tells every instance. */
  async revokeGrant(grantId: string): Promise<void> {
    if (this.revokedGrants.has(grantId)) return;
    const now = Date.now();
    this.revokedGrants.set(grantId, now + this.keepMs);
    await this.ctx.db
      .insertInto('oauth_revoked_grants')
      .values({ grant_id: grantId, revoked_at: now, keep_until: now + this.keepMs })
      .onConflict((oc) => oc.column('grant_id').doNothing())
      .execute();
    await this.ctx.changes.publish('grant', grantId);
  }

  /** A client's record, read once and cached until a 'client' change names it (or a resync finds one). */
  client(clientId: string): Promise<ClientRecord | undefined> {
    const cached = this.clients.get(clientId);
    if (cached) return cached;
    const record: Promise<ClientRecord | undefined> = findClientRecord(this.ctx.db, clientId).then((found) => {
      // A read that a change overtook (a newer read, a reconcile, a resync) says nothing about now.
      if (this.clients.get(clientId) === record) {
        if (found?.disabled) this.disabledClients.add(clientId);
        else this.disabledClients.delete(clientId);
      }
      return found;
    });
    record.catch(() => {
      if (this.clients.get(clientId) === record) this.clients.delete(clientId);
    });
    this.clients.set(clientId, record);
    return record;
  }

  prune(): void {
    const now = Date.now();
    for (const [id, until] of this.revokedGrants) if (until <= now) this.revokedGrants.delete(id);
  }
}

const invalid = (description: string) => new BearerError(401, 'invalid_token', description);

/**
 * Checks a Keyward access token by itself: signature, alg, typ, issuer and audience (cached once
 * verified), expiry (every time); revocation is the caller's. The router and RFC 7009/7662 share it.
 */
export function createAccessTokenVerifier(issuer: string, publicKeys: Map<string, KeyObject>) {
  const verified = new Map<string, VerifiedToken>();
  /** Tokens being verified now: a burst of calls with a new token checks its signature once. */
  const inFlight = new Map<string, Promise<VerifiedToken>>();
  const lookups = cacheCounters('access_token');
  const verify = (token: string): Promise<VerifiedToken> => {
    const known = verified.get(token);
    if (known) {
      lookups.hit();
      return Promise.resolve(known);
    }
    const pending = inFlight.get(token);
    if (pending) {
      lookups.hit();
      return pending;
    }
    lookups.miss();
    const checking = verifyOnce(token).finally(() => inFlight.delete(token));
    inFlight.set(token, checking);
    return checking;
  };
  const verifyOnce = async (token: string): Promise<VerifiedToken> => {
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw invalid('the access token is malformed');
    }
    if (header.alg !== ACCESS_TOKEN_ALG) throw invalid('the access token is not signed with an accepted algorithm');
    const key = typeof header.kid === 'string' ? publicKeys.get(header.kid) : undefined;
    if (!key) throw invalid('the access token was not signed by this server');
    let payload: VerifiedToken['payload'];
    try {
      ({ payload } = await jwtVerify(token, key, { issuer, algorithms: [ACCESS_TOKEN_ALG], typ: 'at+jwt', requiredClaims: ['exp', 'aud', 'client_id'] }));
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw invalid(code === 'ERR_JWT_EXPIRED' ? 'the access token expired' : 'the access token is invalid');
    }
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (audiences.length !== 1 || typeof audiences[0] !== 'string') throw invalid('the access token is not for the model router');
    const resource = parseRouterResource(issuer, audiences[0]);
    if (!resource) throw invalid('the access token is not for the model router');
    const entry: VerifiedToken = { payload, audience: audiences[0], proxyId: resource.proxyId, exp: payload.exp! };
    if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value!);
    verified.set(token, entry);
    return entry;
  };
  /** The verified token, or BearerError (expired included). */
  return async function verifyAccessToken(token: string): Promise<VerifiedToken> {
    if (typeof token !== 'string' || !token || token.length > MAX_TOKEN_LENGTH) throw invalid('the access token is malformed');
    const entry = await verify(token);
    if (entry.exp * 1000 <= Date.now()) {
      verified.delete(token);
      throw invalid('the access token expired');
    }
    return entry;
  };
}

export function createBearerAuthenticator(
  ctx: AppContext,
  publicKeys: Map<string, KeyObject>,
  state: RevocationState,
): AuthenticateBearer {
  const verify = createAccessTokenVerifier(ctx.config.publicUrl, publicKeys);

  return async function authenticateBearer(token: string): Promise<Principal> {
    const { payload, audience, proxyId } = await verify(token);
    const clientId = payload.client_id!;
    if (state.isClientDisabled(clientId)) throw invalid('the app this token was issued to is disabled');
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
    const grantId = payload[GRANT_ID_CLAIM];

    if (typeof grantId === 'string') {
      if (state.isGrantRevoked(grantId)) throw invalid('the access token was revoked');
      if (typeof payload.sub !== 'string') throw invalid('the access token has no subject');
      if (!scopes.includes(LLM_PROXY_SCOPE)) throw new BearerError(403, 'insufficient_scope', `the access token lacks the ${LLM_PROXY_SCOPE} scope`);
      return {
        kind: 'user',
        userId: payload.sub,
        clientId,
        grantId,
        scopes,
        audience,
        ...(proxyId ? { boundProxyId: proxyId } : {}),
      };
    }

    if (typeof payload.jti === 'string' && state.isTokenRevoked(payload.jti)) throw invalid('the access token was revoked');
    const client = await state.client(clientId);
    if (!client || client.disabled || client.kind !== 'confidential' || !client.access) throw invalid('the access token was revoked');
    if (!scopes.includes(LLM_PROXY_SCOPE)) throw new BearerError(403, 'insufficient_scope', `the access token lacks the ${LLM_PROXY_SCOPE} scope`);
    const proxyIds = proxyId ? client.access.proxyIds.filter((id) => id === proxyId) : client.access.proxyIds;
    return {
      kind: 'client',
      clientId,
      organizationId: client.access.organizationId,
      proxyIds,
      keyIds: client.access.keyIds,
      scopes,
      audience,
    };
  };
}

/** The token from an `Authorization: Bearer …` header, and only from there (never a query string). */
export function bearerTokenFromHeader(authorization: string | string[] | undefined): string | undefined {
  if (typeof authorization !== 'string') return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization);
  return match?.[1];
}

const quoted = (value: string) => `"${value.replace(/[\\"]/g, '\\$&').replace(/[\u0000-\u001f\u007f]/g, ' ')}"`;

/**
 * The router's `WWW-Authenticate` value (RFC 6750 §3, RFC 9728 §5.1): always names the protected
 * resource metadata; adds error, description and, for 403, the scope that is missing.
 */
export function wwwAuthenticate(publicUrl: string, options: { proxyId?: string | undefined; error?: BearerError | undefined } = {}): string {
  const parts = [`resource_metadata=${quoted(protectedResourceMetadataUrl(publicUrl, options.proxyId))}`];
  if (options.error) {
    parts.push(`error=${quoted(options.error.error)}`, `error_description=${quoted(options.error.description)}`);
    if (options.error.status === 403) parts.push(`scope=${quoted(LLM_PROXY_SCOPE)}`);
  }
  return `Bearer ${parts.join(', ')}`;
}

/** RFC 9728 metadata for the router, or for one proxy of it. */
export function protectedResourceMetadata(publicUrl: string, proxyId?: string) {
  return {
    resource: proxyId ? `${routerResource(publicUrl)}/${proxyId}` : routerResource(publicUrl),
    authorization_servers: [publicUrl],
    scopes_supported: [LLM_PROXY_SCOPE],
    bearer_methods_supported: ['header'],
    resource_name: 'Keyward Model Router',
  };
}
