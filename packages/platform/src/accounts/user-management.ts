// People as administrators manage them: create with a role, change role, disable and enable, set
// a password. Disabling ends the person's sessions at once and, through the `user` change, their
// tokens at every router (the router re-reads a user it hears about and refuses a disabled one).
// Making an administrator a member puts their personal keys under the rules for members' keys.

import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { forbidden, requireAdmin, type Actor } from '../access/actor.js';
import type { ServiceContext } from '../app-context.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Database, MembershipRole } from '../db/schema.js';
import { KeywardError } from '../errors.js';
import { holdPersonalKeysToMemberRules } from '../keys/key-management.js';
import { addMembership } from './organizations.js';
import { createUser, setUserPassword, type User } from './users.js';

export function checkRole(value: string): MembershipRole {
  if (value !== 'admin' && value !== 'member') throw new KeywardError('invalid_role', 'role must be member or admin');
  return value;
}

/** Without a password the person can sign in only after choosing one through an invitation link. */
export async function createUserAs(ctx: ServiceContext, actor: Actor, input: { email: string; password?: string | undefined; role: MembershipRole }): Promise<User & { role: MembershipRole }> {
  requireAdmin(actor);
  const role = checkRole(input.role);
  const user = await createUser(ctx.db, { email: input.email, password: input.password ?? randomBytes(32).toString('base64url') });
  await addMembership(ctx.db, actor.organizationId, user.id, role);
  await ctx.changes.publish('membership', user.id);
  await recordAudit(ctx.db, actor, { action: 'user.created', targetKind: 'user', targetId: user.id, targetLabel: user.email, detail: `role ${role}` });
  return { ...user, role };
}

/** A member of the actor's organization, or not found. */
async function requireMember(db: Kysely<Database>, actor: Actor, userId: string) {
  const row = await db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select(['users.id', 'users.email', 'users.disabled_at', 'memberships.role'])
    .where('memberships.organization_id', '=', actor.organizationId)
    .where('users.id', '=', userId)
    .executeTakeFirst();
  if (!row) throw new KeywardError('user_not_found', 'that user is not a member of the organization', 404);
  return row;
}

async function otherActiveAdmins(db: Kysely<Database>, organizationId: string, userId: string): Promise<number> {
  const row = await db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('memberships.organization_id', '=', organizationId)
    .where('memberships.role', '=', 'admin')
    .where('users.disabled_at', 'is', null)
    .where('users.id', '!=', userId)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function setUserRole(ctx: ServiceContext, actor: Actor, userId: string, role: string): Promise<void> {
  requireAdmin(actor);
  const newRole = checkRole(role);
  const member = await requireMember(ctx.db, actor, userId);
  if (member.role === newRole) return;
  // An organization must keep someone who can govern it.
  if (member.role === 'admin' && (await otherActiveAdmins(ctx.db, actor.organizationId, userId)) === 0) {
    throw new KeywardError('last_admin', 'This is the last administrator: make someone else an administrator first.', 409);
  }
  await addMembership(ctx.db, actor.organizationId, userId, newRole);
  // Checked again after the write: two administrators demoting each other at once leave one.
  if (member.role === 'admin' && (await otherActiveAdmins(ctx.db, actor.organizationId, '')) === 0) {
    await addMembership(ctx.db, actor.organizationId, userId, member.role);
    throw new KeywardError('last_admin', 'This is the last administrator: make someone else an administrator first.', 409);
  }
  await ctx.changes.publish('membership', userId);
  await recordAudit(ctx.db, actor, { action: 'user.role_changed', targetKind: 'user', targetId: userId, targetLabel: member.email, detail: `${member.role} → ${newRole}` });
  // What only an administrator could add (a personal key at any base URL) does not stay so.
  if (newRole === 'member') await holdPersonalKeysToMemberRules(ctx, actor, userId);
}

export async function setUserDisabled(ctx: ServiceContext, actor: Actor, userId: string, disabled: boolean): Promise<void> {
  requireAdmin(actor);
  const member = await requireMember(ctx.db, actor, userId);
  if (disabled && userId === actor.userId) throw forbidden('You cannot disable yourself.');
  if (disabled && member.role === 'admin' && (await otherActiveAdmins(ctx.db, actor.organizationId, userId)) === 0) {
    throw new KeywardError('last_admin', 'This is the last administrator: make someone else an administrator first.', 409);
  }
  await ctx.db.updateTable('users').set({ disabled_at: disabled ? Date.now() : null }).where('id', '=', userId).execute();
  if (disabled && member.role === 'admin' && (await otherActiveAdmins(ctx.db, actor.organizationId, '')) === 0) {
    await ctx.db.updateTable('users').set({ disabled_at: member.disabled_at }).where('id', '=', userId).execute();
    throw new KeywardError('last_admin', 'This is the last administrator: make someone else an administrator first.', 409);
  }
  if (disabled) await ctx.db.deleteFrom('sessions').where('user_id', '=', userId).execute();
  await ctx.changes.publish('user', userId);
  await recordAudit(ctx.db, actor, { action: disabled ? 'user.disabled' : 'user.enabled', targetKind: 'user', targetId: userId, targetLabel: member.email });
}

export async function setPasswordAs(ctx: ServiceContext, actor: Actor, userId: string, password: string): Promise<void> {
  if (actor.userId !== userId) requireAdmin(actor);
  const member = await requireMember(ctx.db, actor, userId);
  await setUserPassword(ctx.db, userId, password);
  await ctx.changes.publish('user', userId);
  await recordAudit(ctx.db, actor, { action: 'user.password_set', targetKind: 'user', targetId: userId, targetLabel: member.email });
}

export interface MemberRow {
  id: string;
  email: string;
  role: MembershipRole;
  created_at: number;
  disabled_at: number | null;
}

export async function listMembers(db: Kysely<Database>, actor: Actor): Promise<MemberRow[]> {
  requireAdmin(actor);
  return db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select(['users.id', 'users.email', 'memberships.role', 'users.created_at', 'users.disabled_at'])
    .where('memberships.organization_id', '=', actor.organizationId)
    .orderBy('users.email_normalized')
    .execute();
}
