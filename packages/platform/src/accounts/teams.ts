import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { KeywardError } from '../errors.js';
import { findMembership } from './organizations.js';

export async function createTeam(db: Kysely<Database>, organizationId: string, name: string) {
  const trimmed = name.trim();
  if (!trimmed || trimmed.length > 200) throw new KeywardError('invalid_name', 'team name must be 1 to 200 characters');
  const clash = await db
    .selectFrom('teams')
    .select('id')
    .where('organization_id', '=', organizationId)
    .where('name', '=', trimmed)
    .executeTakeFirst();
  if (clash) throw new KeywardError('duplicate_team', `a team named "${trimmed}" already exists`, 409);
  const team = { id: randomUUID(), organization_id: organizationId, name: trimmed, created_at: Date.now() };
  await db.insertInto('teams').values(team).execute();
  return team;
}

export async function requireTeam(db: Kysely<Database>, teamId: string) {
  const team = await db.selectFrom('teams').selectAll().where('id', '=', teamId).executeTakeFirst();
  if (!team) throw new KeywardError('team_not_found', `team "${teamId}" does not exist`, 404);
  return team;
}

export async function addTeamMember(db: Kysely<Database>, teamId: string, userId: string) {
  const team = await requireTeam(db, teamId);
  if (!(await findMembership(db, team.organization_id, userId))) {
    throw new KeywardError('not_a_member', "the user is not a member of the team's organization", 409);
  }
  await db
    .insertInto('team_members')
    .values({ team_id: teamId, user_id: userId, created_at: Date.now() })
    .onConflict((oc) => oc.columns(['team_id', 'user_id']).doNothing())
    .execute();
}

export async function teamIdsOfUser(db: Kysely<Database>, userId: string): Promise<string[]> {
  const rows = await db.selectFrom('team_members').select('team_id').where('user_id', '=', userId).execute();
  return rows.map((r) => r.team_id);
}
