// Usage records of the Model Router: one row per call, written in batches off the hot path.

import type { Kysely } from 'kysely';
import type { KeywardMigration } from './index.js';

export const usage: KeywardMigration = {
  name: '0003-usage',
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('usage_records')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('request_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('principal_kind', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text')
      .addColumn('client_id', 'text')
      .addColumn('organization_id', 'text')
      .addColumn('proxy_id', 'text')
      .addColumn('endpoint', 'text', (c) => c.notNull())
      .addColumn('inbound_format', 'text', (c) => c.notNull())
      .addColumn('provider', 'text')
      .addColumn('model', 'text')
      .addColumn('key_id', 'text')
      .addColumn('stream', 'integer', (c) => c.notNull())
      .addColumn('input_tokens', 'integer')
      .addColumn('output_tokens', 'integer')
      .addColumn('cached_tokens', 'integer')
      .addColumn('reasoning_tokens', 'integer')
      .addColumn('latency_ms', 'integer', (c) => c.notNull())
      .addColumn('time_to_first_token_ms', 'integer')
      .addColumn('status', 'integer', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('error_message', 'text')
      .execute();
    await db.schema.createIndex('usage_records_created').on('usage_records').column('created_at').execute();
    await db.schema.createIndex('usage_records_user').on('usage_records').columns(['user_id', 'created_at']).execute();
    await db.schema.createIndex('usage_records_client').on('usage_records').columns(['client_id', 'created_at']).execute();
  },
};
