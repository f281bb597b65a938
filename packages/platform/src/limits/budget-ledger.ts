// Each instance spends from budget slices it leases from the database, so a call costs no
// database round trip while the local slice lasts. A lease is one conditional UPDATE that keeps
// spent + leased <= limit in the database; settled cost is written back in batches; an idle
// slice, and what an instance holds unused beyond one slice, is handed back. A lowered limit
// binds at once: the local slice was leased under the old amount, so it goes back and the next
// lease asks the database under the new one. Overshoot is bounded by what in-flight calls cost
// beyond their reservation.

import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { createBackgroundJobs, type BackgroundJob, type BackgroundJobs } from '../background-jobs.js';
import type { Database } from '../db/schema.js';
import './spending-limits.js';

/**
 * A slice is this share of the limit (or the call's need, if larger), so instances rarely go back to
 * the database. An instance keeps at most one slice unused: the rest goes back at the next write.
 */
const SLICE_DIVISOR = 20;
/** An unused slice goes back after this long without calls, so another instance can use it. */
export const LEASE_IDLE_MS = 5_000;
const LEASE_ATTEMPTS = 25;
/**
 * A safety stop for one reservation's loop (waits for other calls' leases plus its own leases).
 * Not reached in practice: waiters resume in the order they came, each lease either grants
 * (a slice, or the call's need) or ends the loop, and a limit holds about 20 slices.
 */
const MAX_ROUNDS = 100;

/** What one lease did: `granted` nano-USD, and `committed` = spent + leased in the database after it. */
interface LeaseResult {
  granted: number;
  committed: number;
}

interface LeaseState {
  limitId: string;
  periodStart: number;
  /** Leased to this instance and not reserved by a call. */
  free: number;
  /**
   * The limit (nano-USD) of the last lease granted: that conditional UPDATE proved the database's
   * spent + leased, this instance's `free` and reservations included, within it. A call under a
   * lower limit hands `free` back and leases anew.
   */
  leasedUnder: number;
  /** Cost settled locally, not yet added to `spent_nano_usd`. */
  pendingSpent: number;
  /** Part of pendingSpent that came out of this instance's lease (the rest overshot a reservation). */
  pendingLeaseUsed: number;
  inFlight: number;
  lastUsedAt: number;
  /** A lease under way (started by one call; others wait for it). */
  acquiring: Promise<LeaseResult> | undefined;
}

export interface LedgerSettings {
  flushIntervalMs?: number;
  /** Where the settlement job runs (the platform's); without one the ledger runs its own (tests). */
  jobs?: BackgroundJobs;
}

