import { addMembership, ensurePrimaryOrganization } from '../../accounts/organizations.js';
import { createUser, requireUserByEmail, setUserPassword } from '../../accounts/users.js';
import { type AdminCommand, str } from '../command.js';

export const userCreate: AdminCommand = {
  name: 'user create',
  usage: 'keyward user create --email E --password P [--admin]',
  options: { email: { type: 'string' }, password: { type: 'string' }, admin: { type: 'boolean' } },
  required: ['email', 'password'],
  async run(ctx, flags) {
    const org = await ensurePrimaryOrganization(ctx.db, 'Default Organization');
    const user = await createUser(ctx.db, { email: str(flags, 'email')!, password: str(flags, 'password')! });
    await addMembership(ctx.db, org.id, user.id, flags.admin ? 'admin' : 'member');
    return { id: user.id, email: user.email, role: flags.admin ? 'admin' : 'member' };
  },
  text: (r) => `created ${String(r.role)} ${String(r.email)} (${String(r.id)})`,
};

export const userSetPassword: AdminCommand = {
  name: 'user set-password',
  usage: 'keyward user set-password --email E --password P',
  options: { email: { type: 'string' }, password: { type: 'string' } },
  required: ['email', 'password'],
  async run(ctx, flags) {
    const user = await requireUserByEmail(ctx.db, str(flags, 'email')!);
    await setUserPassword(ctx.db, user.id, str(flags, 'password')!);
    await ctx.changes.publish('user', user.id);
    return { id: user.id, email: user.email };
  },
  text: (r) => `password changed for ${String(r.email)}; their browser sessions were signed out`,
};
