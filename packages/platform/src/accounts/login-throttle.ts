// Failed sign-ins are counted per account and per client IP in the database, so the limit holds
// across instances. An account locks after a handful of failures; an IP after many (it may be a
// shared NAT).

import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export interface ThrottlePolicy {
  maxFailures: number;
  windowMs: number;
  lockMs: number;
}

export const ACCOUNT_POLICY: ThrottlePolicy = { maxFailures: 5, windowMs: 15 * 60_000, lockMs: 15 * 60_000 };
export const IP_POLICY: ThrottlePolicy = { maxFailures: 50, windowMs: 15 * 60_000, lockMs: 15 * 60_000 };

export const accountKey = (emailNormalized: string) => `account:${emailNormalized}`;
export const ipKey = (ip: string) => `ip:${ip}`;

/** Milliseconds until the key may try again, or 0. */
export async function lockedFor(db: Kysely<Database>, key: string, now = Date.now()): Promise<number> {
  const row = await db.selectFrom('login_throttle').select('locked_until').where('key', '=', key).executeTakeFirst();
  return row?.locked_until && row.locked_until > now ? row.locked_until - now : 0;
}

export async function recordFailure(db: Kysely<Database>, key: string, policy: ThrottlePolicy, now = Date.now()): Promise<void> {
  const row = await db.selectFrom('login_throttle').selectAll().where('key', '=', key).executeTakeFirst();
  const fresh = !row || now - row.window_started_at > policy.windowMs;
  const failures = fresh ? 1 : row.failures + 1;
  const next = {
    failures,
    window_started_at: fresh ? now : row.window_started_at,
    locked_until: failures >= policy.maxFailures ? now + policy.lockMs : null,
  };
  await db
    .insertInto('login_throttle')
    .values({ key, ...next })
    .onConflict((oc) => oc.column('key').doUpdateSet(next))
    .execute();
}

export async function clearFailures(db: Kysely<Database>, key: string): Promise<void> {
  await db.deleteFrom('login_throttle').where('key', '=', key).execute();
}

/** Rows whose window has passed and that lock nothing: they count for nobody any more. */
export async function deleteStaleThrottleRows(db: Kysely<Database>, now = Date.now()): Promise<void> {
  const horizon = now - Math.max(ACCOUNT_POLICY.windowMs, IP_POLICY.windowMs);
  await db
    .deleteFrom('login_throttle')
    .where('window_started_at', '<', horizon)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
    .execute();
}
