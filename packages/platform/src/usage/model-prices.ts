// Admin price overrides per provider and model (self-hosted, fine-tuned, negotiated; zero is a
// price: "free"), and the PriceBook the router prices calls with: override, else catalogue, else unknown.

import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { AppContext } from '../app-context.js';
import type { ChangeFeed } from '../db/change-log.js';
import { latestReadWins } from '../db/latest-read.js';
import type { Database } from '../db/schema.js';
import { KeywardError } from '../errors.js';
import { microUsdToString, parseUsdPerMtok, type ModelRates } from './call-cost.js';
import { catalogueRates } from './price-catalogue.js';
import { webSearchFee } from './search-fees.js';

export interface ModelPriceTable {
  provider: string;
  model: string;
  input_micro_usd_per_mtok: number;
  output_micro_usd_per_mtok: number;
  cached_input_micro_usd_per_mtok: number | null;
  cache_write_micro_usd_per_mtok: number | null;
  updated_at: number;
}

declare module '../db/schema.js' {
  interface Database {
    model_prices: ModelPriceTable;
  }
}

/** USD per million tokens as decimal strings, the way the CLI and console take them. */
export interface ModelPriceInput {
  provider: string;
  model: string;
  inputUsdPerMtok: string;
  outputUsdPerMtok: string;
  cachedInputUsdPerMtok?: string | undefined;
  cacheWriteUsdPerMtok?: string | undefined;
}

export interface ModelPriceView {
  provider: string;
  model: string;
  inputUsdPerMtok: string;
  outputUsdPerMtok: string;
  cachedInputUsdPerMtok: string | null;
  cacheWriteUsdPerMtok: string | null;
  updatedAt: string;
}

/** Which input a refusal is about, so a form can show it next to that field. */
export type PriceField = 'provider' | 'model' | 'inputUsdPerMtok' | 'outputUsdPerMtok' | 'cachedInputUsdPerMtok' | 'cacheWriteUsdPerMtok';

export class PriceInputError extends KeywardError {
  constructor(
    message: string,
    readonly field: PriceField,
  ) {
    super('invalid_price', message);
  }
}

function micro(name: string, field: PriceField, value: string | undefined): number | null {
  if (value === undefined) return null;
  const parsed = parseUsdPerMtok(value);
  if (parsed === null) throw new PriceInputError(`${name} takes USD per million tokens, like 0.15 or 0 (free), got "${value}"`, field);
  return parsed;
}

const toView = (row: ModelPriceTable): ModelPriceView => ({
  provider: row.provider,
  model: row.model,
  inputUsdPerMtok: microUsdToString(Number(row.input_micro_usd_per_mtok)),
  outputUsdPerMtok: microUsdToString(Number(row.output_micro_usd_per_mtok)),
  cachedInputUsdPerMtok: row.cached_input_micro_usd_per_mtok === null ? null : microUsdToString(Number(row.cached_input_micro_usd_per_mtok)),
  cacheWriteUsdPerMtok: row.cache_write_micro_usd_per_mtok === null ? null : microUsdToString(Number(row.cache_write_micro_usd_per_mtok)),
  updatedAt: new Date(Number(row.updated_at)).toISOString(),
});

