// Budget periods on the UTC calendar: a day from midnight, a week from Monday, a month from the
// 1st; `total` never resets. Rate windows are UTC minutes.

export const LIMIT_PERIODS = ['day', 'week', 'month', 'total'] as const;
export type LimitPeriod = (typeof LIMIT_PERIODS)[number];

const DAY_MS = 86_400_000;
export const MINUTE_MS = 60_000;

export function periodStart(period: LimitPeriod, now = Date.now()): number {
  const d = new Date(now);
  const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  switch (period) {
    case 'day':
      return midnight;
    case 'week':
      return midnight - ((d.getUTCDay() + 6) % 7) * DAY_MS;
    case 'month':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    case 'total':
      return 0;
  }
}

/** When the period that contains `now` ends; null for `total`. */
export function periodEnd(period: LimitPeriod, now = Date.now()): number | null {
  const start = periodStart(period, now);
  const d = new Date(start);
  switch (period) {
    case 'day':
      return start + DAY_MS;
    case 'week':
      return start + 7 * DAY_MS;
    case 'month':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    case 'total':
      return null;
  }
}

export const minuteStart = (now = Date.now()) => now - (now % MINUTE_MS);
