// The tables, typed once for both engines. Timestamps are epoch milliseconds (bigint), booleans
// are 0/1 integers: the two representations SQLite and PostgreSQL share without conversions.

import type { Generated } from 'kysely';

export interface OrganizationTable {
  id: string;
  name: string;
  created_at: number;
  /** 'refuse' | 'allow': may a call with no known price run while a spending limit applies (limits/). */
  unpriced_calls_under_limit: Generated<string>;
}

export interface UserTable {
  id: string;
  email: string;
  /** Lower-cased email: uniqueness and sign-in are case-insensitive. */
  email_normalized: string;
  password_hash: string;
  created_at: number;
  disabled_at: number | null;
}

export type MembershipRole = 'admin' | 'member';

export interface MembershipTable {
  organization_id: string;
  user_id: string;
  role: MembershipRole;
  created_at: number;
}

export interface TeamTable {
  id: string;
  organization_id: string;
  name: string;
  created_at: number;
}

export interface TeamMemberTable {
  team_id: string;
  user_id: string;
  created_at: number;
}

export interface SessionTable {
  /** SHA-256 of the cookie value: a leaked database does not yield live sessions. */
  id_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
}

export interface LoginThrottleTable {
  /** `account:<email>`, `ip:<address>` or `account-ip:<address>|<email>`. */
  key: string;
  failures: number;
  /** When the last failure was counted (the count starts over after a quiet window). */
  window_started_at: number;
  locked_until: number | null;
}

export type OwnerScope = 'org' | 'team' | 'personal';

export interface ProviderKeyTable {
  id: string;
  organization_id: string;
  provider: string;
  scope: OwnerScope;
  team_id: string | null;
  user_id: string | null;
  is_primary: number;
  base_url: string | null;
  /** JSON object of provider-specific options (e.g. Azure api version). */
  options_json: string | null;
  /** AES-256-GCM sealed secret. */
  secret_sealed: string;
  last4: string;
  created_at: number;
  /** Bumped on every change so caches can tell stale entries apart. */
  updated_at: number;
  disabled_at: number | null;
  /** `member`: added by a member, held to the base-URL policy (keys/base-url-policy.ts). */
  base_url_policy: 'any' | 'member';
  /** Why the key was disabled, in words for its owner (e.g. its host left the allow-list). */
  disabled_reason: string | null;
}

export interface OrganizationSettingsTable {
  organization_id: string;
  /** JSON array of `host` / `host:port` members' keys may use; null: KEYWARD_KEY_BASE_URL_ALLOW. */
  key_base_url_allow: string | null;
  /** Self-registered apps' cap preselected at consent (limits/app-caps.ts); null: No limit. */
  app_cap_default_nano_usd: number | null;
  app_cap_default_period: string | null;
  /** The highest cap a user may choose for a self-registered app; null: no maximum. */
  app_cap_max_nano_usd: number | null;
  app_cap_max_period: string | null;
  updated_at: number;
}

export interface LlmProxyTable {
  id: string;
  organization_id: string;
  name: string;
  scope: OwnerScope;
  team_id: string | null;
  user_id: string | null;
  is_default: number;
  created_at: number;
  updated_at: number;
  /** JSON array of `provider` or `provider:model` entries the proxy allows; null = any. */
  allowed_models_json: string | null;
}

export interface InstanceSecretTable {
  name: string;
  /** Sealed with the data-encryption key, so only instances holding it can read. */
  value_sealed: string;
  created_at: number;
}

/** A monotonically numbered log of changes other instances must hear about (cache invalidation). */
export interface ChangeLogTable {
  seq: Generated<number>;
  /** What changed: `grant`, `client`, `provider_key`, `llm_proxy`, `membership`, `user`, `key_base_url_allow`. */
  topic: string;
  subject_id: string;
  created_at: number;
}

/** One admin or security event; never holds a secret. */
export interface AuditLogTable {
  id: string;
  organization_id: string | null;
  created_at: number;
  actor_user_id: string | null;
  /** The actor's email, or `cli` for the admin CLI on the server's machine. */
  actor_label: string;
  source_ip: string | null;
  /** e.g. `key.added`, `user.disabled`, `client.secret_rotated`. */
  action: string;
  target_kind: string;
  target_id: string | null;
  target_label: string | null;
  detail: string | null;
}

export type PasswordLinkPurpose = 'invite' | 'reset';

/** A one-time link to choose a password; the token itself is never stored. */
export interface PasswordLinkTable {
  token_hash: string;
  user_id: string;
  purpose: PasswordLinkPurpose;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface Database {
  organizations: OrganizationTable;
  users: UserTable;
  memberships: MembershipTable;
  teams: TeamTable;
  team_members: TeamMemberTable;
  sessions: SessionTable;
  login_throttle: LoginThrottleTable;
  provider_keys: ProviderKeyTable;
  organization_settings: OrganizationSettingsTable;
  llm_proxies: LlmProxyTable;
  instance_secrets: InstanceSecretTable;
  change_log: ChangeLogTable;
  audit_log: AuditLogTable;
  password_links: PasswordLinkTable;
}
