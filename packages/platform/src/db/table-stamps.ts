// A cheap summary of each table that instances cache, so that a change whose notice never arrived
// is still noticed within seconds. A notice is lost when the process that made a write dies, or
// loses the database, between the write and its change_log row (publish is not part of the
// write's transaction). The summary of a table is its row count and the sum of a column that every
// write to a row sets anew: it moves when a row is added, removed, or written.
//
// The sum is taken modulo 2^32 per row, so that it stays an exact integer on SQLite (whose sum is
// read as a JavaScript number) for tables of up to two million rows.

import { sql, type Kysely } from 'kysely';
import type { ChangeTopic } from './change-log.js';
import { GOVERNED_CLIENTS } from './migrations/0034-governed-client-index.js';

interface StampedTable {
  table: string;
  /** Set by every write that changes what a cache holds (null counts as 0). */
  stamp: string;
  /** The rows whose changes matter, when not all (a constant SQL condition). */
  where?: string;
}

/** Per topic, the tables its caches are read from. Topics reconciled otherwise are not here. */
export const STAMPED_TOPICS: Partial<Record<ChangeTopic, readonly StampedTable[]>> = {
  // Disabling sets disabled_at, enabling clears it; nothing else of a user is cached.
  user: [{ table: 'users', stamp: 'disabled_at' }],
  // Rows are added and removed, never updated (a role is not cached).
  membership: [
    { table: 'memberships', stamp: 'created_at' },
    { table: 'team_members', stamp: 'created_at' },
  ],
  provider_key: [{ table: 'provider_keys', stamp: 'updated_at' }],
  key_base_url_allow: [{ table: 'organization_settings', stamp: 'updated_at' }],
  llm_proxy: [{ table: 'llm_proxies', stamp: 'updated_at' }],
  // A self-registered app has nothing cached that changes but being disabled: the apps anyone can
  // register, at up to KEYWARD_REGISTRATION_RATE_LIMIT a minute, do not move the summary.
  // (Read through a partial index holding only those rows: migration 0034.)
  client: [{ table: 'oauth_clients', stamp: 'updated_at', where: GOVERNED_CLIENTS }],
};

/** Topic → its tables' summary; equal summaries mean nothing a cache holds was written. */
export type TopicStamps = Map<ChangeTopic, string>;

export async function readTopicStamps<DB>(db: Kysely<DB>): Promise<TopicStamps> {
  const tables = Object.values(STAMPED_TOPICS).flat();
  const parts = tables.map(
    ({ table, stamp, where }) =>
      sql`select ${sql.lit(table)} as t, count(*) as n, coalesce(sum(coalesce(${sql.ref(stamp)}, 0) % 4294967296), 0) as s from ${sql.table(table)}${where ? sql.raw(` where ${where}`) : sql``}`,
  );
  const { rows } = await sql<{ t: string; n: number | string; s: number | string }>`${sql.join(parts, sql` union all `)}`.execute(db);
  const byTable = new Map(rows.map((row) => [row.t, `${row.n}:${row.s}`]));
  const stamps: TopicStamps = new Map();
  for (const [topic, list] of Object.entries(STAMPED_TOPICS) as Array<[ChangeTopic, readonly StampedTable[]]>) {
    stamps.set(topic, list.map(({ table }) => byTable.get(table)).join('|'));
  }
  return stamps;
}

/** The topics whose summary differs (a topic missing from either side counts as changed). */
export function changedTopics(before: TopicStamps, after: TopicStamps): ChangeTopic[] {
  return [...after].filter(([topic, stamp]) => before.get(topic) !== stamp).map(([topic]) => topic);
}
