// Price overrides: what a provider's model costs when the catalogue does not know it or is wrong for you.

import { operatorActor } from '../../accounts/actors.js';
import { listModelPrices } from '../../usage/model-prices.js';
import { removeModelPriceAs, setModelPriceAs } from '../../usage/price-management.js';
import { type AdminCommand, str } from '../command.js';

export const priceSet: AdminCommand = {
  name: 'price set',
  usage:
    'keyward price set --provider P --model M --input-usd-per-mtok X --output-usd-per-mtok Y [--cached-input-usd-per-mtok Z] [--cache-write-usd-per-mtok W]',
  options: {
    provider: { type: 'string' },
    model: { type: 'string' },
    'input-usd-per-mtok': { type: 'string' },
    'output-usd-per-mtok': { type: 'string' },
    'cached-input-usd-per-mtok': { type: 'string' },
    'cache-write-usd-per-mtok': { type: 'string' },
  },
  required: ['provider', 'model', 'input-usd-per-mtok', 'output-usd-per-mtok'],
  async run(ctx, flags) {
    const view = await setModelPriceAs(ctx, await operatorActor(ctx.db), {
      provider: str(flags, 'provider')!,
      model: str(flags, 'model')!,
      inputUsdPerMtok: str(flags, 'input-usd-per-mtok')!,
      outputUsdPerMtok: str(flags, 'output-usd-per-mtok')!,
      cachedInputUsdPerMtok: str(flags, 'cached-input-usd-per-mtok'),
      cacheWriteUsdPerMtok: str(flags, 'cache-write-usd-per-mtok'),
    });
    return { ...view };
  },
  text: (r) => `${String(r.provider)}:${String(r.model)} now costs $${String(r.inputUsdPerMtok)} in / $${String(r.outputUsdPerMtok)} out per million tokens`,
};

export const priceList: AdminCommand = {
  name: 'price list',
  usage: 'keyward price list',
  options: {},
  run: async (ctx) => ({ prices: await listModelPrices(ctx.db) }),
  text: (r) => {
    const prices = r.prices as Array<Record<string, unknown>>;
    if (!prices.length) return 'no price overrides; every model is priced from the bundled catalogue';
    return prices
      .map(
        (p) =>
          `${String(p.provider)}:${String(p.model)}  $${String(p.inputUsdPerMtok)} in  $${String(p.outputUsdPerMtok)} out` +
          (p.cachedInputUsdPerMtok === null ? '' : `  $${String(p.cachedInputUsdPerMtok)} cached`) +
          (p.cacheWriteUsdPerMtok === null ? '' : `  $${String(p.cacheWriteUsdPerMtok)} cache write`) +
          '  per million tokens',
      )
      .join('\n');
  },
};

export const priceRemove: AdminCommand = {
  name: 'price remove',
  usage: 'keyward price remove --provider P --model M',
  options: { provider: { type: 'string' }, model: { type: 'string' } },
  required: ['provider', 'model'],
  async run(ctx, flags) {
    const provider = str(flags, 'provider')!;
    const model = str(flags, 'model')!;
    return { provider, model, ...(await removeModelPriceAs(ctx, await operatorActor(ctx.db), provider, model)) };
  },
  text: (r) => (r.removed ? `removed the override for ${String(r.provider)}:${String(r.model)}` : `there was no override for ${String(r.provider)}:${String(r.model)}`),
};
