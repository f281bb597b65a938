// The audit log: who did what to which thing, from where. Written by the domain services.

import type { Kysely } from 'kysely';
import type { KeywardMigration } from './index.js';

export const auditLog: KeywardMigration = {
  name: '0010-audit-log',
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('audit_log')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('organization_id', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('actor_user_id', 'text')
      .addColumn('actor_label', 'text', (c) => c.notNull())
      .addColumn('source_ip', 'text')
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('target_kind', 'text', (c) => c.notNull())
      .addColumn('target_id', 'text')
      .addColumn('target_label', 'text')
      .addColumn('detail', 'text')
      .execute();
    await db.schema.createIndex('audit_log_org_created').on('audit_log').columns(['organization_id', 'created_at']).execute();
  },
};
