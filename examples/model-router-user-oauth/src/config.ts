// Every setting the app reads, its default, and what to write when it is wrong — in one place.
import { existsSync } from 'node:fs';

export interface Config {
  /** Keyward's base URL, which is also its OAuth issuer identifier. */
  keywardBaseUrl: URL;
  /** This app's origin as the browser sees it. */
  appBaseUrl: URL;
  /** `{APP_BASE_URL}/oauth/callback`, registered with Keyward and sent on every authorization request. */
  redirectUri: string;
  llmProxyId: string;
  /** Model preselected in the picker, `<provider>:<model>`. */
  model: string;
  port: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`The app is not configured yet:\n${problems.map((p) => `  - ${p}`).join('\n')}\nSet these in .env (copy .env.example) or as environment variables.`);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_KEYWARD_BASE_URL = 'http://localhost:9000';
export const DEFAULT_PORT = 5174;
export const DEFAULT_MODEL = 'openai:gpt-4o-mini';
export const CALLBACK_PATH = '/oauth/callback';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PROVIDER_MODEL = /^[a-z0-9][a-z0-9_-]*:\S+$/i;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Reads `.env` into process.env (real environment variables win), then validates. */
export function loadConfigFromEnvironment(envFile = '.env'): Config {
  // process.loadEnvFile never overwrites a variable that is already set.
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  return parseConfig(process.env);
}

/** Validates settings; throws one ConfigError that lists every problem, each with what to set. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const problems: string[] = [];
  const value = (name: string) => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };

  const keywardBaseUrl = parseBaseUrl('KEYWARD_BASE_URL', value('KEYWARD_BASE_URL') ?? DEFAULT_KEYWARD_BASE_URL, problems, {
    example: DEFAULT_KEYWARD_BASE_URL,
    allowPath: true,
  });

  let port: number | undefined;
  const rawPort = value('PORT');
  if (rawPort !== undefined) {
    port = Number(rawPort);
    if (!/^\d+$/.test(rawPort) || port < 1 || port > 65535) {
      problems.push(`PORT must be a port number between 1 and 65535, like PORT=${DEFAULT_PORT} (got "${rawPort}").`);
      port = undefined;
    }
  }

  const appBaseUrl = parseBaseUrl('APP_BASE_URL', value('APP_BASE_URL') ?? `http://localhost:${port ?? DEFAULT_PORT}`, problems, {
    example: `http://localhost:${DEFAULT_PORT}`,
    allowPath: false,
  });

  const llmProxyId = value('LLM_PROXY_ID');
  if (llmProxyId === undefined) {
    problems.push('LLM_PROXY_ID is missing. Set it to the id of an LLM proxy you may use, e.g. from `npx keyward proxy list` (a UUID like 3f2b8c1e-…).');
  } else if (!UUID.test(llmProxyId)) {
    problems.push(`LLM_PROXY_ID must be the proxy's id, a UUID like 3f2b8c1e-5d4a-4e2f-9b7c-1a2b3c4d5e6f (got "${llmProxyId}").`);
  }

  const model = value('MODEL') ?? DEFAULT_MODEL;
  if (!PROVIDER_MODEL.test(model)) {
    problems.push(`MODEL must be "<provider>:<model>", like MODEL=${DEFAULT_MODEL} (got "${model}").`);
  }

  if (problems.length > 0 || !keywardBaseUrl || !appBaseUrl || !llmProxyId) throw new ConfigError(problems);

  return {
    keywardBaseUrl,
    appBaseUrl,
    redirectUri: new URL(CALLBACK_PATH, appBaseUrl).href,
    llmProxyId: llmProxyId.toLowerCase(),
    model,
    port: port ?? (appBaseUrl.port ? Number(appBaseUrl.port) : DEFAULT_PORT),
  };
}

function parseBaseUrl(
  name: string,
  raw: string,
  problems: string[],
  { example, allowPath }: { example: string; allowPath: boolean },
): URL | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`${name} must be a URL like ${name}=${example} (got "${raw}").`);
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.push(`${name} must start with http:// or https://, like ${name}=${example} (got "${raw}").`);
    return undefined;
  }
  if (url.search || url.hash || url.username || url.password) {
    problems.push(`${name} must be a plain URL without query, fragment or credentials, like ${name}=${example} (got "${raw}").`);
    return undefined;
  }
  if (!allowPath && url.pathname !== '/') {
    problems.push(`${name} must be the app's origin without a path, like ${name}=${example} (got "${raw}").`);
    return undefined;
  }
  // Tokens and the redirect travel over these URLs: plain http only where nothing leaves the machine.
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    problems.push(`${name} must use https:// unless it is on this machine (localhost, 127.0.0.1 or [::1]) (got "${raw}").`);
    return undefined;
  }
  if (allowPath) url.pathname = url.pathname.replace(/\/+$/, '') || '/';
  return url;
}

/** True when a URL is plain http (loopback only, see above): oauth4webapi then needs its opt-in. */
export function isPlainHttp(url: URL): boolean {
  return url.protocol === 'http:';
}
