// Money: each usage record's cost (integer nano-USD) and its cache-write tokens, admin price
// overrides, spending and rate limits with their per-period spend, and the org's rule for unpriced calls.

import { sql, type Kysely } from 'kysely';
import type { KeywardMigration } from './index.js';

export const money: KeywardMigration = {
  name: '0030-money',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('usage_records').addColumn('cache_write_tokens', 'integer').execute();
    // null when nothing was used or no price is known; `unpriced` = 1 says which.
    await db.schema.alterTable('usage_records').addColumn('cost_nano_usd', 'bigint').execute();
    await db.schema.alterTable('usage_records').addColumn('unpriced', 'integer', (c) => c.notNull().defaultTo(0)).execute();

    // Rates are integer micro-USD per million tokens (= pico-USD per token): exact for catalogue prices.
    await db.schema
      .createTable('model_prices')
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('input_micro_usd_per_mtok', 'bigint', (c) => c.notNull())
      .addColumn('output_micro_usd_per_mtok', 'bigint', (c) => c.notNull())
      .addColumn('cached_input_micro_usd_per_mtok', 'bigint')
      .addColumn('cache_write_micro_usd_per_mtok', 'bigint')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('model_prices_pk', ['provider', 'model'])
      .execute();

    // 'refuse' or 'allow': may a call with no known price run while a spending limit applies?
    await db.schema.alterTable('organizations').addColumn('unpriced_calls_under_limit', 'text', (c) => c.notNull().defaultTo('refuse')).execute();

    await db.schema
      .createTable('spending_limits')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('organization_id', 'text', (c) => c.notNull())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('team_id', 'text')
      .addColumn('user_id', 'text')
      .addColumn('client_id', 'text')
      .addColumn('proxy_id', 'text')
      .addColumn('nano_usd', 'bigint')
      .addColumn('period', 'text')
      .addColumn('requests_per_minute', 'integer')
      .addColumn('tokens_per_minute', 'integer')
      .addColumn('alert_percent', 'integer')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('spending_limits_org').on('spending_limits').column('organization_id').execute();

    // One row per limit and period: what was settled, and what instances hold as leases right now.
    await db.schema
      .createTable('limit_periods')
      .addColumn('limit_id', 'text', (c) => c.notNull())
      .addColumn('period_start', 'bigint', (c) => c.notNull())
      .addColumn('spent_nano_usd', 'bigint', (c) => c.notNull().defaultTo(sql`0`))
      .addColumn('leased_nano_usd', 'bigint', (c) => c.notNull().defaultTo(sql`0`))
      .addColumn('alerted_at', 'bigint')
      .addPrimaryKeyConstraint('limit_periods_pk', ['limit_id', 'period_start'])
      .execute();

    // Requests and tokens per limit and UTC minute, summed from every instance's periodic sync.
    await db.schema
      .createTable('rate_windows')
      .addColumn('limit_id', 'text', (c) => c.notNull())
      .addColumn('window_start', 'bigint', (c) => c.notNull())
      .addColumn('requests', 'bigint', (c) => c.notNull().defaultTo(sql`0`))
      .addColumn('tokens', 'bigint', (c) => c.notNull().defaultTo(sql`0`))
      .addPrimaryKeyConstraint('rate_windows_pk', ['limit_id', 'window_start'])
      .execute();
  },
};
