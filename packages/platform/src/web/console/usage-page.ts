// /console/usage: the calls in a time range, filtered, with totals, a chart and each call's detail,
// one page of rows at a time; /console/usage.csv the same rows as a file. What the actor may see is
// the usage service's decision (usage-queries.ts), not this page's.

import type { FastifyInstance, FastifyReply } from 'fastify';
import { isAdmin, type Actor } from '../../access/actor.js';
import type { AppContext } from '../../app-context.js';
import { DAY_MS, USAGE_OUTCOMES, listUsage, usageByDay, usageFilterChoices, usageTotals, type UsageFilter, type UsageRow } from '../../usage/usage-queries.js';
import type { UsageOutcome } from '../../usage/usage-record.js';
import { html, type RawHtml } from '../html.js';
import { actorOf, fieldError, formatTime, pageNumber, renderConsolePage } from './console-page.js';
import { CONSOLE_PATHS } from './paths.js';
import { toCsv } from '../csv.js';
import { dailyBarChart, fillDays, totalsList } from './usage-chart.js';

export const USAGE_CSV_PATH = `${CONSOLE_PATHS.usage}.csv`;
const ROWS_PER_PAGE = 50;
/** A range longer than this is refused: the chart and the queries stay bounded. */
const MAX_RANGE_DAYS = 366;
/** The CSV stops here; the page says to narrow the range. */
const CSV_MAX_ROWS = 100_000;
const CSV_BATCH = 5_000;

export const OUTCOME_WORDS: Record<UsageOutcome, string> = {
  ok: 'Answered',
  rejected: 'Refused by Keyward',
  upstream_error: 'Provider error',
  upstream_timeout: 'Provider timed out',
  client_aborted: 'Caller went away',
};

const FILTER_FIELDS = ['user', 'app', 'proxy', 'provider', 'model', 'outcome'] as const;
type FilterField = (typeof FILTER_FIELDS)[number];

export interface UsageQueryForm {
  /** What the form shows, as typed (YYYY-MM-DD dates). */
  values: Record<'from' | 'to' | FilterField, string>;
  filter: UsageFilter;
  errors: Partial<Record<'from' | 'to' | 'outcome', string>>;
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function parseDay(value: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  const ms = Date.parse(`${value}T00:00:00Z`);
  return Number.isNaN(ms) || isoDay(ms) !== value ? undefined : ms;
}

/** Reads the range and filters from a query string; bad values fall back to the defaults, with an error in words. */
export function readUsageQuery(query: unknown, now = Date.now(), defaultDays = 30): UsageQueryForm {
  const q = (query ?? {}) as Record<string, unknown>;
  const text = (name: string) => (typeof q[name] === 'string' ? (q[name] as string).trim().slice(0, 200) : '');
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const errors: UsageQueryForm['errors'] = {};
  let to = today;
  let from = today - (defaultDays - 1) * DAY_MS;
  const toText = text('to');
  const fromText = text('from');
  if (toText) {
    const parsed = parseDay(toText);
    if (parsed === undefined) errors.to = 'Enter a date as YYYY-MM-DD.';
    else to = parsed;
  }
  if (fromText) {
    const parsed = parseDay(fromText);
    if (parsed === undefined) errors.from = 'Enter a date as YYYY-MM-DD.';
    else from = parsed;
  }
  if (!errors.from && !errors.to && from > to) {
    errors.from = 'The start must be on or before the end.';
    from = to - (defaultDays - 1) * DAY_MS;
  }
  if (!errors.from && (to - from) / DAY_MS + 1 > MAX_RANGE_DAYS) {
    errors.from = `Choose at most ${MAX_RANGE_DAYS} days.`;
    from = to - (defaultDays - 1) * DAY_MS;
  }
  const outcomeText = text('outcome');
  let outcome: UsageOutcome | undefined;
  if (outcomeText) {
    if ((USAGE_OUTCOMES as readonly string[]).includes(outcomeText)) outcome = outcomeText as UsageOutcome;
    else errors.outcome = 'Choose one of the listed outcomes.';
  }
  const values = {
    from: errors.from ? isoDay(from) : fromText || isoDay(from),
    to: errors.to ? isoDay(to) : toText || isoDay(to),
    user: text('user'),
    app: text('app'),
    proxy: text('proxy'),
    provider: text('provider'),
    model: text('model'),
    outcome: outcome ?? '',
  };
  const filter: UsageFilter = {
    from,
    to: to + DAY_MS,
    ...(values.user ? { userId: values.user } : {}),
    ...(values.app ? { clientId: values.app } : {}),
    ...(values.proxy ? { proxyId: values.proxy } : {}),
    ...(values.provider ? { provider: values.provider } : {}),
    ...(values.model ? { model: values.model } : {}),
    ...(outcome ? { outcome } : {}),
  };
  return { values, filter, errors };
}

/** The query string of this form (set fields only), optionally for another page. */
function queryString(values: UsageQueryForm['values'], page?: number): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value) params.set(name, value);
  if (page && page > 1) params.set('page', String(page));
  const s = params.toString();
  return s ? `?${s}` : '';
}

