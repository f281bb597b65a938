// A person's own cap on an app (chosen at consent or in Connected apps) is its own `app` limit row,
// apart from any `app` limit an administrator set on the same person and app: both apply and the
// tighter wins, so the person can never loosen or delete the administrator's limit.

import type { Kysely } from 'kysely';
import type { KeywardMigration } from './index.js';

export const userChosenCaps: KeywardMigration = {
  name: '0033-user-chosen-caps',
  async up(db: Kysely<any>) {
    // null: set by an administrator (console, CLI); 'user': the person's own cap.
    await db.schema.alterTable('spending_limits').addColumn('chosen_by', 'text').execute();
  },
};
