// Spending and rate limits of the organization, and its rule for models with no known price.

import { operatorActor } from '../../accounts/actors.js';
import { listLimitsAs, removeLimitAs, setLimitAs, setUnpricedCallPolicyAs } from '../../limits/limit-management.js';
import { type AdminCommand, type Flags, str, UsageError } from '../command.js';

function whole(flags: Flags, name: string): number | undefined {
  const value = str(flags, name);
  if (value === undefined) return undefined;
  if (!/^\d{1,12}$/.test(value)) throw new UsageError(`--${name} takes a whole number, got "${value}"`);
  return Number(value);
}

export const limitSet: AdminCommand = {
  name: 'limit set',
  usage:
    'keyward limit set --scope org|team|user|app|client|proxy [--team ID] [--user E] [--client ID] [--proxy ID] ' +
    '[--usd N --period day|week|month|total] [--alert-percent P] [--requests-per-minute N] [--tokens-per-minute N]',
  options: {
    scope: { type: 'string' },
    team: { type: 'string' },
    user: { type: 'string' },
    client: { type: 'string' },
    proxy: { type: 'string' },
    usd: { type: 'string' },
    period: { type: 'string' },
    'alert-percent': { type: 'string' },
    'requests-per-minute': { type: 'string' },
    'tokens-per-minute': { type: 'string' },
  },
  required: ['scope'],
  async run(ctx, flags) {
    return setLimitAs(ctx, await operatorActor(ctx.db), {
      scope: str(flags, 'scope')!,
      teamId: str(flags, 'team'),
      userEmail: str(flags, 'user'),
      clientId: str(flags, 'client'),
      proxyId: str(flags, 'proxy'),
      usd: str(flags, 'usd'),
      period: str(flags, 'period'),
      alertPercent: whole(flags, 'alert-percent'),
      requestsPerMinute: whole(flags, 'requests-per-minute'),
      tokensPerMinute: whole(flags, 'tokens-per-minute'),
    });
  },
  text: (r) => `limit ${String(r.id)} set; every instance applies it within a few seconds`,
};

export const limitList: AdminCommand = {
  name: 'limit list',
  usage: 'keyward limit list',
  options: {},
  async run(ctx) {
    return { limits: await listLimitsAs(ctx.db, await operatorActor(ctx.db)) };
  },
  text: (r) => {
    const limits = r.limits as Array<Record<string, unknown>>;
    if (!limits.length) return 'no limits';
    return limits
      .map((l) => {
        const subject = [l.user, l.teamId && `team ${String(l.teamId)}`, l.clientId && `client ${String(l.clientId)}`, l.proxyId && `proxy ${String(l.proxyId)}`].filter(Boolean).join(' ');
        const money = l.usd === null ? '' : `  $${String(l.spentUsd)} of $${String(l.usd)} per ${String(l.period)}${l.resetsAt ? ` (resets ${String(l.resetsAt)})` : ''}`;
        const rate = [l.requestsPerMinute && `${String(l.requestsPerMinute)} req/min`, l.tokensPerMinute && `${String(l.tokensPerMinute)} tok/min`].filter(Boolean).join(', ');
        return `${String(l.id)}  ${String(l.scope)}${subject ? ` ${subject}` : ''}${money}${rate ? `  ${rate}` : ''}`;
      })
      .join('\n');
  },
};

export const limitRemove: AdminCommand = {
  name: 'limit remove',
  usage: 'keyward limit remove --id ID',
  options: { id: { type: 'string' } },
  required: ['id'],
  run: async (ctx, flags) => removeLimitAs(ctx, await operatorActor(ctx.db), str(flags, 'id')!),
  text: (r) => `removed limit ${String(r.id)}`,
};

export const limitUnpriced: AdminCommand = {
  name: 'limit unpriced',
  usage: 'keyward limit unpriced --policy refuse|allow   (calls to models with no known price while a spending limit applies)',
  options: { policy: { type: 'string' } },
  required: ['policy'],
  async run(ctx, flags) {
    return setUnpricedCallPolicyAs(ctx, await operatorActor(ctx.db), str(flags, 'policy')!);
  },
  text: (r) => `calls to unpriced models under a spending limit: ${String(r.unpricedCalls)}`,
};
