// Members' keys and the internal network: each key records the base-URL policy it was added
// under and why it was disabled (shown on its owner's keys page), and each organization may
// override KEYWARD_KEY_BASE_URL_ALLOW with its own list of hosts.

import { sql, type Kysely } from 'kysely';
import type { KeywardMigration } from './index.js';

export const keyBaseUrlPolicy: KeywardMigration = {
  name: '0007-key-base-url-policy',
  async up(db: Kysely<any>) {
    // Existing keys were all added by admins (the CLI): 'any'.
    await db.schema
      .alterTable('provider_keys')
      .addColumn('base_url_policy', 'text', (c) => c.notNull().defaultTo('any').check(sql`base_url_policy in ('any', 'member')`))
      .execute();
    await db.schema.alterTable('provider_keys').addColumn('disabled_reason', 'text').execute();
    await db.schema
      .createTable('organization_settings')
      .addColumn('organization_id', 'text', (c) => c.primaryKey().references('organizations.id').onDelete('cascade'))
      // JSON array of `host` / `host:port`; null: KEYWARD_KEY_BASE_URL_ALLOW applies.
      .addColumn('key_base_url_allow', 'text')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};
