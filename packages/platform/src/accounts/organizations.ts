// Until organizations are managed, one organization holds everyone: the first one created.

import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, MembershipRole } from '../db/schema.js';
import { KeywardError } from '../errors.js';

export async function findPrimaryOrganization(db: Kysely<Database>) {
  return db.selectFrom('organizations').selectAll().orderBy('created_at').orderBy('id').limit(1).executeTakeFirst();
}

export async function ensurePrimaryOrganization(db: Kysely<Database>, name = 'My Organization') {
  const existing = await findPrimaryOrganization(db);
  if (existing) return existing;
  const org = { id: randomUUID(), name, created_at: Date.now() };
  await db.insertInto('organizations').values(org).execute();
  return (await findPrimaryOrganization(db))!;
}

export async function requirePrimaryOrganization(db: Kysely<Database>) {
  const org = await findPrimaryOrganization(db);
  if (!org) throw new KeywardError('no_organization', 'no organization exists yet: start the server once, or create a user first');
  return org;
}

export async function addMembership(db: Kysely<Database>, organizationId: string, userId: string, role: MembershipRole) {
  await db
    .insertInto('memberships')
    .values({ organization_id: organizationId, user_id: userId, role, created_at: Date.now() })
    .onConflict((oc) => oc.columns(['organization_id', 'user_id']).doUpdateSet({ role }))
    .execute();
}

export function findMembership(db: Kysely<Database>, organizationId: string, userId: string) {
  return db
    .selectFrom('memberships')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
}
