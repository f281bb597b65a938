// A DNS resolver for tests: each name answers from a table, in turn (the last answer repeats),
// so a test can make a name rebind between the moment a key is added and the call.

import type { LookupFunction } from 'node:net';
import type { HostLookup } from '../../src/keys/internal-address.js';

/** A resolver answering from a table (each name's answers in turn, the last one repeating). */
export function tableLookup(table: Record<string, string[]>): HostLookup & { calls: string[] } {
  const calls: string[] = [];
  const seen = new Map<string, number>();
  const lookup: LookupFunction = (hostname, options, callback) => {
    calls.push(hostname);
    const answers = table[hostname];
    if (!answers) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
    const i = seen.get(hostname) ?? 0;
    seen.set(hostname, i + 1);
    const address = answers[Math.min(i, answers.length - 1)]!;
    const family = address.includes(':') ? 6 : 4;
    if (options.all) return (callback as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address, family }]);
    callback(null, address, family);
  };
  return Object.assign(lookup, { calls });
}
