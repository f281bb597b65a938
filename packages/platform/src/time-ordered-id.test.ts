import { describe, expect, it } from 'vitest';
import { timeOrderedId } from './time-ordered-id.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('time-ordered ids (UUIDv7)', () => {
  it('are version-7 UUIDs carrying the millisecond they were made in', () => {
    const now = Date.UTC(2026, 11, 6, 7, 40);
    const id = timeOrderedId(now + 5_000);
    expect(id).toMatch(V7);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(now + 5_000);
  });

  it('sort in the order they were made, within one millisecond too, and never repeat', () => {
    const ids = Array.from({ length: 20_000 }, () => timeOrderedId());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids.slice(0, 500)) expect(id).toMatch(V7);
  });

  it('spread their random part', () => {
    const tails = new Set(Array.from({ length: 1_000 }, () => timeOrderedId().slice(24)));
    expect(tails.size).toBe(1_000);
  });

  // Last: it moves the generator's clock a minute ahead for the rest of this file.
  it('keep their order when more than 4,096 are made in one millisecond, or the clock steps back', () => {
    const at = Date.now() + 60_000;
    const ids = [...Array.from({ length: 5_000 }, () => timeOrderedId(at)), timeOrderedId(at - 10_000), timeOrderedId(at - 1)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
