// The hosts an operator lets members' keys reach (`KEYWARD_KEY_BASE_URL_ALLOW`, or the
// organization's override): `host` (any port) or `host:port`, exact names or IP literals.
// Entries are normalized the way a URL's host is, so `127.1` and `127.0.0.1` are one host.

import { KeywardError } from '../errors.js';

const ENTRY = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:/?#@[\]]+))(?::(\d{1,5}))?$/;

/** One entry as `host` or `host:port` (IPv6 in brackets), lower-cased; throws on anything else. */
export function parseAllowedHost(raw: string): string {
  const entry = raw.trim();
  const match = ENTRY.exec(entry);
  const host = match ? (match[1] !== undefined ? `[${match[1]}]` : match[2]!) : '';
  let hostname = '';
  try {
    hostname = match ? new URL(`http://${host}/`).hostname : '';
  } catch {
    hostname = '';
  }
  const port = match?.[3] === undefined ? undefined : Number(match[3]);
  if (!hostname || (port !== undefined && (port < 1 || port > 65535))) {
    throw new KeywardError('invalid_allowed_host', `"${entry}" is not a host or host:port (for example api.example.com or 10.0.0.5:8000)`);
  }
  return port === undefined ? hostname.replace(/\.$/, '') : `${hostname.replace(/\.$/, '')}:${port}`;
}

/** A comma-separated list (the env var) or a list of entries (the console), normalized and de-duplicated. */
export function parseAllowedHosts(raw: string | readonly string[]): string[] {
  const entries = typeof raw === 'string' ? raw.split(',') : raw;
  return [...new Set(entries.filter((entry) => entry.trim() !== '').map(parseAllowedHost))];
}

/** The port a URL connects to, its scheme's default when not written. */
export function effectivePort(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

/** Whether a URL's host (and port, when the entry names one) is on the list. */
export function hostIsListed(url: URL, allowed: readonly string[]): boolean {
  const hostname = url.hostname.replace(/\.$/, '');
  return allowed.includes(hostname) || allowed.includes(`${hostname}:${effectivePort(url)}`);
}
