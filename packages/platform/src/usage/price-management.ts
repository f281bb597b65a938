// Price overrides as people manage them: administrators set and remove them (console and CLI
// alike, each change audited); anyone in the organization may read them and look up what a model
// costs, since prices are not secret and help people understand their spend.

import type { Kysely } from 'kysely';
import { requireAdmin, type Actor } from '../access/actor.js';
import type { ServiceContext } from '../app-context.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Database } from '../db/schema.js';
import { microUsdToString, type ModelRates, type TokenRate } from './call-cost.js';
import { lookupModelPrice, removeModelPrice, setModelPrice, type ModelPriceInput, type ModelPriceView } from './model-prices.js';

const perMtok = (view: Pick<ModelPriceView, 'inputUsdPerMtok' | 'outputUsdPerMtok' | 'cachedInputUsdPerMtok' | 'cacheWriteUsdPerMtok'>) =>
  [
    `$${view.inputUsdPerMtok} in`,
    `$${view.outputUsdPerMtok} out`,
    view.cachedInputUsdPerMtok === null ? null : `$${view.cachedInputUsdPerMtok} cache read`,
    view.cacheWriteUsdPerMtok === null ? null : `$${view.cacheWriteUsdPerMtok} cache write`,
  ]
    .filter(Boolean)
    .join(', ') + ' per million tokens';

/** Administrators only: sets or replaces the override for one provider and model. */
export async function setModelPriceAs(ctx: ServiceContext, actor: Actor, input: ModelPriceInput): Promise<ModelPriceView> {
  requireAdmin(actor);
  const view = await setModelPrice(ctx, input);
  await recordAudit(ctx.db, actor, { action: 'price.set', targetKind: 'model_price', targetId: `${view.provider}:${view.model}`, targetLabel: `${view.provider}:${view.model}`, detail: perMtok(view) });
  return view;
}

/** Administrators only: removes an override (the catalogue prices the model again, if it knows it). */
export async function removeModelPriceAs(ctx: ServiceContext, actor: Actor, provider: string, model: string): Promise<{ removed: boolean }> {
  requireAdmin(actor);
  const result = await removeModelPrice(ctx, provider, model);
  // Removing what is not there changes nothing, so there is nothing to audit.
  if (result.removed) await recordAudit(ctx.db, actor, { action: 'price.removed', targetKind: 'model_price', targetId: `${provider}:${model}`, targetLabel: `${provider}:${model}` });
  return result;
}

export interface EffectivePrice {
  provider: string;
  model: string;
  /** null: no known price (calls are recorded as unpriced). */
  source: ModelRates['source'] | null;
  inputUsdPerMtok: string | null;
  outputUsdPerMtok: string | null;
  cachedInputUsdPerMtok: string | null;
  cacheWriteUsdPerMtok: string | null;
  /** Long-context tiers of the catalogue, in words ("$5 in above 200000 input tokens"). */
  tiers: string[];
}

const usd = (rate: TokenRate | undefined) => (rate === undefined ? null : microUsdToString(rate.base));

/** What a call to `provider:model` is priced at now: the override, else the bundled catalogue, else nothing. */
export async function effectiveModelPrice(db: Kysely<Database>, provider: string, model: string): Promise<EffectivePrice> {
  const rates = await lookupModelPrice(db, provider.trim(), model.trim());
  const tiers = rates
    ? (['input', 'output'] as const).flatMap((kind) => (rates[kind].tiers ?? []).map((t) => `$${microUsdToString(t.rate)} ${kind === 'input' ? 'in' : 'out'} above ${t.startInputTokens} input tokens`))
    : [];
  return {
    provider: provider.trim(),
    model: model.trim(),
    source: rates?.source ?? null,
    inputUsdPerMtok: usd(rates?.input),
    outputUsdPerMtok: usd(rates?.output),
    cachedInputUsdPerMtok: usd(rates?.cachedInput),
    cacheWriteUsdPerMtok: usd(rates?.cacheWrite),
    tiers,
  };
}
