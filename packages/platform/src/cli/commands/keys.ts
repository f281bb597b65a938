import { operatorActor } from '../../accounts/actors.js';
import { requireUserByEmail } from '../../accounts/users.js';
import { addKey, keysFor } from '../../keys/key-management.js';
import { type AdminCommand, list, str, UsageError } from '../command.js';

function parseOptions(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 1) throw new UsageError(`--option takes name=value, got "${pair}"`);
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}

export const keyAdd: AdminCommand = {
  name: 'key add',
  usage:
    'keyward key add --provider P [--api-key K] [--base-url URL] --scope org|team|personal [--team ID] [--user E] [--primary] [--option name=value]...',
  options: {
    provider: { type: 'string' },
    'api-key': { type: 'string' },
    'base-url': { type: 'string' },
    scope: { type: 'string' },
    team: { type: 'string' },
    user: { type: 'string' },
    primary: { type: 'boolean' },
    option: { type: 'string', multiple: true },
  },
  required: ['provider', 'scope'],
  async run(ctx, flags) {
    const email = str(flags, 'user');
    const userId = email ? (await requireUserByEmail(ctx.db, email)).id : undefined;
    const key = await addKey(ctx, await operatorActor(ctx.db), {
      provider: str(flags, 'provider')!,
      apiKey: str(flags, 'api-key') ?? '',
      baseUrl: str(flags, 'base-url'),
      options: parseOptions(list(flags, 'option')),
      scope: str(flags, 'scope') as 'org',
      teamId: str(flags, 'team'),
      userId,
      primary: flags.primary === true,
    });
    return { id: key.id, provider: key.provider, scope: key.scope, last4: key.last4, primary: key.is_primary === 1 };
  },
  text: (r) => `added ${String(r.provider)} key ${String(r.id)} (${String(r.scope)}${r.last4 ? `, …${String(r.last4)}` : ''})`,
};

export const keyList: AdminCommand = {
  name: 'key list',
  usage: 'keyward key list',
  options: {},
  async run(ctx) {
    const keys = (await keysFor(ctx.db, await operatorActor(ctx.db))).manageable;
    return {
      keys: keys.map((k) => ({
        id: k.id,
        provider: k.provider,
        scope: k.scope,
        teamId: k.team_id,
        userId: k.user_id,
        primary: k.is_primary === 1,
        baseUrl: k.base_url,
        last4: k.last4,
      })),
    };
  },
  text: (r) =>
    (r.keys as Array<Record<string, unknown>>)
      .map((k) => `${String(k.id)}  ${String(k.provider)}  ${String(k.scope)}${k.primary ? '  primary' : ''}${k.last4 ? `  …${String(k.last4)}` : ''}`)
      .join('\n') || 'no provider keys',
};