const number = (n: number | null) => (n === null ? '—' : n.toLocaleString('en-US'));
const ms = (n: number | null) => (n === null ? '—' : `${n.toLocaleString('en-US')} ms`);

function select(name: string, label: string, current: string, options: Array<{ value: string; label: string }>, anyLabel: string, error?: string) {
  const known = options.some((o) => o.value === current);
  return html`<div class="filter">
<label for="f-${name}">${label}</label>
<select id="f-${name}" name="${name}">
<option value="">${anyLabel}</option>
${current && !known ? html`<option value="${current}" selected>${current}</option>` : ''}
${options.map((o) => html`<option value="${o.value}"${o.value === current ? ' selected' : ''}>${o.label}</option>`)}
</select>
${fieldError(`f-${name}`, error)}
</div>`;
}

function usageTable(rows: UsageRow[], showUser: boolean): RawHtml {
  return html`<div class="table-wrap"><table class="usage">
<thead><tr><th scope="col">Time</th>${showUser ? html`<th scope="col">User</th>` : ''}<th scope="col">App</th><th scope="col">Proxy</th><th scope="col">Model</th><th scope="col">Outcome</th><th scope="col">Tokens in / out</th><th scope="col">Latency</th><th scope="col">First token</th><th scope="col">Request id</th></tr></thead>
<tbody>
${rows.map(
  (r) => html`<tr data-usage-row data-request-id="${r.requestId}">
<td>${formatTime(r.createdAt)}</td>
${showUser ? html`<td>${r.userEmail ?? (r.userId ? 'a removed user' : 'a service')}</td>` : ''}
<td>${r.appName ?? r.clientId ?? '—'}</td>
<td>${r.proxyName ?? r.proxyId ?? '—'}</td>
<td>${r.provider ? `${r.provider}:${r.model ?? ''}` : (r.model ?? '—')}${r.stream ? html` <span class="badge">stream</span>` : ''}</td>
<td><span class="badge ${r.outcome === 'ok' ? 'on' : 'off'}">${OUTCOME_WORDS[r.outcome as UsageOutcome] ?? r.outcome}</span> <span class="fine">${r.status}</span>${r.errorMessage ? html`<div class="fine">${r.errorMessage}</div>` : ''}</td>
<td>${number(r.inputTokens)} / ${number(r.outputTokens)}</td>
<td>${ms(r.latencyMs)}</td>
<td>${ms(r.timeToFirstTokenMs)}</td>
<td><code>${r.requestId}</code></td>
</tr>`,
)}
</tbody>
</table></div>`;
}

