// Web searches a provider ran for a call (Anthropic's server-side web_search tool), billed per
// search on top of tokens: counted on the usage record so that its cost can be checked against it.

import type { Kysely } from 'kysely';
import type { KeywardMigration } from './index.js';

export const webSearchRequests: KeywardMigration = {
  name: '0035-web-search-requests',
  async up(db: Kysely<any>) {
    // Null like the token counts: no usage was reported.
    await db.schema.alterTable('usage_records').addColumn('web_search_requests', 'integer').execute();
  },
};
