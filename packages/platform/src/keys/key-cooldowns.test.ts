// Resting keys that just failed: Retry-After honoured and bounded, one probe when the rest is over.

import { describe, expect, it } from 'vitest';
import { DEFAULT_KEY_REST_MS, KeyCooldowns, MAX_KEY_REST_MS, restMs } from './key-cooldowns.js';

const keys = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];

describe('KeyCooldowns', () => {
  it('moves a rested key behind the others of its rank, for as long as Retry-After says', () => {
    let now = 1_000_000;
    const cooldowns = new KeyCooldowns(() => now);
    cooldowns.rest('a', '20');
    expect(cooldowns.order(keys).map((k) => k.id)).toEqual(['b', 'c', 'a']);
    now += 19_000;
    expect(cooldowns.order(keys).map((k) => k.id)).toEqual(['b', 'c', 'a']);
    now += 2_000;
    // Rest over: this call probes it; a concurrent call still skips it until the probe reports.
    expect(cooldowns.order(keys).map((k) => k.id)).toEqual(['a', 'b', 'c']);
    expect(cooldowns.order(keys).map((k) => k.id)).toEqual(['b', 'c', 'a']);
    cooldowns.recover('a');
    expect(cooldowns.order(keys).map((k) => k.id)).toEqual(['a', 'b', 'c']);
  });

  it('a probe that fails rests the key again', () => {
    let now = 0;
    const cooldowns = new KeyCooldowns(() => now);
    cooldowns.rest('a');
    now += DEFAULT_KEY_REST_MS + 1;
    expect(cooldowns.order(keys)[0]!.id).toBe('a');
    cooldowns.rest('a');
    expect(cooldowns.order(keys).map((k) => k.id)).toEqual(['b', 'c', 'a']);
  });

  it('a lone key is never skipped', () => {
    const cooldowns = new KeyCooldowns();
    cooldowns.rest('a');
    expect(cooldowns.order([{ id: 'a' }])).toEqual([{ id: 'a' }]);
  });

  it.each([
    [undefined, DEFAULT_KEY_REST_MS],
    ['5', 5_000],
    ['0', DEFAULT_KEY_REST_MS],
    ['soon', DEFAULT_KEY_REST_MS],
    ['86400', MAX_KEY_REST_MS],
    [new Date(60_000).toUTCString(), 60_000],
  ])('Retry-After %s → rest %i ms', (header, expected) => {
    expect(restMs(header, 0)).toBe(expected);
  });
});