async function renderUsagePage(ctx: AppContext, actor: Actor, form: UsageQueryForm, page: number) {
  const admin = isAdmin(actor);
  const offset = (page - 1) * ROWS_PER_PAGE;
  const [totals, days, list, choices] = await Promise.all([
    usageTotals(ctx.db, actor, form.filter),
    usageByDay(ctx.db, actor, form.filter),
    listUsage(ctx.db, actor, form.filter, { limit: ROWS_PER_PAGE, offset }),
    usageFilterChoices(ctx.db, actor, { from: form.filter.from, to: form.filter.to }),
  ]);
  const pages = Math.max(1, Math.ceil(totals.calls / ROWS_PER_PAGE));
  const filled = fillDays(days, form.filter);
  const v = form.values;
  return () => {
    return html`
<h1>Usage</h1>
<p class="lead">${admin ? 'Every Model Router call in your organization' : 'Your Model Router calls'} from ${v.from} to ${v.to} (UTC).</p>
<form class="filters" method="get" action="${CONSOLE_PATHS.usage}">
<div class="filter"><label for="f-from">From</label><input id="f-from" name="from" type="date" value="${v.from}"${form.errors.from ? html` aria-describedby="f-from-error"` : ''}>${fieldError('f-from', form.errors.from)}</div>
<div class="filter"><label for="f-to">To</label><input id="f-to" name="to" type="date" value="${v.to}"${form.errors.to ? html` aria-describedby="f-to-error"` : ''}>${fieldError('f-to', form.errors.to)}</div>
${admin ? select('user', 'User', v.user, choices.users.map((u) => ({ value: u.id, label: u.label })), 'Everyone') : ''}
${select('app', 'App', v.app, choices.apps.map((a) => ({ value: a.id, label: a.label })), 'Every app')}
${select('proxy', 'Proxy', v.proxy, choices.proxies.map((p) => ({ value: p.id, label: p.label })), 'Every proxy')}
${select('provider', 'Provider', v.provider, choices.providers.map((p) => ({ value: p, label: p })), 'Every provider')}
${select('model', 'Model', v.model, choices.models.map((m) => ({ value: m, label: m })), 'Every model')}
${select('outcome', 'Outcome', v.outcome, USAGE_OUTCOMES.map((o) => ({ value: o, label: OUTCOME_WORDS[o] })), 'Any outcome', form.errors.outcome)}
<div class="filter-actions"><button class="primary" type="submit">Show</button> <a href="${CONSOLE_PATHS.usage}">Reset</a></div>
</form>
${totalsList(totals)}
${totals.calls === 0
  ? html`<p class="empty">No calls match. ${admin ? 'Widen the range or clear a filter; calls appear here a second or two after an app makes them.' : 'Connect an app (or a CLI at /device) and use a model through Keyward; its calls appear here a second or two later.'}</p>`
  : html`
${dailyBarChart(filled, { label: 'Calls', value: (d) => d.calls, className: 'bar-calls' })}
${dailyBarChart(filled, { label: 'Tokens', value: (d) => d.inputTokens + d.outputTokens, className: 'bar-tokens' })}
<p><a class="button secondary" href="${USAGE_CSV_PATH}${queryString(v)}">Download CSV</a></p>
${usageTable(list.rows, admin)}
<nav class="pager" aria-label="Pages">
${page > 1 ? html`<a href="${CONSOLE_PATHS.usage}${queryString(v, page - 1)}" rel="prev">Previous</a>` : ''}
<span>Page ${Math.min(page, pages)} of ${pages} · calls ${number(Math.min(offset + 1, totals.calls))}–${number(offset + list.rows.length)} of ${number(totals.calls)}</span>
${list.more ? html`<a href="${CONSOLE_PATHS.usage}${queryString(v, page + 1)}" rel="next">Next</a>` : ''}
</nav>`}`;
  };
}

const CSV_HEADER = [
  'time_utc', 'request_id', 'user', 'app', 'client_id', 'proxy', 'proxy_id', 'endpoint', 'provider', 'model', 'stream',
  'outcome', 'status', 'input_tokens', 'output_tokens', 'cached_tokens', 'reasoning_tokens', 'latency_ms', 'time_to_first_token_ms', 'error',
];

const csvRow = (r: UsageRow) => [
  new Date(r.createdAt).toISOString(), r.requestId, r.userEmail ?? '', r.appName ?? '', r.clientId ?? '', r.proxyName ?? '', r.proxyId ?? '',
  r.endpoint, r.provider ?? '', r.model ?? '', r.stream ? 'true' : 'false', r.outcome, r.status, r.inputTokens, r.outputTokens,
  r.cachedTokens, r.reasoningTokens, r.latencyMs, r.timeToFirstTokenMs, r.errorMessage ?? '',
];

async function sendUsageCsv(ctx: AppContext, actor: Actor, form: UsageQueryForm, reply: FastifyReply) {
  const lines: unknown[][] = [CSV_HEADER];
  for (let offset = 0; offset < CSV_MAX_ROWS; offset += CSV_BATCH) {
    const batch = await listUsage(ctx.db, actor, form.filter, { limit: Math.min(CSV_BATCH, CSV_MAX_ROWS - offset), offset });
    for (const row of batch.rows) lines.push(csvRow(row));
    if (!batch.more) break;
  }
  return reply
    .code(200)
    .header('content-type', 'text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="keyward-usage-${form.values.from}-to-${form.values.to}.csv"`)
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'no-store')
    .send(toCsv(lines));
}

export async function usagePages(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(CONSOLE_PATHS.usage, { config: { section: 'usage' } }, async (request, reply) => {
    const actor = actorOf(request);
    const form = readUsageQuery(request.query);
    const page = pageNumber(request.query);
    const body = await renderUsagePage(ctx, actor, form, page);
    const invalid = Object.keys(form.errors).length > 0;
    return renderConsolePage(ctx, request, reply, actor, { title: 'Usage', section: 'usage', body, status: invalid ? 400 : 200 });
  });

  app.get(USAGE_CSV_PATH, { config: { section: 'usage' } }, async (request, reply) => {
    const actor = actorOf(request);
    const form = readUsageQuery(request.query);
    if (Object.keys(form.errors).length > 0) {
      const body = await renderUsagePage(ctx, actor, form, 1);
      return renderConsolePage(ctx, request, reply, actor, { title: 'Usage', section: 'usage', body, status: 400 });
    }
    return sendUsageCsv(ctx, actor, form, reply);
  });
}
