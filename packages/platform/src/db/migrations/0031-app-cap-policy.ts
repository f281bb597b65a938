// Per-app spending caps chosen at consent: each organization's default cap and maximum cap for
// self-registered apps (null: no default / no maximum). The caps themselves are `app` spending limits.

import type { Kysely } from 'kysely';
import type { KeywardMigration } from './index.js';

export const appCapPolicy: KeywardMigration = {
  name: '0031-app-cap-policy',
  async up(db: Kysely<any>) {
    // Amounts in nano-USD like spending_limits.nano_usd; periods 'day' or 'month'.
    await db.schema.alterTable('organization_settings').addColumn('app_cap_default_nano_usd', 'bigint').execute();
    await db.schema.alterTable('organization_settings').addColumn('app_cap_default_period', 'text').execute();
    await db.schema.alterTable('organization_settings').addColumn('app_cap_max_nano_usd', 'bigint').execute();
    await db.schema.alterTable('organization_settings').addColumn('app_cap_max_period', 'text').execute();
  },
};
