// Who used what: usage records summed per user (or client), app and model over a period (the
// query is the usage service's, as the console's).

import { operatorActor } from '../../accounts/actors.js';
import { summarizeUsage } from '../../usage/usage-queries.js';
import { type AdminCommand, str, UsageError } from '../command.js';

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `24h`, `7d`, `30m`, or an ISO date. */
export function parseSince(value: string, now = Date.now()): number {
  const relative = /^(\d{1,5})([mhd])$/.exec(value);
  if (relative) return now - Number(relative[1]) * UNITS[relative[2]!]!;
  const absolute = Date.parse(value);
  if (Number.isNaN(absolute)) throw new UsageError(`--since takes a duration (30m, 24h, 7d) or a date, got "${value}"`);
  return absolute;
}

export const usageSummary: AdminCommand = {
  name: 'usage summary',
  usage: 'keyward usage summary [--since 24h|7d|2026-11-01]',
  options: { since: { type: 'string' } },
  async run(ctx, flags) {
    const since = parseSince(str(flags, 'since') ?? '24h');
    const rows = await summarizeUsage(ctx.db, await operatorActor(ctx.db), { from: since, to: Date.now() + 1 });
    return { since: new Date(since).toISOString(), rows };
  },
  text: (r) => {
    const rows = r.rows as Array<Record<string, unknown>>;
    if (!rows.length) return `no Model Router calls since ${String(r.since)}`;
    const lines = rows.map(
      (row) =>
        `${String(row.user ?? `client ${String(row.clientId)}`)}  ${String(row.app ?? row.clientId ?? '')}  ${String(row.provider ?? '-')}:${String(row.model ?? '-')}  ` +
        `${String(row.calls)} calls (${String(row.failed)} failed)  ${String(row.inputTokens)} in / ${String(row.outputTokens)} out`,
    );
    return [`Model Router usage since ${String(r.since)}:`, ...lines].join('\n');
  },
};