export class BudgetLedger {
  private readonly states = new Map<string, LeaseState>();
  private readonly job: BackgroundJob;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly log: Logger,
    private readonly onSettled: (limitId: string, periodStart: number) => void,
    settings: LedgerSettings = {},
  ) {
    this.job = (settings.jobs ?? createBackgroundJobs(log)).every('budget settlement', settings.flushIntervalMs ?? 1000, () => this.flush());
  }

  private state(limitId: string, periodStart: number): LeaseState {
    const key = `${limitId}@${periodStart}`;
    let state = this.states.get(key);
    if (!state) {
      state = { limitId, periodStart, free: 0, leasedUnder: 0, pendingSpent: 0, pendingLeaseUsed: 0, inFlight: 0, lastUsedAt: Date.now(), acquiring: undefined };
      this.states.set(key, state);
    }
    return state;
  }

  /**
   * Reserves between `min` and `want` nano-USD of a limit for one call: from the local slice, leasing
   * more when it is short. Returns what was reserved, or null when not even `min` is left anywhere.
   * `limitNano` is the limit's amount now: when it is lower than the one the local slice was leased
   * under, the slice goes back and the database decides under the new amount.
   */
  reserve(limitId: string, periodStart: number, limitNano: number, want: number, min: number): number | null | Promise<number | null> {
    const state = this.state(limitId, periodStart);
    state.lastUsedAt = Date.now();
    // The common case, answered without a promise: the local slice covers the call.
    if (state.free >= want && !state.acquiring && limitNano >= state.leasedUnder) return this.take(state, want);
    return this.reserveLeasing(state, limitNano, want, min);
  }

  private take(state: LeaseState, want: number): number {
    const taken = Math.min(want, state.free);
    state.free -= taken;
    state.inFlight += 1;
    return taken;
  }

  private async reserveLeasing(state: LeaseState, limitNano: number, want: number, min: number): Promise<number | null> {
    // The last lease this call saw finish (its own or another call's): what the database held then.
    let seen: LeaseResult | undefined;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      if (state.acquiring) {
        // Another call is leasing for this instance: wait for it and look again. That is not an
        // attempt of this call's, so a burst is not refused while the database still has budget.
        seen = await state.acquiring;
        continue;
      }
      const lowered = state.free > 0 && limitNano < state.leasedUnder;
      if (!lowered) {
        if (state.free >= want) break;
        // The lease just seen read the database: when it had no room for what this call still
        // needs, a lease of this call's own would be refused the same way (see lease()).
        if (seen && this.noRoom(limitNano - seen.committed, min - state.free)) break;
      }
      // The limit was lowered since the local slice was leased: hand it back (leased -= free, as an
      // idle slice goes back), so that the conditional UPDATE judges the new amount. (Reservations
      // in flight stay leased and count against it; what they leave unused later is within the
      // amount that UPDATE allowed, or, if it allowed nothing, is handed back by the next call.)
      const giveBack = lowered ? state.free : 0;
      state.free -= giveBack;
      const desired = Math.max(want - state.free, Math.ceil(limitNano / SLICE_DIVISOR));
      const leasing = this.lease(state, limitNano, desired, Math.max(0, min - state.free), giveBack);
      state.acquiring = leasing;
      try {
        seen = await leasing;
      } finally {
        // Cleared by the caller that leased, which resumes before those waiting: it takes first.
        state.acquiring = undefined;
      }
      // Refused only when this call's own lease got nothing.
      if (seen.granted === 0) break;
      // Granted less than asked: that was all the database had.
      if (state.free >= want || (seen.granted < desired && state.free >= min)) break;
    }
    // What is free under a higher limit than this call's (a call settled while the hand-back's lease
    // was refused) is not this call's to take; the next call hands it back.
    const usable = limitNano < state.leasedUnder ? 0 : state.free;
    if (usable < min) return null;
    return this.take(state, Math.min(want, usable));
  }

  /** Whether a lease needing at least `need` (and more than 0) fails when the database has `room` left. */
  private noRoom(room: number, need: number): boolean {
    return room <= 0 || room < need;
  }

  /** Gives back part of a reservation before the call (max_tokens was lowered to fit a tighter limit). */
  unreserve(limitId: string, periodStart: number, amount: number): void {
    this.state(limitId, periodStart).free += amount;
  }

  /** The call ended: its reservation becomes its actual cost; the rest returns to the slice. */
  settle(limitId: string, periodStart: number, reserved: number, actual: number): void {
    const state = this.state(limitId, periodStart);
    const fromLease = Math.min(actual, reserved);
    state.free += reserved - fromLease;
    state.pendingSpent += actual;
    state.pendingLeaseUsed += fromLease;
    state.inFlight = Math.max(0, state.inFlight - 1);
    state.lastUsedAt = Date.now();
  }

  /** Hands back `giveBack` (taken out of `free` by the caller), then leases between `min` and `desired` under `limitNano`. */
  private async lease(state: LeaseState, limitNano: number, desired: number, min: number, giveBack: number): Promise<LeaseResult> {
    const key = { limit_id: state.limitId, period_start: state.periodStart };
    if (giveBack > 0) {
      try {
        await this.db
          .updateTable('limit_periods')
          .set((eb) => ({ leased_nano_usd: eb('leased_nano_usd', '-', giveBack) }))
          .where('limit_id', '=', state.limitId)
          .where('period_start', '=', state.periodStart)
          .execute();
      } catch (error) {
        state.free += giveBack;
        throw error;
      }
    }
    await this.db
      .insertInto('limit_periods')
      .values({ ...key, spent_nano_usd: 0, leased_nano_usd: 0, alerted_at: null })
      .onConflict((oc) => oc.columns(['limit_id', 'period_start']).doNothing())
      .execute();
    let committed = 0;
    for (let attempt = 0; attempt < LEASE_ATTEMPTS; attempt++) {
      const row = await this.db
        .selectFrom('limit_periods')
        .select(['spent_nano_usd', 'leased_nano_usd'])
        .where('limit_id', '=', state.limitId)
        .where('period_start', '=', state.periodStart)
        .executeTakeFirstOrThrow();
      committed = Number(row.spent_nano_usd) + Number(row.leased_nano_usd);
      const available = limitNano - committed;
      const grant = Math.min(desired, available);
      if (grant <= 0 || grant < min) return { granted: 0, committed };
      // The condition is the invariant itself: whatever others leased meanwhile, this never oversubscribes.
      const result = await this.db
        .updateTable('limit_periods')
        .set((eb) => ({ leased_nano_usd: eb('leased_nano_usd', '+', grant) }))
        .where('limit_id', '=', state.limitId)
        .where('period_start', '=', state.periodStart)
        .where((eb) => eb(eb('spent_nano_usd', '+', eb('leased_nano_usd', '+', grant)), '<=', limitNano))
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 1) {
        state.leasedUnder = limitNano;
        state.free += grant;
        return { granted: grant, committed: committed + grant };
      }
    }
    return { granted: 0, committed };
  }

  /** Writes settled spend, hands back idle slices and what is held unused beyond one slice. */
  flush(now = Date.now()): Promise<void> {
    this.flushing ??= this.write(now).finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async write(now: number, returnAll = false): Promise<void> {
    for (const [key, state] of this.states) {
      const idle = state.inFlight === 0 && now - state.lastUsedAt >= LEASE_IDLE_MS && !state.acquiring;
      // A call that needed more than a slice leased its need; what it left unused beyond one slice
      // goes back, so an instance does not sit on the budget other instances need. (Not while a
      // lease is under way: its caller has yet to take what it leased.)
      const excess = state.acquiring ? 0 : Math.max(0, state.free - Math.ceil(state.leasedUnder / SLICE_DIVISOR));
      const giveBack = returnAll || idle ? state.free : excess;
      if (state.pendingSpent === 0 && giveBack === 0) {
        if (idle) this.states.delete(key);
        continue;
      }
      const spent = state.pendingSpent;
      const leaseDown = state.pendingLeaseUsed + giveBack;
      state.pendingSpent = 0;
      state.pendingLeaseUsed = 0;
      state.free -= giveBack;
      try {
        await this.db
          .updateTable('limit_periods')
          .set((eb) => ({ spent_nano_usd: eb('spent_nano_usd', '+', spent), leased_nano_usd: eb('leased_nano_usd', '-', leaseDown) }))
          .where('limit_id', '=', state.limitId)
          .where('period_start', '=', state.periodStart)
          .execute();
      } catch (error) {
        state.pendingSpent += spent;
        state.pendingLeaseUsed += leaseDown - giveBack;
        state.free += giveBack;
        throw error;
      }
      if (spent > 0) this.onSettled(state.limitId, state.periodStart);
      if (idle && state.free === 0 && state.pendingSpent === 0) this.states.delete(key);
    }
  }

  /** Shutdown: settle everything and return every slice. */
  async close(): Promise<void> {
    await this.job.stop();
    await this.flushing;
    try {
      await this.write(Date.now(), true);
    } catch (err) {
      this.log.error({ err }, 'budget settlement failed at shutdown; leased budget stays reserved until the period ends');
    }
  }
}
