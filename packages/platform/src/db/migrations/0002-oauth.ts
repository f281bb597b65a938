// The authorization server's storage: oidc-provider's models (one table keyed by model and id),
// OAuth clients (dynamically registered public ones and admin-created confidential ones), and the
// grants revoked while their tokens may still be alive (the router's revocation list).

import type { Kysely } from 'kysely';
import type { KeywardMigration } from './index.js';

export const oauth: KeywardMigration = {
  name: '0002-oauth',
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('oauth_payloads')
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('grant_id', 'text')
      .addColumn('uid', 'text')
      .addColumn('user_code', 'text')
      .addColumn('account_id', 'text')
      .addColumn('client_id', 'text')
      .addColumn('expires_at', 'bigint')
      .addColumn('consumed_at', 'bigint')
      .addColumn('last_used_at', 'bigint')
      .addPrimaryKeyConstraint('oauth_payloads_pk', ['model', 'id'])
      .execute();
    await db.schema.createIndex('oauth_payloads_grant').on('oauth_payloads').columns(['grant_id']).execute();
    await db.schema.createIndex('oauth_payloads_uid').on('oauth_payloads').columns(['uid']).execute();
    await db.schema.createIndex('oauth_payloads_user_code').on('oauth_payloads').columns(['user_code']).execute();
    await db.schema.createIndex('oauth_payloads_account').on('oauth_payloads').columns(['account_id', 'model']).execute();
    await db.schema.createIndex('oauth_payloads_expires').on('oauth_payloads').columns(['expires_at']).execute();

    await db.schema
      .createTable('oauth_clients')
      .addColumn('client_id', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('name', 'text')
      .addColumn('metadata_json', 'text', (c) => c.notNull())
      .addColumn('secret_hash', 'text')
      .addColumn('organization_id', 'text', (c) => c.references('organizations.id').onDelete('cascade'))
      .addColumn('proxy_ids_json', 'text')
      .addColumn('key_ids_json', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('disabled_at', 'bigint')
      .execute();

    await db.schema
      .createTable('oauth_revoked_grants')
      .addColumn('grant_id', 'text', (c) => c.primaryKey())
      .addColumn('revoked_at', 'bigint', (c) => c.notNull())
      .addColumn('keep_until', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('oauth_revoked_grants_keep').on('oauth_revoked_grants').columns(['keep_until']).execute();
  },
};
