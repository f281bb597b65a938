// Failed sign-ins are counted in the database (so the limits hold across instances) under three
// keys: the account from one IP, which locks quickly; the IP alone, which locks after many (it may
// be a shared NAT); and the account from anywhere, which only slows down, so that nobody can lock
// a chosen user out while a distributed guesser still gets about one try a minute.

import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export interface ThrottlePolicy {
  /** A key's count starts over after this long without a failure. */
  windowMs: number;
  /** How long a key refuses attempts after its n-th failure (0: not at all). */
  refuseAfter(failures: number): number;
}

const MINUTE = 60_000;

/** One account from one IP: five tries, then fifteen minutes' pause for that IP only. */
export const ACCOUNT_FROM_IP_POLICY: ThrottlePolicy = { windowMs: 15 * MINUTE, refuseAfter: (n) => (n >= 5 ? 15 * MINUTE : 0) };
/** One IP, any account: fifty tries (a NAT may hide many people), then fifteen minutes. */
export const IP_POLICY: ThrottlePolicy = { windowMs: 15 * MINUTE, refuseAfter: (n) => (n >= 50 ? 15 * MINUTE : 0) };
/** One account, any IP: past twenty failures each one costs a pause doubling from 1 s up to a minute. */
export const ACCOUNT_POLICY: ThrottlePolicy = {
  windowMs: 60 * MINUTE,
  refuseAfter: (n) => (n >= 20 ? Math.min(1000 * 2 ** (n - 20), MINUTE) : 0),
};

export const accountKey = (emailNormalized: string) => `account:${emailNormalized}`;
export const ipKey = (ip: string) => `ip:${ip}`;
export const accountFromIpKey = (emailNormalized: string, ip: string) => `account-ip:${ip}|${emailNormalized}`;

/**
 * The throttles one password attempt is counted under, wherever a password is checked (the
 * sign-in page, the change-password form): one rule for both.
 */
export function passwordAttempt(db: Kysely<Database>, emailNormalized: string, ip: string) {
  const throttles = [
    { key: accountFromIpKey(emailNormalized, ip), policy: ACCOUNT_FROM_IP_POLICY },
    { key: ipKey(ip), policy: IP_POLICY },
    { key: accountKey(emailNormalized), policy: ACCOUNT_POLICY },
  ];
  return {
    /** Milliseconds until this account may try again from this IP, or 0. */
    waitMs: async () => Math.max(...(await Promise.all(throttles.map(({ key }) => lockedFor(db, key))))),
    failed: async () => {
      await Promise.all(throttles.map(({ key, policy }) => recordFailure(db, key, policy)));
    },
    // Only this IP's count for the account: the account-wide one must decay, not be reset by the victim.
    succeeded: () => clearFailures(db, throttles[0]!.key),
  };
}

/** A wait in words, for the pages that refuse an attempt. */
export function waitText(ms: number): string {
  if (ms < 60_000) {
    const s = Math.ceil(ms / 1000);
    return s === 1 ? '1 second' : `${s} seconds`;
  }
  const m = Math.ceil(ms / 60_000);
  return m === 1 ? '1 minute' : `${m} minutes`;
}

/** Milliseconds until the key may try again, or 0. */
export async function lockedFor(db: Kysely<Database>, key: string, now = Date.now()): Promise<number> {
  const row = await db.selectFrom('login_throttle').select('locked_until').where('key', '=', key).executeTakeFirst();
  const until = row?.locked_until == null ? 0 : Number(row.locked_until);
  return until > now ? until - now : 0;
}

/**
 * Counts one failure in a single statement (concurrent failures each count, on PostgreSQL too),
 * then extends the refusal if the new count calls for one; a refusal is never shortened.
 */
export async function recordFailure(db: Kysely<Database>, key: string, policy: ThrottlePolicy, now = Date.now()): Promise<number> {
  const { failures } = await db
    .insertInto('login_throttle')
    .values({ key, failures: 1, window_started_at: now, locked_until: null })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        failures: sql<number>`case when login_throttle.window_started_at < ${now - policy.windowMs} then 1 else login_throttle.failures + 1 end`,
        window_started_at: now,
      }),
    )
    .returning('failures')
    .executeTakeFirstOrThrow();
  const refuseMs = policy.refuseAfter(Number(failures));
  if (refuseMs > 0) {
    const until = now + refuseMs;
    await db
      .updateTable('login_throttle')
      .set({ locked_until: until })
      .where('key', '=', key)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', until)]))
      .execute();
  }
  return Number(failures);
}

export async function clearFailures(db: Kysely<Database>, key: string): Promise<void> {
  await db.deleteFrom('login_throttle').where('key', '=', key).execute();
}

/** Rows unused for longer than any window and that lock nothing: they count for nobody any more. */
export async function deleteStaleThrottleRows(db: Kysely<Database>, now = Date.now()): Promise<void> {
  const horizon = now - Math.max(ACCOUNT_POLICY.windowMs, ACCOUNT_FROM_IP_POLICY.windowMs, IP_POLICY.windowMs);
  await db
    .deleteFrom('login_throttle')
    .where('window_started_at', '<', horizon)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
    .execute();
}
