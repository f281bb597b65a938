// Usage records and the people and apps they name, written straight into a test platform's
// database: the console and the usage service read them as if the router had metered them.

import { randomUUID } from 'node:crypto';
import { userActor } from '../../../src/accounts/actors.js';
import { addMembership, findPrimaryOrganization } from '../../../src/accounts/organizations.js';
import { createUser, findUserByEmail } from '../../../src/accounts/users.js';
import type { Actor } from '../../../src/access/actor.js';
import type { MembershipRole } from '../../../src/db/schema.js';
import { toUsageRow, type UsageRecord } from '../../../src/usage/usage-record.js';
import type { TestPlatform } from '../../support/test-platform.js';
import { usageRecord } from './usage-record.js';

export const MEMBER_PASSWORD = 'a long enough member password';

export async function addPerson(tp: TestPlatform, email: string, role: MembershipRole = 'member') {
  const db = tp.platform.ctx.db;
  const org = await findPrimaryOrganization(db);
  const user = await createUser(db, { email, password: MEMBER_PASSWORD });
  await addMembership(db, org!.id, user.id, role);
  return { id: user.id, email, password: MEMBER_PASSWORD };
}

export async function actorFor(tp: TestPlatform, email: string): Promise<Actor> {
  const user = await findUserByEmail(tp.platform.ctx.db, email);
  const actor = await userActor(tp.platform.ctx.db, { id: user!.id, email: user!.email }, '127.0.0.1');
  if (!actor) throw new Error(`${email} is not a member`);
  return actor;
}

export async function addApp(tp: TestPlatform, name: string): Promise<string> {
  const clientId = `app-${randomUUID()}`;
  const now = Date.now();
  await tp.platform.ctx.db
    .insertInto('oauth_clients')
    .values({
      client_id: clientId,
      kind: 'public',
      name,
      metadata_json: '{}',
      secret_hash: null,
      organization_id: null,
      proxy_ids_json: null,
      key_ids_json: null,
      created_at: now,
      updated_at: now,
      disabled_at: null,
    })
    .execute();
  return clientId;
}

export async function addUsage(tp: TestPlatform, record: Partial<UsageRecord> & { userId: string | null }): Promise<UsageRecord> {
  const org = await findPrimaryOrganization(tp.platform.ctx.db);
  const full = usageRecord({ organizationId: org!.id, proxyId: tp.defaultProxyId, ...record });
  await tp.platform.ctx.db.insertInto('usage_records').values(toUsageRow(full)).execute();
  return full;
}
