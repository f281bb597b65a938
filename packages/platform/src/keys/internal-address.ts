// Which IP addresses are not the public internet (loopback, private, link-local, CGNAT,
// multicast, reserved, unspecified, and IPv6 forms that carry such an IPv4 address), and a DNS
// lookup that refuses to hand them out: what keeps a member's key off the internal network.

import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Resolves a host name the way `net.connect` does; tests inject their own. */
export type HostLookup = LookupFunction;

export const systemLookup: HostLookup = dnsLookup as unknown as HostLookup;

export class InternalAddressError extends Error {
  readonly code = 'KEYWARD_INTERNAL_ADDRESS';
  constructor(readonly hostname: string) {
    // The address itself is not named: it would tell a member what internal names resolve to.
    super(`"${hostname}" leads to an internal network address`);
    this.name = 'InternalAddressError';
  }
}

// IPv6 ranges that embed an IPv4 address (DNS64/NAT64, 6to4): judged by that IPv4 address.
const EMBEDS_IPV4 = new Set(['rfc6052', '6to4']);

/** True unless `address` is a public unicast address. Anything unparsable counts as internal. */
export function isInternalAddress(address: string): boolean {
  const text = address.replace(/^\[|\]$/g, '');
  if (!ipaddr.isValid(text)) return true;
  let ip = ipaddr.parse(text);
  if (ip.kind() === 'ipv6') {
    const v6 = ip as ipaddr.IPv6;
    const range = v6.range();
    if (range === 'ipv4Mapped') ip = v6.toIPv4Address();
    else if (EMBEDS_IPV4.has(range)) {
      const bytes = v6.toByteArray();
      ip = new ipaddr.IPv4(range === '6to4' ? bytes.slice(2, 6) : bytes.slice(12, 16));
    }
  }
  return ip.range() !== 'unicast';
}

/**
 * A lookup that fails with InternalAddressError when any address the name resolves to is
 * internal: checked at each new connection, so a name that changes its answer (DNS rebinding)
 * is caught where the socket is opened, not only where the URL was typed.
 */
export function publicOnlyLookup(inner: HostLookup = systemLookup): HostLookup {
  return (hostname, options, callback) => {
    inner(hostname, options, (error, address, family) => {
      if (error) return callback(error, address, family);
      const addresses = Array.isArray(address) ? address.map((entry) => entry.address) : [address];
      if (addresses.length === 0 || addresses.some(isInternalAddress)) return callback(new InternalAddressError(hostname) as NodeJS.ErrnoException, '', 0);
      callback(null, address, family);
    });
  };
}

/** Every address a name resolves to (for the check when a key is added). */
export function resolveAll(lookup: HostLookup, hostname: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    lookup(hostname, { all: true }, (error, address) => {
      if (error) return reject(error);
      resolve(Array.isArray(address) ? (address as LookupAddress[]).map((entry) => entry.address) : [address]);
    });
  });
}
