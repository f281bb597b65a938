// The organization's default and maximum spending limit for self-registered apps (what the consent
// page offers); the same as the form on /console/apps.

import { operatorActor } from '../../accounts/actors.js';
import { readAppCapPolicy, setAppCapPolicy, type AppCap } from '../../limits/app-caps.js';
import { microUsdToString } from '../../usage/call-cost.js';
import { type AdminCommand, str } from '../command.js';

const usd = (cap: AppCap | null) => (cap ? microUsdToString(cap.nanoUsd / 1000) : '');

export const limitApps: AdminCommand = {
  name: 'limit apps',
  usage:
    'keyward limit apps [--default-usd N|none --default-period day|month] [--max-usd N|none --max-period day|month]   ' +
    '(the default and maximum limit people choose for self-registered apps at consent; flags left out keep their value)',
  options: {
    'default-usd': { type: 'string' },
    'default-period': { type: 'string' },
    'max-usd': { type: 'string' },
    'max-period': { type: 'string' },
  },
  async run(ctx, flags) {
    const actor = await operatorActor(ctx.db);
    const current = await readAppCapPolicy(ctx.db, actor.organizationId);
    const amount = (name: string, cap: AppCap | null) => {
      const value = str(flags, name);
      return value === undefined ? usd(cap) : value === 'none' ? '' : value;
    };
    const policy = await setAppCapPolicy(ctx, actor, {
      defaultUsd: amount('default-usd', current.defaultCap),
      defaultPeriod: str(flags, 'default-period') ?? current.defaultCap?.period ?? 'month',
      maximumUsd: amount('max-usd', current.maximum),
      maximumPeriod: str(flags, 'max-period') ?? current.maximum?.period ?? 'month',
    });
    const view = (cap: AppCap | null) => (cap ? { usd: Number(usd(cap)), period: cap.period } : null);
    return { default: view(policy.defaultCap), maximum: view(policy.maximum) };
  },
  text: (r) => {
    const show = (cap: unknown, none: string) => (cap ? `$${String((cap as { usd: number }).usd)} per ${String((cap as { period: string }).period)}` : none);
    return `apps' spending limit at consent: default ${show(r.default, 'No limit')}, maximum ${show(r.maximum, 'none')}`;
  },
};
