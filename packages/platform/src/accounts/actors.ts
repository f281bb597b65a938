// Actors from the accounts' side: the admin CLI, or a signed-in person with their membership role.

import type { Kysely } from 'kysely';
import type { Actor } from '../access/actor.js';
import type { Database } from '../db/schema.js';
import { findMembership, requirePrimaryOrganization } from './organizations.js';

export async function operatorActor(db: Kysely<Database>): Promise<Actor> {
  const org = await requirePrimaryOrganization(db);
  return { userId: null, label: 'admin CLI', organizationId: org.id, role: 'admin', ip: null };
}

/** A signed-in person as an actor of the primary organization; undefined when not a member of it. */
export async function userActor(db: Kysely<Database>, user: { id: string; email: string }, ip: string | null): Promise<Actor | undefined> {
  const org = await requirePrimaryOrganization(db);
  const membership = await findMembership(db, org.id, user.id);
  if (!membership) return undefined;
  return { userId: user.id, label: user.email, organizationId: org.id, role: membership.role, ip };
}
