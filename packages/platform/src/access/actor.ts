// Who is acting: a signed-in person with their organization role, or the admin CLI (whoever runs
// it on the server's machine already holds the database, so it acts as an administrator).
// Services take an Actor and decide there what it may do.

import type { MembershipRole } from '../db/schema.js';
import { KeywardError } from '../errors.js';

export interface Actor {
  /** null for the admin CLI. */
  userId: string | null;
  /** The person's email, or `admin CLI`: what the audit log shows. */
  label: string;
  organizationId: string;
  role: MembershipRole;
  ip: string | null;
}

export const isAdmin = (actor: Actor) => actor.role === 'admin';

export const forbidden = (message = 'Only an administrator of the organization may do this.') =>
  new KeywardError('forbidden', message, 403);

export function requireAdmin(actor: Actor, organizationId = actor.organizationId): void {
  if (!isAdmin(actor) || organizationId !== actor.organizationId) throw forbidden();
}

/** Things an actor may touch belong to its own organization; anything else does not exist for it. */
export function requireSameOrganization(actor: Actor, organizationId: string | null, what: string, id: string): void {
  if (organizationId !== actor.organizationId) throw new KeywardError('not_found', `${what} "${id}" does not exist`, 404);
}
