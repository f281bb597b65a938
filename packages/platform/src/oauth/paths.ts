// Every OAuth path, scope and resource name, defined once. The routes are the seed doc's contract.

import { LLM_PROXY_SCOPE } from './principal.js';

export const OAUTH_BASE = '/api/auth/oauth2';

/** oidc-provider's `routes`, absolute from the server root (the issuer has no path). */
export const OAUTH_ROUTES = {
  authorization: `${OAUTH_BASE}/authorize`,
  token: `${OAUTH_BASE}/token`,
  registration: `${OAUTH_BASE}/register`,
  revocation: `${OAUTH_BASE}/revoke`,
  introspection: `${OAUTH_BASE}/introspect`,
  pushed_authorization_request: `${OAUTH_BASE}/par`,
  jwks: `${OAUTH_BASE}/jwks`,
  userinfo: `${OAUTH_BASE}/userinfo`,
  end_session: `${OAUTH_BASE}/end-session`,
  device_authorization: `${OAUTH_BASE}/device-authorization`,
  // RFC 8628's verification_uri: people type it, so it is short and off the API prefix.
  code_verification: '/device',
} as const;

export const DEVICE_PATH = OAUTH_ROUTES.code_verification;
export const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';

export const INTERACTION_PATH = `${OAUTH_BASE}/interaction`;
export const interactionPath = (uid: string) => `${INTERACTION_PATH}/${encodeURIComponent(uid)}`;
export const CONNECTED_APPS_PATH = '/account/apps';

export const AUTHORIZATION_SERVER_METADATA_PATH = '/.well-known/oauth-authorization-server';
export const OPENID_CONFIGURATION_PATH = '/.well-known/openid-configuration';
export const PROTECTED_RESOURCE_METADATA_PATH = '/.well-known/oauth-protected-resource';

export const OFFLINE_ACCESS_SCOPE = 'offline_access';
export { LLM_PROXY_SCOPE };

/** The Model Router's path; its resource identifiers (RFC 8707) hang off it. */
export const MODEL_ROUTER_PATH = '/v1/model-router';

/** `${publicUrl}/v1/model-router`: valid on every proxy the principal may use. */
export const routerResource = (publicUrl: string) => `${publicUrl}${MODEL_ROUTER_PATH}`;

/** `${publicUrl}/v1/model-router/{proxyId}`: bound to that proxy (the MCP SDK asks for this). */
export const proxyResource = (publicUrl: string, proxyId: string) => `${routerResource(publicUrl)}/${proxyId}`;

const PROXY_ID = /^[A-Za-z0-9_-]{1,100}$/;

/**
 * Which router resource a resource indicator names: `{ proxyId: undefined }` for the whole router,
 * `{ proxyId }` for one proxy, undefined when it is not ours. Exact string forms only.
 */
export function parseRouterResource(publicUrl: string, resource: string): { proxyId: string | undefined } | undefined {
  const base = routerResource(publicUrl);
  if (resource === base || resource === `${base}/`) return { proxyId: undefined };
  if (!resource.startsWith(`${base}/`)) return undefined;
  const proxyId = resource.slice(base.length + 1).replace(/\/$/, '');
  return PROXY_ID.test(proxyId) ? { proxyId } : undefined;
}

/** RFC 9728: the metadata URL for a resource is the well-known prefix inserted before its path. */
export function protectedResourceMetadataUrl(publicUrl: string, proxyId?: string): string {
  const origin = new URL(publicUrl);
  const resourcePath = new URL(proxyId ? proxyResource(publicUrl, proxyId) : routerResource(publicUrl)).pathname;
  return `${origin.origin}${PROTECTED_RESOURCE_METADATA_PATH}${resourcePath}`;
}
