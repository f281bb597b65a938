import { operatorActor } from '../../accounts/actors.js';
import { requireUserByEmail } from '../../accounts/users.js';
import { createProxy, proxiesFor } from '../../proxies/proxy-management.js';
import { type AdminCommand, str } from '../command.js';

export const proxyCreate: AdminCommand = {
  name: 'proxy create',
  usage: 'keyward proxy create --name N [--scope org|team|personal] [--team ID] [--user E]',
  options: { name: { type: 'string' }, scope: { type: 'string' }, team: { type: 'string' }, user: { type: 'string' } },
  required: ['name'],
  async run(ctx, flags) {
    const teamId = str(flags, 'team');
    const email = str(flags, 'user');
    const userId = email ? (await requireUserByEmail(ctx.db, email)).id : undefined;
    const proxy = await createProxy(ctx, await operatorActor(ctx.db), {
      name: str(flags, 'name')!,
      scope: (str(flags, 'scope') ?? 'org') as 'org',
      ...(teamId ? { teamId } : {}),
      ...(userId ? { userId } : {}),
    });
    return { id: proxy.id, name: proxy.name, scope: proxy.scope };
  },
  text: (r) => `created LLM proxy ${String(r.name)} (${String(r.id)})`,
};

export const proxyList: AdminCommand = {
  name: 'proxy list',
  usage: 'keyward proxy list',
  options: {},
  async run(ctx) {
    const proxies = await proxiesFor(ctx.db, await operatorActor(ctx.db));
    return {
      proxies: proxies.map((p) => ({
        id: p.id,
        name: p.name,
        scope: p.scope,
        teamId: p.team_id,
        userId: p.user_id,
        default: p.is_default === 1,
      })),
    };
  },
  text: (r) =>
    (r.proxies as Array<Record<string, unknown>>)
      .map((p) => `${String(p.id)}  ${String(p.name)}  ${String(p.scope)}${p.default ? '  (default)' : ''}`)
      .join('\n') || 'no LLM proxies',
};
