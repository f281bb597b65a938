// Who used what: usage records summed per user (or client), app and model over a period.

import { sql } from 'kysely';
import '../../oauth/tables.js';
import '../../usage/usage-record.js';
import { nanoToUsd } from '../../usage/call-cost.js';
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
    const rows = await ctx.db
      .selectFrom('usage_records as u')
      .leftJoin('users', 'users.id', 'u.user_id')
      .leftJoin('oauth_clients as c', 'c.client_id', 'u.client_id')
      .where('u.created_at', '>=', since)
      .select([
        'users.email as user',
        'u.client_id as clientId',
        'c.name as app',
        'u.provider as provider',
        'u.model as model',
        (eb) => eb.fn.countAll<number>().as('calls'),
        (eb) => eb.fn.sum<number>(sql`case when u.outcome = 'ok' then 0 else 1 end`).as('failed'),
        (eb) => eb.fn.coalesce(eb.fn.sum<number>('u.input_tokens'), sql<number>`0`).as('inputTokens'),
        (eb) => eb.fn.coalesce(eb.fn.sum<number>('u.output_tokens'), sql<number>`0`).as('outputTokens'),
        (eb) => eb.fn.sum<number | null>('u.cost_nano_usd').as('costNanoUsd'),
        (eb) => eb.fn.coalesce(eb.fn.sum<number>('u.unpriced'), sql<number>`0`).as('unpricedCalls'),
      ])
      .groupBy(['users.email', 'u.client_id', 'c.name', 'u.provider', 'u.model'])
      .orderBy('calls', 'desc')
      .limit(1000)
      .execute();
    return {
      since: new Date(since).toISOString(),
      rows: rows.map(({ costNanoUsd, ...r }) => {
        const unpricedCalls = Number(r.unpricedCalls);
        return {
          ...r,
          calls: Number(r.calls),
          failed: Number(r.failed),
          inputTokens: Number(r.inputTokens),
          outputTokens: Number(r.outputTokens),
          // Sums are integer nano-USD in the database; null only when nothing in the row has a known price.
          costUsd: costNanoUsd === null ? (unpricedCalls > 0 ? null : 0) : nanoToUsd(Number(costNanoUsd)),
          unpricedCalls,
        };
      }),
    };
  },
  text: (r) => {
    const rows = r.rows as Array<Record<string, unknown>>;
    if (!rows.length) return `no Model Router calls since ${String(r.since)}`;
    const lines = rows.map(
      (row) =>
        `${String(row.user ?? `client ${String(row.clientId)}`)}  ${String(row.app ?? row.clientId ?? '')}  ${String(row.provider ?? '-')}:${String(row.model ?? '-')}  ` +
        `${String(row.calls)} calls (${String(row.failed)} failed)  ${String(row.inputTokens)} in / ${String(row.outputTokens)} out  ` +
        (row.costUsd === null ? 'cost unknown' : `$${String(row.costUsd)}`) +
        (Number(row.unpricedCalls) > 0 && row.costUsd !== null ? ` + ${String(row.unpricedCalls)} unpriced calls` : ''),
    );
    return [`Model Router usage since ${String(r.since)}:`, ...lines].join('\n');
  },
};
