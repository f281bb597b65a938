// Every setting Keyward reads, with its default and why, in one place. The README's
// configuration table is this file in prose; keep them together.

import { resolve } from 'node:path';
import { isIP } from 'node:net';
import { KeywardError } from './errors.js';
import { parseAllowedHosts } from './keys/allowed-hosts.js';
import { chooseLogFormat, type LogFormat } from './log-format.js';

export interface Config {
  /** TCP port to listen on. */
  port: number;
  /** Interface to bind. */
  host: string;
  /** Connections the kernel queues for us before we accept them. */
  listenBacklog: number;
  /** The URL users and apps reach Keyward at; the OAuth issuer. No trailing slash. */
  publicUrl: string;
  /** `postgres://…` to use PostgreSQL; unset for the embedded SQLite database. */
  databaseUrl: string | undefined;
  /** Where the SQLite database and generated secrets live. */
  dataDir: string;
  /** First-start administrator (creates the organization, this admin, and the default proxy). */
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  logLevel: string;
  /** `json` lines (machines) or `pretty` (one readable line per event); a terminal gets `pretty` unless told. */
  logFormat: LogFormat;
  /** Processes serving the port (node:cluster); 1 serves from the main process. */
  workers: number;
  /** When set, GET /metrics requires `Authorization: Bearer` with this token. */
  metricsToken: string | undefined;
  /** Base64 of 32 bytes; encrypts provider keys and shared secrets. Generated under dataDir when unset. */
  encryptionKey: string | undefined;
  /**
   * Which X-Forwarded-* hops to believe (client IPs for lockouts, audit and logs): false (none), a
   * number of proxies in front of Keyward, or the proxies' addresses and CIDR ranges.
   */
  trustProxy: TrustProxy;
  /** Wait for the first byte and between two chunks of an upstream answer, and between two events of a stream. */
  upstreamTimeoutMs: number;
  /** Wait for the TCP/TLS connection to a provider. */
  upstreamConnectTimeoutMs: number;
  /** Largest accepted router request body (images arrive inline as base64). */
  routerBodyLimitBytes: number;
  /** Access token lifetime. */
  accessTokenTtlSeconds: number;
  /** Refresh token lifetime (rotated on every use). */
  refreshTokenTtlSeconds: number;
  /** Dynamic client registration: `open` (anyone), `token` (needs KEYWARD_REGISTRATION_TOKEN), `off`. */
  registration: 'open' | 'token' | 'off';
  registrationToken: string | undefined;
  /** Client registrations per client IP per minute (0: unlimited); counted per instance. */
  registrationRateLimit: number;
  /** A self-registered app that nobody connected or used is deleted this many days after it registered (0: never). */
  unusedAppTtlDays: number;
  /** Device flow (RFC 8628): how long a user code can be entered before the CLI must start again. */
  deviceCodeTtlSeconds: number;
  /** Device flow: the least time between two polls of the token endpoint; faster gets slow_down. */
  devicePollIntervalSeconds: number;
  /** How long a signed-in browser session lasts. */
  sessionTtlSeconds: number;
  /** Shutdown waits this long for in-flight requests (streams included) before closing them. */
  shutdownGraceMs: number;
  /** At start, how long to keep retrying a PostgreSQL server that cannot be reached (restarting, failing over) before giving up. */
  databaseStartWaitMs: number;
  /** PostgreSQL cancels a statement that runs longer (0 = no limit). */
  databaseStatementTimeoutMs: number;
  /** Hosts (`host` or `host:port`) members' keys may use besides official endpoints; an admin's saved list overrides it. */
  keyBaseUrlAllow: string[];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** false, a hop count, or the addresses/CIDR ranges of the proxies whose X-Forwarded-* are believed. */
export type TrustProxy = false | number | string[];

const MAX_PROXY_HOPS = 10;

/**
 * KEYWARD_TRUST_PROXY: `false`; `true` (one proxy in front: the client is the address it saw, the
 * last in X-Forwarded-For); a number of proxies in front; or their addresses and CIDR ranges,
 * comma-separated. Never "trust every hop": the first X-Forwarded-For entry is the caller's to write.
 */
function trustProxy(env: Env, name: string): TrustProxy {
  const raw = (env[name] ?? '').trim();
  if (raw === '' || ['0', 'false', 'no'].includes(raw.toLowerCase())) return false;
  if (['true', 'yes'].includes(raw.toLowerCase())) return 1;
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops > MAX_PROXY_HOPS) throw new ConfigError(`${name} counts the proxies in front of Keyward: at most ${MAX_PROXY_HOPS}, got "${raw}"`);
    return hops;
  }
  const ranges = raw.split(',').map((part) => part.trim());
  for (const range of ranges) {
    const [address, prefix, extra] = range.split('/');
    const family = isIP(address ?? '');
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 6 ? 128 : 32));
    if (!family || !prefixOk || extra !== undefined) {
      throw new ConfigError(`${name} must be false, true, a number of proxies, or their addresses and CIDR ranges (comma-separated); "${range}" is none of these`);
    }
  }
  return ranges;
}

function url(name: string, raw: string): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an absolute URL, got "${raw}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(`${name} must be an http(s) URL, got "${raw}"`);
  }
  if (parsed.search || parsed.hash) throw new ConfigError(`${name} must not have a query or fragment`);
  // Cookies (`__Host-`, Path=/), the OAuth routes and the console all live at the root of the origin.
  if (parsed.pathname !== '/') {
    throw new ConfigError(`${name} must be the root of its origin (Keyward cannot be served under a path such as "${parsed.pathname}"), got "${raw}"`);
  }
  return parsed.href.replace(/\/+$/, '');
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function logLevel(env: Env, name: string): string {
  const raw = env[name] || 'info';
  if (!LOG_LEVELS.includes(raw)) throw new ConfigError(`${name} must be one of ${LOG_LEVELS.join(', ')}, got "${raw}"`);
  return raw;
}

