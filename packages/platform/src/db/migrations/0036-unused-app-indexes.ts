// What the prune of unused self-registered apps reads (oauth/unused-apps.ts): the public apps that
// are not blocked, oldest first, without scanning every app anyone registered; and, per candidate,
// whether any OAuth row (grant, token, code, authorization under way) still names it.

import { sql, type Kysely } from 'kysely';
import type { KeywardMigration } from './index.js';

export const PRUNABLE_CLIENTS = "kind = 'public' and disabled_at is null";

export const unusedAppIndexes: KeywardMigration = {
  name: '0036-unused-app-indexes',
  async up(db: Kysely<any>) {
    await sql`create index oauth_clients_prunable on oauth_clients (created_at) where ${sql.raw(PRUNABLE_CLIENTS)}`.execute(db);
    await db.schema.createIndex('oauth_payloads_client').on('oauth_payloads').column('client_id').execute();
  },
};
