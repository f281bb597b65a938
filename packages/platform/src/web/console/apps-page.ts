// /console/apps (administrators): every OAuth app known to the organization, Block, and the
// default and maximum spending limit users may choose for self-registered apps at consent.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../app-context.js';
import { KeywardError } from '../../errors.js';
import { APP_CAP_PERIODS, readAppCapPolicy, setAppCapPolicy, type AppCap } from '../../limits/app-caps.js';
import { microUsdToString } from '../../usage/call-cost.js';
import { appsOfOrganization, disableClientAs } from '../../oauth/client-management.js';
import { html, type RawHtml } from '../html.js';
import { actionButton, actorOf, csrfField, fieldError, formatTime, formFields, PAGE_SIZE, pageNumber, pagerLinks, renderConsolePage } from './console-page.js';
import { CONSOLE_PATHS } from './paths.js';

const PATH = CONSOLE_PATHS.apps;

interface PolicyForm {
  defaultUsd: string;
  defaultPeriod: string;
  maximumUsd: string;
  maximumPeriod: string;
}

const formOf = (cap: AppCap | null) => ({ usd: cap ? microUsdToString(cap.nanoUsd / 1000) : '', period: cap?.period ?? 'month' });

const periodSelect = (id: string, name: string, value: string) =>
  html`<select id="${id}" name="${name}">${APP_CAP_PERIODS.map((p) => html`<option value="${p}"${p === value ? html` selected` : ''}>${p}</option>`)}</select>`;

/** The policy form; `error` shows what was posted again with the reason it was refused. */
function policySection(csrf: string, form: PolicyForm, saved: boolean, error?: string) {
  return html`<section aria-labelledby="app-limits">
<h2 id="app-limits">Spending limits for self-registered apps</h2>
<p>What a person's “Spending limit for this app” control offers at consent and in Connected apps. The default is preselected;
with a maximum, “No limit” is not offered and higher limits are refused. A per-day limit counts 31 times against a per-month maximum.
Limits people already chose stay as they are.</p>
${saved ? html`<div class="notice ok" role="status">App spending limits saved.</div>` : ''}
<form class="stack" method="post" action="${PATH}/spending-limits">${csrfField(csrf)}
<div class="spending-limit-custom"><div><label for="app-cap-default">Default limit (USD)</label><input type="text" inputmode="decimal" id="app-cap-default" name="default_usd" value="${form.defaultUsd}" placeholder="empty: No limit"${error ? html` aria-describedby="app-cap-error"` : ''}></div>
<div><label for="app-cap-default-period">Default per</label>${periodSelect('app-cap-default-period', 'default_period', form.defaultPeriod)}</div></div>
<div class="spending-limit-custom"><div><label for="app-cap-max">Maximum limit (USD)</label><input type="text" inputmode="decimal" id="app-cap-max" name="maximum_usd" value="${form.maximumUsd}" placeholder="empty: no maximum"${error ? html` aria-describedby="app-cap-error"` : ''}></div>
<div><label for="app-cap-max-period">Maximum per</label>${periodSelect('app-cap-max-period', 'maximum_period', form.maximumPeriod)}</div></div>
${fieldError('app-cap', error)}
<div class="actions"><button class="primary" type="submit">Save app limits</button></div>
</form></section>`;
}

export async function appsPage(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const config = { section: 'apps' as const, adminOnly: true };
  const render = async (request: FastifyRequest, reply: FastifyReply, refused?: { form: PolicyForm; error: string }) => {
    const actor = actorOf(request);
    const page = pageNumber(request.query);
    const { apps: rows, more } = await appsOfOrganization(ctx.db, actor, ctx.config.publicUrl, { limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE });
    const pager = pagerLinks(PATH, page, more);
    const done = (request.query as { done?: string }).done;
    const blocked = done === 'blocked';
    const policy = await readAppCapPolicy(ctx.db, actor.organizationId);
    const current = { default: formOf(policy.defaultCap), maximum: formOf(policy.maximum) };
    const form = refused?.form ?? { defaultUsd: current.default.usd, defaultPeriod: current.default.period, maximumUsd: current.maximum.usd, maximumPeriod: current.maximum.period };
    const body = (csrf: string): RawHtml => html`
<h1>Apps</h1>
<p class="lead">Apps that registered themselves to sign people in, and the confidential clients created on proxies.</p>
${blocked ? html`<div class="notice ok" role="status">App blocked: its tokens stop working within seconds and nobody can connect it again.</div>` : ''}
${rows.length === 0
      ? page > 1
        ? html`<p class="empty">No apps on this page.</p>${pager}`
        : html`<p class="empty">No app is known yet. Apps appear here when they register with Keyward or when you create a client on a proxy.</p>`
      : html`<div class="table-wrap"><table><thead><tr><th>App</th><th>Kind</th><th>Redirect hosts</th><th>Users connected</th><th>Last use</th><th>Status</th><th>Actions</th></tr></thead><tbody>${rows.map(
          (a) => html`<tr data-client-id="${a.clientId}"><td>${a.name ?? 'Unnamed app'}<div class="fine"><code>${a.clientId}</code></div></td>
<td>${a.kind === 'public' ? 'self-registered' : 'created (confidential)'}</td><td>${a.redirectHosts.join(', ') || '—'}</td><td>${a.users}</td><td>${formatTime(a.lastUsedAt)}</td>
<td>${a.blocked ? html`<span class="badge off">blocked</span>` : html`<span class="badge on">active</span>`}</td>
<td>${a.blocked ? '' : actionButton(csrf, `${PATH}/${encodeURIComponent(a.clientId)}/block`, 'Block', { danger: true })}</td></tr>`,
        )}</tbody></table></div>${pager}`}
${policySection(csrf, form, done === 'limits', refused?.error)}`;
    return renderConsolePage(ctx, request, reply, actor, { title: 'Apps', section: 'apps', body, status: refused ? 400 : 200 });
  };
  app.get(PATH, { config }, (request, reply) => render(request, reply));
  app.post(`${PATH}/spending-limits`, { config }, async (request, reply) => {
    const fields = formFields(request.body);
    const form = { defaultUsd: fields.default_usd ?? '', defaultPeriod: fields.default_period ?? 'month', maximumUsd: fields.maximum_usd ?? '', maximumPeriod: fields.maximum_period ?? 'month' };
    try {
      await setAppCapPolicy(ctx, actorOf(request), form);
    } catch (error) {
      if (error instanceof KeywardError && error.status === 400) return render(request, reply, { form, error: error.message });
      throw error;
    }
    return reply.redirect(`${PATH}?done=limits`, 303);
  });
  app.post<{ Params: { id: string } }>(`${PATH}/:id/block`, { config }, async (request, reply) => {
    await disableClientAs(ctx, actorOf(request), request.params.id);
    return reply.redirect(`${PATH}?done=blocked`, 303);
  });
}
