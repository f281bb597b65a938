// Anyone may register an app, so whatever lists or sweeps the registered apps walks them in order
// of registration through an index instead of reading (and sorting) every app there is: the
// console's app list, newest first, one page at a time; and the prune of unused self-registered
// apps (oauth/unused-apps.ts), oldest first, which asks per candidate whether any OAuth row
// (grant, token, code, authorization under way) still names it, and whether a spending limit
// names it: people's own caps are a row per person and app, so without an index each candidate
// of a flood was a scan of them all (20,000 caps: 27 s of a blocked event loop for 20,000
// abandoned apps on SQLite).

import type { Kysely } from 'kysely';
import type { KeywardMigration } from './index.js';

export const unusedAppIndexes: KeywardMigration = {
  name: '0036-unused-app-indexes',
  async up(db: Kysely<any>) {
    await db.schema.createIndex('oauth_clients_created').on('oauth_clients').columns(['created_at', 'client_id']).execute();
    await db.schema.createIndex('oauth_payloads_client').on('oauth_payloads').column('client_id').execute();
    await db.schema.createIndex('spending_limits_client').on('spending_limits').column('client_id').execute();
  },
};
