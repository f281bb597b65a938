import { operatorActor } from '../../accounts/actors.js';
import { addTeamMemberAs, createTeamAs } from '../../accounts/team-management.js';
import { requireUserByEmail } from '../../accounts/users.js';
import { type AdminCommand, str } from '../command.js';

export const teamCreate: AdminCommand = {
  name: 'team create',
  usage: 'keyward team create --name N',
  options: { name: { type: 'string' } },
  required: ['name'],
  async run(ctx, flags) {
    const team = await createTeamAs(ctx, await operatorActor(ctx.db), str(flags, 'name')!);
    return { id: team.id, name: team.name };
  },
  text: (r) => `created team ${String(r.name)} (${String(r.id)})`,
};

export const teamAddMember: AdminCommand = {
  name: 'team add-member',
  usage: 'keyward team add-member --team ID --email E',
  options: { team: { type: 'string' }, email: { type: 'string' } },
  required: ['team', 'email'],
  async run(ctx, flags) {
    const user = await requireUserByEmail(ctx.db, str(flags, 'email')!);
    await addTeamMemberAs(ctx, await operatorActor(ctx.db), str(flags, 'team')!, user.id);
    return { teamId: str(flags, 'team')!, userId: user.id };
  },
  text: (r) => `added user ${String(r.userId)} to team ${String(r.teamId)}`,
};