function hostList(env: Env, name: string): string[] {
  try {
    return parseAllowedHosts(env[name] ?? '');
  } catch (error) {
    if (error instanceof KeywardError) throw new ConfigError(`${name}: ${error.message}`);
    throw error;
  }
}

export function loadConfig(env: Env = process.env): Config {
  const port = integer(env, 'PORT', 9000, 0, 65535);
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// URL (leave it unset for the embedded SQLite database)');
  }
  const logFormat = chooseLogFormat(env.KEYWARD_LOG_FORMAT, Boolean(process.stdout.isTTY));
  if (!logFormat) throw new ConfigError(`KEYWARD_LOG_FORMAT must be json or pretty, got "${env.KEYWARD_LOG_FORMAT}"`);
  const registration = (env.KEYWARD_REGISTRATION || 'open') as Config['registration'];
  if (!['open', 'token', 'off'].includes(registration)) {
    throw new ConfigError(`KEYWARD_REGISTRATION must be open, token or off, got "${registration}"`);
  }
  const registrationToken = env.KEYWARD_REGISTRATION_TOKEN || undefined;
  if (registration === 'token' && !registrationToken) {
    throw new ConfigError('KEYWARD_REGISTRATION=token needs KEYWARD_REGISTRATION_TOKEN');
  }
  return {
    port,
    host: env.HOST || '0.0.0.0',
    // Node's default (511) resets connections when thousands of callers connect at once; the kernel
    // caps it at net.core.somaxconn (4096 on current Linux).
    listenBacklog: integer(env, 'KEYWARD_LISTEN_BACKLOG', 4096, 1, 65_535),
    publicUrl: url('PUBLIC_URL', env.PUBLIC_URL || `http://localhost:${port}`),
    databaseUrl,
    dataDir: resolve(env.KEYWARD_DATA_DIR || './data'),
    adminEmail: env.KEYWARD_ADMIN_EMAIL || undefined,
    adminPassword: env.KEYWARD_ADMIN_PASSWORD || undefined,
    logLevel: logLevel(env, 'KEYWARD_LOG_LEVEL'),
    logFormat,
    workers: integer(env, 'KEYWARD_WORKERS', 1, 1, 256),
    metricsToken: env.KEYWARD_METRICS_TOKEN || undefined,
    encryptionKey: env.KEYWARD_ENCRYPTION_KEY || undefined,
    trustProxy: trustProxy(env, 'KEYWARD_TRUST_PROXY'),
    // Reasoning models can think for minutes before their first token.
    upstreamTimeoutMs: integer(env, 'KEYWARD_UPSTREAM_TIMEOUT_MS', 600_000, 100, 3_600_000),
    upstreamConnectTimeoutMs: integer(env, 'KEYWARD_UPSTREAM_CONNECT_TIMEOUT_MS', 10_000, 100, 120_000),
    routerBodyLimitBytes: integer(env, 'KEYWARD_ROUTER_BODY_LIMIT_BYTES', 20 * 1024 * 1024, 1024, 512 * 1024 * 1024),
    accessTokenTtlSeconds: integer(env, 'KEYWARD_ACCESS_TOKEN_TTL_SECONDS', 3600, 30, 86_400),
    refreshTokenTtlSeconds: integer(env, 'KEYWARD_REFRESH_TOKEN_TTL_SECONDS', 30 * 86_400, 300, 365 * 86_400),
    registration,
    registrationToken,
    // Open registration is unauthenticated writes: cheap to refuse a flood, high enough that an
    // acceptance suite or a CI job registering a client per test from one IP never meets it.
    registrationRateLimit: integer(env, 'KEYWARD_REGISTRATION_RATE_LIMIT', 300, 0, 1_000_000),
    // Long enough for an app registered on Friday and first authorized on Monday; short enough that
    // a flood of registrations is gone within the week.
    unusedAppTtlDays: integer(env, 'KEYWARD_UNUSED_APP_TTL_DAYS', 7, 0, 3650),
    // Long enough to walk to a browser and sign in; RFC 8628 §6.1 wants user codes short-lived.
    deviceCodeTtlSeconds: integer(env, 'KEYWARD_DEVICE_CODE_TTL_SECONDS', 600, 1, 3600),
    // RFC 8628 §3.2: clients poll every 5 seconds unless told otherwise.
    devicePollIntervalSeconds: integer(env, 'KEYWARD_DEVICE_POLL_INTERVAL_SECONDS', 5, 1, 60),
    sessionTtlSeconds: integer(env, 'KEYWARD_SESSION_TTL_SECONDS', 7 * 86_400, 300, 90 * 86_400),
    shutdownGraceMs: integer(env, 'KEYWARD_SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    // A PostgreSQL restart or failover takes seconds; an orchestrator restarting us in a loop helps nobody.
    databaseStartWaitMs: integer(env, 'KEYWARD_DATABASE_START_WAIT_MS', 60_000, 0, 3_600_000),
    databaseStatementTimeoutMs: integer(env, 'KEYWARD_DATABASE_STATEMENT_TIMEOUT_MS', 30_000, 0, 3_600_000),
    // Empty: members' keys reach official endpoints only, until an operator names more.
    keyBaseUrlAllow: hostList(env, 'KEYWARD_KEY_BASE_URL_ALLOW'),
  };
}
