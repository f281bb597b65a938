// The authorization server's tables (migration 0002-oauth), added to the Database interface here
// so the foundation's schema.ts stays the foundation's.

export interface OAuthPayloadTable {
  /** oidc-provider model name: Session, Interaction, AuthorizationCode, RefreshToken, Grant, … */
  model: string;
  id: string;
  payload: string;
  grant_id: string | null;
  uid: string | null;
  user_code: string | null;
  /** Grant rows: the user who granted (the connected-apps page lists by it). */
  account_id: string | null;
  client_id: string | null;
  expires_at: number | null;
  consumed_at: number | null;
  /** Grant rows: the last time a token was issued from it (not every router call). DeviceCode rows: the last poll. */
  last_used_at: number | null;
}

export type OAuthClientKind = 'public' | 'confidential';

export interface OAuthClientTable {
  client_id: string;
  kind: OAuthClientKind;
  name: string | null;
  /** oidc-provider client metadata (without any secret). */
  metadata_json: string;
  /** Confidential clients: `sha256:<base64url>` of the secret; the secret itself is never stored. */
  secret_hash: string | null;
  organization_id: string | null;
  proxy_ids_json: string | null;
  /** null = the org keys of its proxies' organization. */
  key_ids_json: string | null;
  created_at: number;
  updated_at: number;
  disabled_at: number | null;
}

export interface OAuthRevokedGrantTable {
  /** A grant's id, or the `jti` of a revoked client-credentials access token (it has no grant). */
  grant_id: string;
  revoked_at: number;
  /** When every token the grant issued has expired; the row is pruned after that. */
  keep_until: number;
}

declare module '../db/schema.js' {
  interface Database {
    oauth_payloads: OAuthPayloadTable;
    oauth_clients: OAuthClientTable;
    oauth_revoked_grants: OAuthRevokedGrantTable;
  }
}
