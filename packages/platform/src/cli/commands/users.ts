import { operatorActor } from '../../accounts/actors.js';
import { ensurePrimaryOrganization } from '../../accounts/organizations.js';
import { createUserAs, setPasswordAs } from '../../accounts/user-management.js';
import { requireUserByEmail } from '../../accounts/users.js';
import { type AdminCommand, str } from '../command.js';

export const userCreate: AdminCommand = {
  name: 'user create',
  usage: 'keyward user create --email E --password P [--admin]',
  options: { email: { type: 'string' }, password: { type: 'string' }, admin: { type: 'boolean' } },
  required: ['email', 'password'],
  async run(ctx, flags) {
    await ensurePrimaryOrganization(ctx.db, 'Default Organization');
    const role = flags.admin ? 'admin' : 'member';
    const user = await createUserAs(ctx, await operatorActor(ctx.db), { email: str(flags, 'email')!, password: str(flags, 'password')!, role });
    return { id: user.id, email: user.email, role };
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
    await setPasswordAs(ctx, await operatorActor(ctx.db), user.id, str(flags, 'password')!);
    return { id: user.id, email: user.email };
  },
  text: (r) => `password changed for ${String(r.email)}; their browser sessions were signed out`,
};
