// One-time links an administrator hands to a person: an invitation (choose your first password)
// or a password reset. Only the SHA-256 of the link's token is stored.

import type { Kysely } from 'kysely';
import type { KeywardMigration } from './index.js';

export const passwordLinks: KeywardMigration = {
  name: '0012-password-links',
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('password_links')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('purpose', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .execute();
    await db.schema.createIndex('password_links_user').on('password_links').column('user_id').execute();
  },
};
