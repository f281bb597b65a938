// /console/limits: spending and rate limits. Administrators see every limit with this period's
// spend, set and remove them, and choose the rule for models with no known price; members see,
// read-only, the limits that bind their own calls, with what they spent under each.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAdmin } from '../../access/actor.js';
import type { AppContext } from '../../app-context.js';
import { LIMIT_PERIODS } from '../../limits/limit-periods.js';
import { limitsFor, limitSubjectChoices, removeLimitAs, setLimitAs, setUnpricedCallPolicyAs, unpricedCallPolicy, type LimitShown } from '../../limits/limit-management.js';
import { LIMIT_SCOPES, LIMIT_SUBJECT_FIELDS, LimitInputError, type LimitField, type LimitScope } from '../../limits/spending-limits.js';
import { KeywardError } from '../../errors.js';
import { html, type RawHtml } from '../html.js';
import { actionButton, actorOf, csrfField, doneText, fieldError, formFields, formatTime, renderConsolePage } from './console-page.js';
import { CONSOLE_PATHS } from './paths.js';
import { dollars } from './usage-chart.js';

const PATH = CONSOLE_PATHS.limits;

const DONE: Record<string, string> = {
  set: 'Limit set; every instance applies it within a few seconds.',
  removed: 'Limit removed.',
  unpriced: 'Rule for models with no known price saved.',
};

/** The form field each input of the service is entered in. */
const FIELD: Record<LimitField, string> = {
  scope: 'scope',
  teamId: 'team',
  userId: 'user',
  clientId: 'client',
  proxyId: 'proxy',
  usd: 'usd',
  period: 'period',
  requestsPerMinute: 'requests_per_minute',
  tokensPerMinute: 'tokens_per_minute',
  alertPercent: 'alert_percent',
};

interface FormState {
  values: Record<string, string>;
  errors: Record<string, string>;
}

const resets = (l: LimitShown) => (l.usd === null ? '—' : l.resetsAt ? formatTime(Date.parse(l.resetsAt)) : 'never (total)');
const perMinute = (n: number | null) => (n === null ? '—' : n.toLocaleString('en-US'));
const amount = (l: LimitShown) => (l.usd === null ? 'no spending limit' : `${dollars(l.usd)} per ${l.period}`);

function adminTable(csrf: string, limits: LimitShown[]): RawHtml {
  return html`<div class="table-wrap"><table>
<thead><tr><th>Scope</th><th>Subject</th><th>Amount</th><th>Spent this period</th><th>Resets at</th><th>Requests/min</th><th>Tokens/min</th><th>Alert at</th><th>Alerted</th><th>Actions</th></tr></thead>
<tbody>${limits.map(
    (l) => html`<tr data-limit-id="${l.id}"><td>${l.scope}</td><td>${l.subject}</td><td>${amount(l)}</td>
<td>${l.spentUsd === null ? '—' : dollars(l.spentUsd)}</td><td>${resets(l)}</td><td>${perMinute(l.requestsPerMinute)}</td><td>${perMinute(l.tokensPerMinute)}</td>
<td>${l.alertPercent === null ? '—' : `${l.alertPercent}%`}</td><td>${l.alerted ? html`<span class="badge off">alerted</span>` : l.alertPercent === null ? '—' : 'no'}</td>
<td>${actionButton(csrf, `${PATH}/${encodeURIComponent(l.id)}/remove`, 'Remove', { danger: true })}</td></tr>`,
  )}</tbody></table></div>`;
}

function memberTable(limits: LimitShown[]): RawHtml {
  return html`<div class="table-wrap"><table>
<thead><tr><th>Applies to</th><th>Amount</th><th>Your spend this period</th><th>Resets at</th><th>Requests/min</th><th>Tokens/min</th></tr></thead>
<tbody>${limits.map(
    (l) => html`<tr data-limit-id="${l.id}"><td>${l.subject}</td><td>${amount(l)}</td><td>${l.ownSpentUsd === null ? '—' : dollars(l.ownSpentUsd)}</td>
<td>${resets(l)}</td><td>${perMinute(l.requestsPerMinute)}</td><td>${perMinute(l.tokensPerMinute)}</td></tr>`,
  )}</tbody></table></div>`;
}

