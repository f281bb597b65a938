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
  /** `account:<email>` or `ip:<address>`. */
  key: string;
  failures: number;
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
  /** What changed: `grant`, `client`, `provider_key`, `llm_proxy`, `membership`, `user`. */
  topic: string;
  subject_id: string;
  created_at: number;
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
  llm_proxies: LlmProxyTable;
  instance_secrets: InstanceSecretTable;
  change_log: ChangeLogTable;
}
