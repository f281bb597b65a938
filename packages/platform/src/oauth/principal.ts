// Who is calling the Model Router: what a bearer token resolves to. The authorization server
// produces it (oauth/resource-server.ts); the router consumes it and nothing else.

export const LLM_PROXY_SCOPE = 'llm:proxy';

/** A user acting through an app (authorization code grant). */
export interface UserPrincipal {
  kind: 'user';
  userId: string;
  /** The app (OAuth client) the user authorized. */
  clientId: string;
  grantId: string;
  scopes: string[];
  /** The token's audience: the router base resource, or one proxy's resource. */
  audience: string;
  /** The proxy the token is bound to when its audience names one. */
  boundProxyId?: string;
}

/** An admin-created confidential client (client_credentials grant). */
export interface ClientPrincipal {
  kind: 'client';
  clientId: string;
  organizationId: string;
  /** The LLM proxies this client may use. */
  proxyIds: string[];
  /** The provider keys it is limited to; null = its proxies' organization keys. */
  keyIds: string[] | null;
  scopes: string[];
  audience: string;
}

export type Principal = UserPrincipal | ClientPrincipal;

/**
 * A bearer token that does not authenticate (401, `invalid_token`) or lacks what the route needs
 * (403, `insufficient_scope`). The router turns it into its error shape and a WWW-Authenticate
 * header naming the protected-resource metadata.
 */
export class BearerError extends Error {
  constructor(
    readonly status: 401 | 403,
    readonly error: 'invalid_token' | 'insufficient_scope' | 'invalid_request',
    readonly description: string,
  ) {
    super(description);
    this.name = 'BearerError';
  }
}

/** Turns a bearer token into a principal or throws BearerError. The router's only way in. */
export type AuthenticateBearer = (token: string) => Promise<Principal>;
