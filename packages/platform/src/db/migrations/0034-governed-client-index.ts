// Anyone may register an app (open dynamic client registration), so oauth_clients can grow without
// bound. What every instance reads of it every few seconds — the disabled clients (revocation
// reconcile) and the summary of the confidential and disabled ones (the change feed's resync) —
// is a handful of rows: a partial index holding only those rows, and the columns both reads need,
// keeps them from scanning the table (125 ms of a blocked event loop every 5 s on SQLite with a
// million registered apps; 0.7 ms with the index).

import { sql, type Kysely } from 'kysely';
import type { KeywardMigration } from './index.js';

export const GOVERNED_CLIENTS = "kind = 'confidential' or disabled_at is not null";

/** The confidential clients and the disabled ones (table-stamps.ts; a disabled one is among them). */
export const governedClientIndex: KeywardMigration = {
  name: '0034-governed-client-index',
  async up(db: Kysely<any>) {
    await sql`create index oauth_clients_governed on oauth_clients (disabled_at, client_id, updated_at) where ${sql.raw(GOVERNED_CLIENTS)}`.execute(db);
  },
};
