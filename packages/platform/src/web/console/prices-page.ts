// /console/prices: price overrides per provider and model, and what any model costs now.
// Administrators set and remove overrides; members read the same page (prices are not secret and
// explain their spend) without the forms.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAdmin } from '../../access/actor.js';
import type { AppContext } from '../../app-context.js';
import { listProviderAdapters } from '../../providers/registry.js';
import { listModelPrices, PriceInputError, type PriceField } from '../../usage/model-prices.js';
import { effectiveModelPrice, removeModelPriceAs, setModelPriceAs, type EffectivePrice } from '../../usage/price-management.js';
import { html, type RawHtml } from '../html.js';
import { actionButton, actorOf, csrfField, doneText, fieldError, formFields, formatTime, renderConsolePage } from './console-page.js';
import { CONSOLE_PATHS } from './paths.js';

const PATH = CONSOLE_PATHS.prices;

const DONE: Record<string, string> = {
  set: 'Price saved; every instance prices calls with it within about a second.',
  removed: 'Override removed; the bundled catalogue prices that model again, if it knows it.',
};

const FIELD: Record<PriceField, string> = {
  provider: 'provider',
  model: 'model',
  inputUsdPerMtok: 'input_usd',
  outputUsdPerMtok: 'output_usd',
  cachedInputUsdPerMtok: 'cache_read_usd',
  cacheWriteUsdPerMtok: 'cache_write_usd',
};

interface FormState {
  values: Record<string, string>;
  errors: Record<string, string>;
}

/** "openai:gpt-4o-mini" → provider and model; the model may itself contain colons (ft:…). */
function splitModelId(value: string): { provider: string; model: string } | null {
  const at = value.indexOf(':');
  if (at < 1 || at === value.length - 1) return null;
  return { provider: value.slice(0, at).trim(), model: value.slice(at + 1).trim() };
}

function lookupResult(price: EffectivePrice): RawHtml {
  const name = `${price.provider}:${price.model}`;
  if (price.source === null) {
    return html`<div class="notice warn" role="status" data-price-lookup="none"><strong>${name}</strong>: no known price. Its calls are recorded as unpriced (never as free); under a spending limit they follow the rule on the Limits page. Set an override below to price it.</div>`;
  }
  const parts = [
    `$${price.inputUsdPerMtok} in`,
    `$${price.outputUsdPerMtok} out`,
    price.cachedInputUsdPerMtok === null ? null : `$${price.cachedInputUsdPerMtok} cache read`,
    price.cacheWriteUsdPerMtok === null ? null : `$${price.cacheWriteUsdPerMtok} cache write`,
  ].filter(Boolean);
  return html`<div class="notice ok" role="status" data-price-lookup="${price.source}"><strong>${name}</strong>: ${parts.join(', ')} per million tokens, from ${price.source === 'override' ? 'an override set here' : 'the bundled catalogue'}.${price.tiers.length ? ` Long-context rates: ${price.tiers.join('; ')}.` : ''}</div>`;
}

