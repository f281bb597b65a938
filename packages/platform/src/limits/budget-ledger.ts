// Each instance spends from budget slices it leases from the database, so a call costs no
// database round trip while the local slice lasts. A lease is one conditional UPDATE that keeps
// spent + leased <= limit in the database; settled cost is written back in batches; an idle
// slice is handed back. Overshoot is bounded by what in-flight calls cost beyond their reservation.

import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import './spending-limits.js';

/** A slice is this share of the limit (or the call's need, if larger), so instances rarely go back to the database. */
const SLICE_DIVISOR = 20;
/** An unused slice goes back after this long without calls, so another instance can use it. */
export const LEASE_IDLE_MS = 5_000;
const LEASE_ATTEMPTS = 25;

interface LeaseState {
  limitId: string;
  periodStart: number;
  /** Leased to this instance and not reserved by a call. */
  free: number;
  /** Cost settled locally, not yet added to `spent_nano_usd`. */
  pendingSpent: number;
  /** Part of pendingSpent that came out of this instance's lease (the rest overshot a reservation). */
  pendingLeaseUsed: number;
  inFlight: number;
  lastUsedAt: number;
  acquiring: Promise<void> | undefined;
}

export interface LedgerSettings {
  flushIntervalMs?: number;
}

export class BudgetLedger {
  private readonly states = new Map<string, LeaseState>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly log: Logger,
    private readonly onSettled: (limitId: string, periodStart: number) => void,
    settings: LedgerSettings = {},
  ) {
    this.timer = setInterval(() => void this.flush().catch((err) => log.warn({ err }, 'budget settlement failed; retrying')), settings.flushIntervalMs ?? 1000);
    this.timer.unref();
  }

  private state(limitId: string, periodStart: number): LeaseState {
    const key = `${limitId}@${periodStart}`;
    let state = this.states.get(key);
    if (!state) {
      state = { limitId, periodStart, free: 0, pendingSpent: 0, pendingLeaseUsed: 0, inFlight: 0, lastUsedAt: Date.now(), acquiring: undefined };
      this.states.set(key, state);
    }
    return state;
  }

  /**
   * Reserves between `min` and `want` nano-USD of a limit for one call: from the local slice, leasing
   * more when it is short. Returns what was reserved, or null when not even `min` is left anywhere.
   */
  reserve(limitId: string, periodStart: number, limitNano: number, want: number, min: number): number | null | Promise<number | null> {
    const state = this.state(limitId, periodStart);
    state.lastUsedAt = Date.now();
    // The common case, answered without a promise: the local slice covers the call.
    if (state.free >= want && !state.acquiring) return this.take(state, want);
    return this.reserveLeasing(state, limitNano, want, min);
  }

  private take(state: LeaseState, want: number): number {
    const taken = Math.min(want, state.free);
    state.free -= taken;
    state.inFlight += 1;
    return taken;
  }

  private async reserveLeasing(state: LeaseState, limitNano: number, want: number, min: number): Promise<number | null> {
    for (let round = 0; round < 3 && state.free < want; round++) {
      if (state.acquiring) {
        await state.acquiring;
        continue;
      }
      const before = state.free;
      state.acquiring = this.lease(state, limitNano, Math.max(want - state.free, Math.ceil(limitNano / SLICE_DIVISOR)), Math.max(0, min - state.free)).finally(() => {
        state.acquiring = undefined;
      });
      await state.acquiring;
      if (state.free === before) break;
    }
    if (state.free < min) return null;
    return this.take(state, want);
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

  private async lease(state: LeaseState, limitNano: number, desired: number, min: number): Promise<void> {
    const key = { limit_id: state.limitId, period_start: state.periodStart };
    await this.db
      .insertInto('limit_periods')
      .values({ ...key, spent_nano_usd: 0, leased_nano_usd: 0, alerted_at: null })
      .onConflict((oc) => oc.columns(['limit_id', 'period_start']).doNothing())
      .execute();
    for (let attempt = 0; attempt < LEASE_ATTEMPTS; attempt++) {
      const row = await this.db
        .selectFrom('limit_periods')
        .select(['spent_nano_usd', 'leased_nano_usd'])
        .where('limit_id', '=', state.limitId)
        .where('period_start', '=', state.periodStart)
        .executeTakeFirstOrThrow();
      const available = limitNano - Number(row.spent_nano_usd) - Number(row.leased_nano_usd);
      const grant = Math.min(desired, available);
      if (grant <= 0 || grant < min) return;
      // The condition is the invariant itself: whatever others leased meanwhile, this never oversubscribes.
      const result = await this.db
        .updateTable('limit_periods')
        .set((eb) => ({ leased_nano_usd: eb('leased_nano_usd', '+', grant) }))
        .where('limit_id', '=', state.limitId)
        .where('period_start', '=', state.periodStart)
        .where((eb) => eb(eb('spent_nano_usd', '+', eb('leased_nano_usd', '+', grant)), '<=', limitNano))
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 1) {
        state.free += grant;
        return;
      }
    }
  }

  /** Writes settled spend, hands back idle slices. */
  flush(now = Date.now()): Promise<void> {
    this.flushing ??= this.write(now).finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async write(now: number, returnAll = false): Promise<void> {
    for (const [key, state] of this.states) {
      const idle = state.inFlight === 0 && now - state.lastUsedAt >= LEASE_IDLE_MS && !state.acquiring;
      const giveBack = returnAll || idle ? state.free : 0;
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
    clearInterval(this.timer);
    await this.flushing;
    try {
      await this.write(Date.now(), true);
    } catch (err) {
      this.log.error({ err }, 'budget settlement failed at shutdown; leased budget stays reserved until the period ends');
    }
  }
}
