// Which base URLs a provider key may carry. Admins' keys (and the admin CLI's): any. Keys added
// by members: their provider's official endpoint, or a host on the organization's allow-list —
// and, unless listed, only a host that resolves to public addresses (checked again at connect
// time by the router's public-only connector; see internal-address.ts).

import type { MembershipRole } from '../db/schema.js';
import { KeywardError } from '../errors.js';
import { getProviderAdapter } from '../providers/registry.js';
import { effectivePort, hostIsListed } from './allowed-hosts.js';
import { isInternalAddress, resolveAll, type HostLookup } from './internal-address.js';

/** Recorded on each key: `member` keys are held to this policy for as long as they exist. */
export type BaseUrlPolicy = 'any' | 'member';

/** Who adds a key. The admin CLI acts as the operator and passes none. */
export interface KeyActor {
  userId: string;
  role: MembershipRole;
}

export const policyFor = (actor: KeyActor | undefined): BaseUrlPolicy => (actor?.role === 'member' ? 'member' : 'any');

const WHAT_AN_ADMIN_CAN_DO =
  'An admin can allow that host (KEYWARD_KEY_BASE_URL_ALLOW, or the allowed hosts in the console) or add the key as an admin.';

export class BaseUrlNotAllowedError extends KeywardError {
  constructor(message: string) {
    super('base_url_not_allowed', message, 400);
    this.name = 'BaseUrlNotAllowedError';
  }
}

const isLocalName = (hostname: string) => hostname === 'localhost' || hostname.endsWith('.localhost');

/** The provider's official endpoint as an origin, or null (none, or a local default such as Ollama's). */
export function officialOrigin(provider: string): string | null {
  const base = getProviderAdapter(provider)?.defaultBaseUrl;
  if (!base) return null;
  const url = new URL(base);
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (isLocalName(url.hostname) || (/^[\d.]+$|:/.test(literal) && isInternalAddress(literal))) return null;
  return url.origin;
}

/** The base URL a key calls: its own, or its provider's default. */
export function effectiveBaseUrl(provider: string, baseUrl: string | null | undefined): string {
  return baseUrl || getProviderAdapter(provider)?.defaultBaseUrl || '';
}

const hostOf = (url: URL) => `${url.hostname}:${effectivePort(url)}`;

/**
 * Why a member's key may not use this base URL (listed hosts and official endpoints only), or
 * null when it may. No DNS: this is also what the sweep of existing keys applies.
 */
export function memberBaseUrlRefusal(provider: string, baseUrl: string, allowList: readonly string[]): string | null {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return `"${baseUrl}" is not an absolute URL.`;
  }
  if (hostIsListed(url, allowList)) return null;
  const official = officialOrigin(provider);
  if (official !== null && url.origin === official) return null;
  const name = getProviderAdapter(provider)?.displayName ?? provider;
  const where = official ? `${name}'s official endpoint (${official})` : `an official endpoint (${name} has none)`;
  return `Keys added by members may only use ${where} or a host an admin has allowed; "${hostOf(url)}" is neither. ${WHAT_AN_ADMIN_CAN_DO}`;
}

/**
 * Throws BaseUrlNotAllowedError, with what an admin can do, when a key under `policy` may not
 * use `baseUrl` (the key's effective base URL). A name that does not resolve now is accepted:
 * the connect-time check refuses it if it ever resolves to an internal address.
 */
export async function assertBaseUrlAllowed(input: {
  provider: string;
  baseUrl: string;
  policy: BaseUrlPolicy;
  allowList: readonly string[];
  lookup: HostLookup;
}): Promise<void> {
  if (input.policy === 'any') return;
  const refusal = memberBaseUrlRefusal(input.provider, input.baseUrl, input.allowList);
  if (refusal) throw new BaseUrlNotAllowedError(refusal);
  const url = new URL(input.baseUrl);
  if (hostIsListed(url, input.allowList)) return;
  const addresses = await resolveAll(input.lookup, url.hostname.replace(/^\[|\]$/g, '')).catch(() => []);
  if (addresses.some(isInternalAddress)) {
    throw new BaseUrlNotAllowedError(
      `"${url.hostname}" resolves to an internal network address, which keys added by members may not reach. ${WHAT_AN_ADMIN_CAN_DO}`,
    );
  }
}