/** Sets (or replaces) the override for one provider and model; every instance prices with it within a poll interval. */
export async function setModelPrice(ctx: Pick<AppContext, 'db' | 'changes'>, input: ModelPriceInput): Promise<ModelPriceView> {
  const provider = input.provider.trim();
  const model = input.model.trim();
  if (!/^[a-z0-9][a-z0-9-]*$/.test(provider)) throw new PriceInputError(`provider must be a provider name like openai or ollama, got "${input.provider}"`, 'provider');
  if (!model || model.length > 200) throw new PriceInputError('model must be a model id (1-200 characters)', 'model');
  const row: ModelPriceTable = {
    provider,
    model,
    input_micro_usd_per_mtok: micro('input price', 'inputUsdPerMtok', input.inputUsdPerMtok)!,
    output_micro_usd_per_mtok: micro('output price', 'outputUsdPerMtok', input.outputUsdPerMtok)!,
    cached_input_micro_usd_per_mtok: micro('cached-input price', 'cachedInputUsdPerMtok', input.cachedInputUsdPerMtok),
    cache_write_micro_usd_per_mtok: micro('cache-write price', 'cacheWriteUsdPerMtok', input.cacheWriteUsdPerMtok),
    updated_at: Date.now(),
  };
  const { provider: _p, model: _m, ...rest } = row;
  await ctx.db.insertInto('model_prices').values(row).onConflict((oc) => oc.columns(['provider', 'model']).doUpdateSet(rest)).execute();
  await ctx.changes.publish('model_price', `${provider}:${model}`);
  return toView(row);
}

export async function listModelPrices(db: Kysely<Database>): Promise<ModelPriceView[]> {
  const rows = await db.selectFrom('model_prices').selectAll().orderBy('provider').orderBy('model').execute();
  return rows.map(toView);
}

export async function removeModelPrice(ctx: Pick<AppContext, 'db' | 'changes'>, provider: string, model: string): Promise<{ removed: boolean }> {
  const result = await ctx.db.deleteFrom('model_prices').where('provider', '=', provider).where('model', '=', model).executeTakeFirst();
  await ctx.changes.publish('model_price', `${provider}:${model}`);
  return { removed: Number(result.numDeletedRows) > 0 };
}

const rate = (value: number | null) => (value === null ? undefined : { base: Number(value) });

/**
 * An override row as the rates calls are priced with. An override prices tokens; the provider
 * still bills its searches, at the catalogue's fee for the model or its list price (search-fees.ts).
 */
const overrideRates = (row: ModelPriceTable): ModelRates => ({
  input: { base: Number(row.input_micro_usd_per_mtok) },
  output: { base: Number(row.output_micro_usd_per_mtok) },
  cachedInput: rate(row.cached_input_micro_usd_per_mtok),
  cacheWrite: rate(row.cache_write_micro_usd_per_mtok),
  webSearch: catalogueRates(row.provider, row.model)?.webSearch ?? webSearchFee(row.provider, undefined),
  source: 'override',
});

/** The rates a call to this model is priced with now (override, else catalogue), or null: no known price. */
export async function lookupModelPrice(db: Kysely<Database>, provider: string, model: string): Promise<ModelRates | null> {
  const row = await db.selectFrom('model_prices').selectAll().where('provider', '=', provider).where('model', '=', model).executeTakeFirst();
  return row ? overrideRates(row) : catalogueRates(provider, model);
}

/** In-memory prices for the hot path: overrides loaded once and reloaded on change, the catalogue behind them. */
export class PriceBook {
  private overrides = new Map<string, ModelRates>();

  private constructor(private readonly db: Kysely<Database>) {}

  static async load(db: Kysely<Database>, changes: ChangeFeed, log?: Logger): Promise<PriceBook> {
    const book = new PriceBook(db);
    await book.reload();
    changes.on('model_price', () => void book.reload().catch((err) => log?.warn({ err }, 'prices could not be reloaded; the next reconcile retries')));
    return book;
  }

  /** Reads every override again (on a change, and every few seconds: a missed change or a failed read still converges). */
  readonly reload = latestReadWins(
    () => this.db.selectFrom('model_prices').selectAll().execute(),
    (rows) => {
      this.overrides = new Map(rows.map((row) => [`${row.provider}\u0000${row.model}`, overrideRates(row)]));
    },
  );

  /** null: no known price (the call is reported as unpriced, never as free). */
  ratesFor(provider: string, model: string): ModelRates | null {
    return this.overrides.get(`${provider}\u0000${model}`) ?? catalogueRates(provider, model);
  }
}
