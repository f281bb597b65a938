// Failed sign-ins are counted in the database (so the limits hold across instances) under three
// keys: the account from one IP, which locks quickly; the IP alone, which locks after many (it may
// be a shared NAT); and the account from anywhere, which only slows down, so that nobody can lock
// a chosen user out while a distributed guesser still gets about one try a minute.

import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export interface ThrottlePolicy {
  /** A key's count starts over after this long without a failure. */
  windowMs: number;
  /** The count from which the key refuses: refuseAfter(n) > 0 exactly when n >= refusesFrom. */
  refusesFrom: number;
  /** How long a key refuses attempts after its n-th failure (0: not at all). */
  refuseAfter(failures: number): number;
}

const MINUTE = 60_000;

/** One account from one IP: five tries, then fifteen minutes' pause for that IP only. */
export const ACCOUNT_FROM_IP_POLICY: ThrottlePolicy = { windowMs: 15 * MINUTE, refusesFrom: 5, refuseAfter: (n) => (n >= 5 ? 15 * MINUTE : 0) };
/** One IP, any account: fifty tries (a NAT may hide many people), then fifteen minutes. */
export const IP_POLICY: ThrottlePolicy = { windowMs: 15 * MINUTE, refusesFrom: 50, refuseAfter: (n) => (n >= 50 ? 15 * MINUTE : 0) };
/** One account, any IP: past twenty failures each one costs a pause doubling from 1 s up to a minute. */
export const ACCOUNT_POLICY: ThrottlePolicy = {
  windowMs: 60 * MINUTE,
  refusesFrom: 20,
  refuseAfter: (n) => (n >= 20 ? Math.min(1000 * 2 ** (n - 20), MINUTE) : 0),
};

export const accountKey = (emailNormalized: string) => `account:${emailNormalized}`;
export const ipKey = (ip: string) => `ip:${ip}`;
export const accountFromIpKey = (emailNormalized: string, ip: string) => `account-ip:${ip}|${emailNormalized}`;

/**
 * The throttles one password attempt is counted under, wherever a password is checked (the
 * sign-in page, the change-password form): one rule for both. An attempt is counted as a failure
 * before its password is checked (`reserve`), so a burst of concurrent guesses gets no more checks
 * than the same guesses one after another; a right password takes its count back (`succeeded`).
 */
export function passwordAttempt(db: Kysely<Database>, emailNormalized: string, ip: string) {
  const throttles = [
    { key: accountFromIpKey(emailNormalized, ip), policy: ACCOUNT_FROM_IP_POLICY },
    { key: ipKey(ip), policy: IP_POLICY },
    { key: accountKey(emailNormalized), policy: ACCOUNT_POLICY },
  ];
  let reserved: Array<{ key: string; policy: ThrottlePolicy; failures: number }> = [];
  const giveBack = async () => {
    await Promise.all(reserved.map(({ key, policy }) => releaseAttempt(db, key, policy)));
    reserved = [];
  };
  return {
    /** Milliseconds until this account may try again from this IP, or 0. */
    waitMs: async () => Math.max(...(await Promise.all(throttles.map(({ key }) => lockedFor(db, key))))),
    /**
     * Counts the attempt under every throttle, each only if it is not refusing: true when all
     * took it, and the password may be checked; false (and nothing counted) when one refuses.
     */
    reserve: async (): Promise<boolean> => {
      const now = Date.now();
      const counts = await Promise.all(throttles.map(({ key, policy }) => reserveAttempt(db, key, policy, now)));
      reserved = throttles.flatMap((throttle, i) => (counts[i] === undefined ? [] : [{ ...throttle, failures: counts[i]! }]));
      if (reserved.length === throttles.length) return true;
      await giveBack();
      return false;
    },
    /** The password was wrong: the refusal its count calls for (the reservation held the shortest one). */
    failed: async () => {
      const now = Date.now();
      await Promise.all(reserved.map(({ key, policy, failures }) => (policy.refuseAfter(failures) > 0 ? extendRefusal(db, key, now + policy.refuseAfter(failures)) : undefined)));
      reserved = [];
    },
    /** The password was not checked after all (an error on the way): the attempt is taken back. */
    release: giveBack,
    // This IP's count for the account starts over; the IP's and the account-wide ones only give
    // back this attempt (the account-wide one must decay, not be reset by the victim).
    succeeded: async () => {
      reserved = reserved.filter(({ key }) => key !== throttles[0]!.key);
      await giveBack();
      await clearFailures(db, throttles[0]!.key);
    },
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
 * Counts one attempt as a failure in a single statement, unless the key is refusing now: the new
 * count, or undefined when refused (nothing counted). Concurrent attempts each count, on
 * PostgreSQL too, and the one whose count reaches `policy.refusesFrom` sets the shortest refusal
 * in the same statement, so those after it are refused while its password is checked.
 */
export async function reserveAttempt(db: Kysely<Database>, key: string, policy: ThrottlePolicy, now = Date.now()): Promise<number | undefined> {
  const count = sql<number>`case when login_throttle.window_started_at < ${now - policy.windowMs} then 1 else login_throttle.failures + 1 end`;
  const refusal = now + policy.refuseAfter(policy.refusesFrom);
  const row = await db
    .insertInto('login_throttle')
    .values({ key, failures: 1, window_started_at: now, locked_until: policy.refusesFrom <= 1 ? refusal : null })
    .onConflict((oc) =>
      oc
        .column('key')
        .doUpdateSet({
          failures: count,
          window_started_at: now,
          locked_until: sql<number | null>`case when ${count} >= ${policy.refusesFrom} then ${refusal} else login_throttle.locked_until end`,
        })
        .where((eb) => eb.or([eb('login_throttle.locked_until', 'is', null), eb('login_throttle.locked_until', '<=', now)])),
    )
    .returning('failures')
    .executeTakeFirst();
  return row === undefined ? undefined : Number(row.failures);
}

/** Takes back one reserved attempt, and the refusal it set if the count left does not call for one. */
async function releaseAttempt(db: Kysely<Database>, key: string, policy: ThrottlePolicy): Promise<void> {
  await db
    .updateTable('login_throttle')
    .set({
      failures: sql<number>`case when failures > 0 then failures - 1 else 0 end`,
      locked_until: sql<number | null>`case when failures - 1 >= ${policy.refusesFrom} then locked_until else null end`,
    })
    .where('key', '=', key)
    .execute();
}

/** Refuses the key until `until`; a refusal is never shortened. */
async function extendRefusal(db: Kysely<Database>, key: string, until: number): Promise<void> {
  await db
    .updateTable('login_throttle')
    .set({ locked_until: until })
    .where('key', '=', key)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', until)]))
    .execute();
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
