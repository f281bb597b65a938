// RFC 7009 revocation and RFC 7662 introspection of Keyward's access tokens. They are JWTs (RFC
// 9068) that oidc-provider keeps no record of, so after authenticating the client it refuses them
// with `unsupported_token_type`; this middleware answers in its place, after that authentication.

import type { KeyObject } from 'node:crypto';
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { AppContext } from '../app-context.js';
import { findUserById } from '../accounts/users.js';
import { findClientRecord } from './clients.js';
import { revokeGrant } from './grant-revocation.js';
import { createAccessTokenVerifier, GRANT_ID_CLAIM, type RevocationState, type VerifiedToken } from './resource-server.js';

interface AuthenticatedClient {
  clientId: string;
  clientAuthMethod: string;
}

/** RFC 7009 §2.1: a client revokes only tokens issued to it. */
export const mayRevoke = (client: AuthenticatedClient, tokenClientId: string | undefined) => tokenClientId === client.clientId;

/**
 * RFC 7662 §2.1: confidential clients (created by an admin) may introspect any token Keyward
 * issued; a public client only its own — another client's token is `active: false` to it.
 */
export const mayIntrospect = (client: AuthenticatedClient, tokenClientId: string | undefined) =>
  client.clientAuthMethod !== 'none' || tokenClientId === client.clientId;

const ROUTES = new Set(['revocation', 'introspection']);

export function answerForAccessTokens(
  provider: Provider,
  ctx: AppContext,
  publicKeys: Map<string, KeyObject>,
  revocations: RevocationState,
): void {
  const verify = createAccessTokenVerifier(ctx.config.publicUrl, publicKeys);
  /** The access token, or undefined when it is not a live one Keyward issued (bad, foreign, expired). */
  const verified = (token: unknown) => verify(String(token)).catch(() => undefined);

  const refusedJwts = new WeakSet<object>();
  const remember = (context: KoaContextWithOIDC, error: unknown) => {
    if (error instanceof errors.UnsupportedTokenType && ROUTES.has(context.oidc?.route)) refusedJwts.add(context);
  };
  provider.on('revocation.error', remember);
  provider.on('introspection.error', remember);

  /** Revoking a user's access token ends its grant (RFC 7009 §2.1 allows it); a client-credentials token is revoked alone. */
  const revoke = async (client: AuthenticatedClient, token: VerifiedToken | undefined) => {
    if (!token || !mayRevoke(client, token.payload.client_id)) return;
    const grantId = token.payload[GRANT_ID_CLAIM];
    if (typeof grantId === 'string') await revokeGrant(ctx, revocations, grantId);
    else if (typeof token.payload.jti === 'string') await revocations.revokeToken(token.payload.jti);
  };

  /** Active only while the router would accept the token, read from the database, not a cache. */
  const isActive = async (token: VerifiedToken): Promise<boolean> => {
    const { payload } = token;
    const record = await findClientRecord(ctx.db, payload.client_id!);
    if (!record || record.disabled) return false;
    const grantId = payload[GRANT_ID_CLAIM];
    if (typeof grantId !== 'string') {
      if (typeof payload.jti === 'string' && (revocations.isTokenRevoked(payload.jti) || (await isRevokedInDatabase(payload.jti)))) return false;
      return record.kind === 'confidential' && !!record.access;
    }
    if (revocations.isGrantRevoked(grantId)) return false;
    const grant = await provider.Grant.find(grantId);
    if (!grant || grant.clientId !== payload.client_id || grant.accountId !== payload.sub) return false;
    const user = typeof payload.sub === 'string' ? await findUserById(ctx.db, payload.sub) : undefined;
    return !!user && user.disabled_at === null;
  };
  const isRevokedInDatabase = async (id: string) =>
    !!(await ctx.db.selectFrom('oauth_revoked_grants').select('grant_id').where('grant_id', '=', id).executeTakeFirst());

  const introspect = async (client: AuthenticatedClient, token: VerifiedToken | undefined) => {
    if (!token || !mayIntrospect(client, token.payload.client_id) || !(await isActive(token))) return { active: false };
    const { jti, sub, client_id, scope, aud, iss, iat, exp } = token.payload;
    return { active: true, client_id, sub, scope, aud, iss, iat, exp, jti, token_type: 'Bearer' };
  };

  provider.use(async (context: KoaContextWithOIDC, next: () => Promise<void>) => {
    await next();
    if (!refusedJwts.has(context)) return;
    // oidc-provider refuses JWTs only after the client authenticated, so ctx.oidc.client is that client.
    const { client, params, route } = context.oidc;
    const token = await verified(params.token);
    context.remove('content-type');
    context.remove('www-authenticate');
    context.status = 200;
    if (route === 'revocation') {
      await revoke(client, token);
      context.body = '';
    } else {
      context.body = await introspect(client, token);
    }
  });
}