async function render(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, options: { form?: FormState; unpricedError?: string } = {}) {
  const actor = actorOf(request);
  const admin = isAdmin(actor);
  const limits = await limitsFor(ctx.db, actor);
  const done = doneText(DONE, (request.query as { done?: string }).done);
  const title = admin ? 'Spending and rate limits' : 'Your limits';
  if (!admin) {
    const body = (): RawHtml => html`
<h1>${title}</h1>
<p class="lead">The limits that apply to your calls. A call a budget cannot pay for is refused before it reaches the provider; the tightest limit wins.</p>
${limits.length === 0 ? html`<p class="empty">No limit applies to your calls.</p>` : memberTable(limits)}
<p class="fine">For limits shared with others (the organization’s, a team’s, a proxy’s), “your spend” counts your own calls only. Ask an administrator to change a limit.</p>`;
    return renderConsolePage(ctx, request, reply, actor, { title, section: 'limits', body });
  }
  const [choices, policy] = await Promise.all([limitSubjectChoices(ctx.db, actor), unpricedCallPolicy(ctx.db, actor)]);
  const values = options.form?.values ?? {};
  const errors = options.form?.errors ?? {};
  const option = (name: string, value: string, text: string) => html`<option value="${value}"${values[name] === value ? ' selected' : ''}>${text}</option>`;
  const body = (csrf: string): RawHtml => html`
<h1>${title}</h1>
<p class="lead">Every call is checked against every limit that applies to it, before it reaches the provider; the tightest wins. Periods follow the UTC calendar.</p>
${done ? html`<div class="notice ok" role="status">${done}</div>` : ''}
<section><h2 id="limit-list">Limits of the organization</h2>
${limits.length === 0 ? html`<p class="empty">No limits yet. Set one below.</p>` : adminTable(csrf, limits)}
</section>
<section><h2 id="set-limit">Set a limit</h2>
<p class="fine">One limit per subject: setting a limit for a subject that has one replaces it. Fill in the subject field the scope needs (Team for team, User for user, User and Client for app, Client for client, Proxy for proxy); the others are ignored.</p>
${errors.form ? html`<div class="notice error" role="alert">${errors.form}</div>` : ''}
<form class="stack" method="post" action="${PATH}" novalidate>${csrfField(csrf)}
<label for="scope">Scope</label><select id="scope" name="scope">${LIMIT_SCOPES.map((s) => option('scope', s, s))}</select>${fieldError('scope', errors.scope)}
<label for="team">Team</label><select id="team" name="team"><option value="">— for team scope —</option>${choices.teams.map((t) => option('team', t.id, t.name))}</select>${fieldError('team', errors.team)}
<label for="user">User</label><input id="user" name="user" type="email" autocomplete="off" placeholder="email, for user and app scope" value="${values.user ?? ''}">${fieldError('user', errors.user)}
<label for="client">Client</label><select id="client" name="client"><option value="">— for app and client scope —</option>${choices.clients.map((c) => option('client', c.id, `${c.name} (${c.id})`))}</select>${fieldError('client', errors.client)}
<label for="proxy">Proxy</label><select id="proxy" name="proxy"><option value="">— for proxy scope —</option>${choices.proxies.map((p) => option('proxy', p.id, p.name))}</select>${fieldError('proxy', errors.proxy)}
<label for="usd">Amount (USD)</label><input id="usd" name="usd" type="text" inputmode="decimal" placeholder="e.g. 50 or 0.05; empty for a rate limit only" value="${values.usd ?? ''}">${fieldError('usd', errors.usd)}
<label for="period">Period</label><select id="period" name="period">${LIMIT_PERIODS.map((p) => option('period', p, p))}</select>${fieldError('period', errors.period)}
<label for="requests_per_minute">Requests per minute</label><input id="requests_per_minute" name="requests_per_minute" type="text" inputmode="numeric" placeholder="optional" value="${values.requests_per_minute ?? ''}">${fieldError('requests_per_minute', errors.requests_per_minute)}
<label for="tokens_per_minute">Tokens per minute</label><input id="tokens_per_minute" name="tokens_per_minute" type="text" inputmode="numeric" placeholder="optional" value="${values.tokens_per_minute ?? ''}">${fieldError('tokens_per_minute', errors.tokens_per_minute)}
<label for="alert_percent">Alert at (%)</label><input id="alert_percent" name="alert_percent" type="text" inputmode="numeric" placeholder="optional, e.g. 80" value="${values.alert_percent ?? ''}" aria-describedby="alert_percent-hint">
<p class="fine" id="alert_percent-hint">When this period’s spend reaches this share of the amount: an entry in the audit log and a notice on the overview, once per period.</p>${fieldError('alert_percent', errors.alert_percent)}
<button class="primary block" type="submit">Set limit</button></form></section>
<section><h2 id="unpriced">Models with no known price</h2>
<p class="fine">A spending limit cannot hold a call whose cost it cannot see. Refuse (the default) answers such calls with 402 while a spending limit applies; allow lets them run, their spend counting as 0. Without a spending limit they always run.</p>
<form class="stack" method="post" action="${PATH}/unpriced" novalidate>${csrfField(csrf)}
<label for="unpriced_calls">Calls to unpriced models under a spending limit</label><select id="unpriced_calls" name="policy">${(['refuse', 'allow'] as const).map(
    (p) => html`<option value="${p}"${policy === p ? ' selected' : ''}>${p}</option>`,
  )}</select>${fieldError('unpriced_calls', options.unpricedError)}
<button class="secondary" type="submit">Save rule</button></form></section>`;
  return renderConsolePage(ctx, request, reply, actor, { title, section: 'limits', body, status: options.form || options.unpricedError ? 400 : 200 });
}