async function render(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, form?: FormState) {
  const actor = actorOf(request);
  const admin = isAdmin(actor);
  const prices = await listModelPrices(ctx.db);
  const query = request.query as { done?: string; price_of?: string };
  const done = doneText(DONE, query.done);
  const asked = typeof query.price_of === 'string' ? query.price_of.trim() : '';
  const split = asked ? splitModelId(asked) : null;
  const lookup = split ? await effectiveModelPrice(ctx.db, split.provider, split.model) : null;
  const values = form?.values ?? {};
  const errors = form?.errors ?? {};
  const input = (id: string, label: string, hint?: string) =>
    html`<label for="${id}">${label}</label><input id="${id}" name="${id}" type="text" inputmode="decimal" autocomplete="off" value="${values[id] ?? ''}"${hint ? html` placeholder="${hint}"` : ''}>${fieldError(id, errors[id])}`;
  const body = (csrf: string): RawHtml => html`
<h1>Prices</h1>
<p class="lead">Every call is priced when it is metered: by an override set here for its provider and model, else by the bundled catalogue (<code>@pydantic/genai-prices</code>), else it has no known price. Prices are USD per million tokens.</p>
${done ? html`<div class="notice ok" role="status">${done}</div>` : ''}
<section><h2 id="lookup">What a model costs</h2>
<form class="stack" method="get" action="${PATH}">
<label for="price_of">Price of</label><input id="price_of" name="price_of" type="text" spellcheck="false" placeholder="provider:model, e.g. openai:gpt-4o-mini" value="${asked}">
${asked && !split ? html`<p class="field-error" id="price_of-error" role="alert">Write it as provider:model, e.g. openai:gpt-4o-mini.</p>` : ''}
<button class="secondary" type="submit">Look up</button></form>
${lookup ? lookupResult(lookup) : ''}
</section>
<section><h2 id="overrides">Overrides</h2>
${prices.length === 0
    ? html`<p class="empty">No overrides: every model is priced from the bundled catalogue.${admin ? ' Set one below for self-hosted or fine-tuned models, or negotiated prices; 0 is a price (free).' : ''}</p>`
    : html`<div class="table-wrap"><table><thead><tr><th>Provider</th><th>Model</th><th>Input</th><th>Output</th><th>Cache read</th><th>Cache write</th><th>Updated</th>${admin ? html`<th>Actions</th>` : ''}</tr></thead><tbody>${prices.map(
        (p) => html`<tr data-price="${p.provider}:${p.model}"><td>${p.provider}</td><td><code>${p.model}</code></td><td>$${p.inputUsdPerMtok}</td><td>$${p.outputUsdPerMtok}</td>
<td>${p.cachedInputUsdPerMtok === null ? '— (input rate)' : `$${p.cachedInputUsdPerMtok}`}</td><td>${p.cacheWriteUsdPerMtok === null ? '— (input rate)' : `$${p.cacheWriteUsdPerMtok}`}</td>
<td>${formatTime(Date.parse(p.updatedAt))}</td>${admin ? html`<td>${actionButton(csrf, `${PATH}/remove`, 'Remove', { danger: true, fields: { provider: p.provider, model: p.model } })}</td>` : ''}</tr>`,
      )}</tbody></table></div>`}
</section>
${admin
    ? html`<section><h2 id="set-price">Set a price</h2>
${errors.form ? html`<div class="notice error" role="alert">${errors.form}</div>` : ''}
<form class="stack" method="post" action="${PATH}" novalidate>${csrfField(csrf)}
<label for="provider">Provider</label><select id="provider" name="provider">${listProviderAdapters().map(
        (p) => html`<option value="${p.id}"${values.provider === p.id ? ' selected' : ''}>${p.displayName}</option>`,
      )}</select>${fieldError('provider', errors.provider)}
<label for="model">Model</label><input id="model" name="model" type="text" spellcheck="false" autocomplete="off" placeholder="the model id the provider uses, e.g. llama3.2" value="${values.model ?? ''}">${fieldError('model', errors.model)}
${input('input_usd', 'Input USD per million tokens', 'e.g. 0.15; 0 is free')}
${input('output_usd', 'Output USD per million tokens', 'e.g. 0.6')}
${input('cache_read_usd', 'Cache read USD per million tokens', 'optional; empty: the input rate')}
${input('cache_write_usd', 'Cache write USD per million tokens', 'optional; empty: the input rate')}
<button class="primary block" type="submit">Set price</button></form></section>`
    : html`<p class="fine">Administrators set overrides.</p>`}`;
  return renderConsolePage(ctx, request, reply, actor, { title: 'Prices', section: 'prices', body, status: form ? 400 : 200 });
}

export async function pricesPage(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const everyone = { section: 'prices' as const };
  const admin = { section: 'prices' as const, adminOnly: true };
  app.get(PATH, { config: everyone }, (request, reply) => render(ctx, request, reply));

  app.post(PATH, { config: admin }, async (request, reply) => {
    const form = formFields(request.body);
    try {
      await setModelPriceAs(ctx, actorOf(request), {
        provider: form.provider ?? '',
        model: form.model ?? '',
        inputUsdPerMtok: form.input_usd ?? '',
        outputUsdPerMtok: form.output_usd ?? '',
        cachedInputUsdPerMtok: form.cache_read_usd?.trim() || undefined,
        cacheWriteUsdPerMtok: form.cache_write_usd?.trim() || undefined,
      });
    } catch (error) {
      if (!(error instanceof PriceInputError)) throw error;
      return render(ctx, request, reply, { values: form, errors: { [FIELD[error.field]]: error.message } });
    }
    return reply.redirect(`${PATH}?done=set`, 303);
  });

  app.post(`${PATH}/remove`, { config: admin }, async (request, reply) => {
    const form = formFields(request.body);
    await removeModelPriceAs(ctx, actorOf(request), form.provider ?? '', form.model ?? '');
    return reply.redirect(`${PATH}?done=removed`, 303);
  });
}
