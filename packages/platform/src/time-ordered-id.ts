// UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit counter within the millisecond
// (the RFC's "fixed bit-length dedicated counter"), then 62 random bits. Ids made one after the
// other sort in the order they were made, so rows keyed by them append to the end of the
// primary-key index instead of landing on random pages. The random bits come from a pooled
// buffer: one getrandom() per 256 ids (the uuid package asks the kernel for every id, which was
// 2.7 % of the router's CPU).

import { randomFillSync } from 'node:crypto';

/** Random bytes an id takes from the pool: 2 to seed the counter, 8 for rand_b. */
const BYTES_PER_ID = 10;
const pool = Buffer.alloc(BYTES_PER_ID * 256);
let poolAt = pool.length;
let lastMs = -1;
let counter = 0;
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

export function timeOrderedId(now: number = Date.now()): string {
  if (poolAt === pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const at = poolAt;
  poolAt += BYTES_PER_ID;
  const r = pool;
  let ms = now;
  if (ms > lastMs) {
    // A random start in the lower half leaves room for 2,048 or more ids in this millisecond.
    counter = ((r[at]! << 8) | r[at + 1]!) & 0x7ff;
  } else {
    // Same millisecond (or the clock stepped back): count on; past 4,095, borrow the next millisecond.
    ms = lastMs;
    counter++;
    if (counter > 0xfff) {
      ms++;
      counter = 0;
    }
  }
  lastMs = ms;
  const time = ms.toString(16).padStart(12, '0');
  let tail = '';
  for (let i = at + 4; i < at + BYTES_PER_ID; i++) tail += HEX[r[i]!];
  return `${time.slice(0, 8)}-${time.slice(8)}-${HEX[0x70 | (counter >>> 8)]}${HEX[counter & 0xff]}-${HEX[0x80 | (r[at + 2]! & 0x3f)]}${HEX[r[at + 3]!]}-${tail}`;
}