/** A form number: empty is "not set"; anything else goes to the service, which says what is wrong with it. */
const count = (value: string | undefined) => (value?.trim() ? Number(value.trim()) : undefined);

export async function limitsPage(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const everyone = { section: 'limits' as const };
  const admin = { section: 'limits' as const, adminOnly: true };
  app.get(PATH, { config: everyone }, (request, reply) => render(ctx, request, reply));

  app.post(PATH, { config: admin }, async (request, reply) => {
    const form = formFields(request.body);
    const scope = form.scope ?? '';
    const needs = new Set<LimitField>(Object.hasOwn(LIMIT_SUBJECT_FIELDS, scope) ? LIMIT_SUBJECT_FIELDS[scope as LimitScope] : []);
    // Only the subject fields this scope takes: a team left selected from an earlier try is not an error.
    const subject = (field: LimitField, value: string | undefined) => (needs.has(field) && value?.trim() ? value.trim() : undefined);
    const usd = form.usd?.trim() || undefined;
    try {
      await setLimitAs(ctx, actorOf(request), {
        scope: scope as LimitScope,
        teamId: subject('teamId', form.team),
        userEmail: subject('userId', form.user),
        clientId: subject('clientId', form.client),
        proxyId: subject('proxyId', form.proxy),
        usd,
        period: usd ? form.period : undefined,
        requestsPerMinute: count(form.requests_per_minute),
        tokensPerMinute: count(form.tokens_per_minute),
        alertPercent: count(form.alert_percent),
      });
    } catch (error) {
      if (!(error instanceof LimitInputError)) throw error;
      return render(ctx, request, reply, { form: { values: form, errors: { [FIELD[error.field]]: error.message } } });
    }
    return reply.redirect(`${PATH}?done=set`, 303);
  });

  app.post<{ Params: { id: string } }>(`${PATH}/:id/remove`, { config: admin }, async (request, reply) => {
    await removeLimitAs(ctx, actorOf(request), request.params.id);
    return reply.redirect(`${PATH}?done=removed`, 303);
  });

  app.post(`${PATH}/unpriced`, { config: admin }, async (request, reply) => {
    try {
      await setUnpricedCallPolicyAs(ctx, actorOf(request), formFields(request.body).policy ?? '');
    } catch (error) {
      if (!(error instanceof KeywardError) || error.status !== 400) throw error;
      return render(ctx, request, reply, { unpricedError: error.message });
    }
    return reply.redirect(`${PATH}?done=unpriced`, 303);
  });
}
