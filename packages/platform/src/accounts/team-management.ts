// Teams as administrators manage them: create, add and remove members. Membership changes are
// published (the router re-reads whose team proxies and keys a person may use) and audited.

import type { Kysely } from 'kysely';
import { requireAdmin, type Actor } from '../access/actor.js';
import type { ServiceContext } from '../app-context.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Database } from '../db/schema.js';
import { KeywardError } from '../errors.js';
import { addTeamMember, createTeam, requireTeam } from './teams.js';

export async function createTeamAs(ctx: ServiceContext, actor: Actor, name: string) {
  requireAdmin(actor);
  const team = await createTeam(ctx.db, actor.organizationId, name);
  await recordAudit(ctx.db, actor, { action: 'team.created', targetKind: 'team', targetId: team.id, targetLabel: team.name });
  return team;
}

async function requireOwnTeam(db: Kysely<Database>, actor: Actor, teamId: string) {
  const team = await requireTeam(db, teamId).catch(() => undefined);
  if (!team || team.organization_id !== actor.organizationId) throw new KeywardError('team_not_found', `team "${teamId}" does not exist`, 404);
  return team;
}

export async function addTeamMemberAs(ctx: ServiceContext, actor: Actor, teamId: string, userId: string): Promise<void> {
  requireAdmin(actor);
  const team = await requireOwnTeam(ctx.db, actor, teamId);
  await addTeamMember(ctx.db, team.id, userId);
  await ctx.changes.publish('membership', userId);
  const user = await ctx.db.selectFrom('users').select('email').where('id', '=', userId).executeTakeFirst();
  await recordAudit(ctx.db, actor, { action: 'team.member_added', targetKind: 'team', targetId: team.id, targetLabel: team.name, detail: user?.email ?? userId });
}

export async function removeTeamMemberAs(ctx: ServiceContext, actor: Actor, teamId: string, userId: string): Promise<void> {
  requireAdmin(actor);
  const team = await requireOwnTeam(ctx.db, actor, teamId);
  const removed = await ctx.db.deleteFrom('team_members').where('team_id', '=', team.id).where('user_id', '=', userId).executeTakeFirst();
  // Only a real removal is published and audited: someone not in the team is not found in it.
  if (Number(removed.numDeletedRows) === 0) throw new KeywardError('team_member_not_found', `that user is not a member of team "${team.name}"`, 404);
  await ctx.changes.publish('membership', userId);
  const user = await ctx.db.selectFrom('users').select('email').where('id', '=', userId).executeTakeFirst();
  await recordAudit(ctx.db, actor, { action: 'team.member_removed', targetKind: 'team', targetId: team.id, targetLabel: team.name, detail: user?.email ?? userId });
}

export async function teamsWithMembers(db: Kysely<Database>, actor: Actor) {
  requireAdmin(actor);
  const teams = await db.selectFrom('teams').selectAll().where('organization_id', '=', actor.organizationId).orderBy('name').execute();
  const members = await db
    .selectFrom('team_members')
    .innerJoin('teams', 'teams.id', 'team_members.team_id')
    .innerJoin('users', 'users.id', 'team_members.user_id')
    .select(['team_members.team_id', 'users.id', 'users.email'])
    .where('teams.organization_id', '=', actor.organizationId)
    .orderBy('users.email_normalized')
    .execute();
  return teams.map((team) => ({ ...team, members: members.filter((m) => m.team_id === team.id).map((m) => ({ id: m.id, email: m.email })) }));
}
