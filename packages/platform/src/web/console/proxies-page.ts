// /console/proxies and /console/proxies/{id}: the Model Router's entry points. Administrators
// create, rename and delete them and manage each one's confidential OAuth clients; members see
// the proxies they may use, with the id an app needs as LLM_PROXY_ID.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAdmin } from '../../access/actor.js';
import type { AppContext } from '../../app-context.js';
import type { OwnerScope } from '../../db/schema.js';
import { KeywardError } from '../../errors.js';
import { appsConnectedThrough, clientsOfProxy, createClientAs, disableClientAs, rotateClientSecretAs } from '../../oauth/client-management.js';
import { proxyResource } from '../../oauth/paths.js';
import type { LlmProxy } from '../../proxies/llm-proxies.js';
import { allowedModels } from '../../proxies/model-allow-list.js';
import { createProxy, deleteProxy, proxiesFor, proxyFor, renameProxy, setProxyAllowList } from '../../proxies/proxy-management.js';
import { html, type RawHtml } from '../html.js';
import { actionButton, actorOf, csrfField, doneText, fieldError, formFields, formatTime, paginate, pageNumber, renderConsolePage } from './console-page.js';
import { CONSOLE_PATHS } from './paths.js';

const PATH = CONSOLE_PATHS.proxies;
const proxyPath = (id: string) => `${PATH}/${encodeURIComponent(id)}`;

const DONE: Record<string, string> = {
  created: 'Proxy created.',
  renamed: 'Proxy renamed.',
  deleted: 'Proxy deleted.',
  disabled: 'Client disabled: its tokens stop working within seconds.',
  models: 'Allowed models saved; the router applies them within seconds.',
};

const FIELD_OF: Record<string, string> = {
  invalid_name: 'name',
  invalid_scope: 'scope',
  missing_team: 'team',
  team_not_found: 'team',
  missing_user: 'scope',
};

async function teamNames(ctx: AppContext, organizationId: string) {
  const rows = await ctx.db.selectFrom('teams').select(['id', 'name']).where('organization_id', '=', organizationId).orderBy('name').execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}

const ownerText = (p: LlmProxy, teams: Map<string, string>) =>
  p.scope === 'org' ? 'Organization' : p.scope === 'team' ? `Team ${teams.get(p.team_id ?? '') ?? '—'}` : 'Personal';

async function renderList(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, form?: { values: Record<string, string>; errors: Record<string, string> }) {
  const actor = actorOf(request);
  const admin = isAdmin(actor);
  const proxies = await proxiesFor(ctx.db, actor);
  const teams = await teamNames(ctx, actor.organizationId);
  const { rows, pager } = paginate(proxies, pageNumber(request.query), PATH);
  const done = doneText(DONE, (request.query as { done?: string }).done);
  const values = form?.values ?? {};
  const errors = form?.errors ?? {};
  const body = (csrf: string): RawHtml => html`
<h1>LLM proxies</h1>
<p class="lead">An app calls the Model Router at <code>${ctx.config.publicUrl}/v1/model-router/{proxy id}</code>; the proxy id is what it needs as <code>LLM_PROXY_ID</code>.</p>
${done ? html`<div class="notice ok" role="status">${done}</div>` : ''}
${admin
    ? html`<section><h2 id="create-proxy">Create a proxy</h2>
${errors.form ? html`<div class="notice error" role="alert">${errors.form}</div>` : ''}
<form class="stack" method="post" action="${PATH}" novalidate>${csrfField(csrf)}
<label for="name">Name</label><input id="name" name="name" type="text" value="${values.name ?? ''}" maxlength="200">${fieldError('name', errors.name)}
<label for="scope">Scope</label><select id="scope" name="scope">${(['org', 'team'] as OwnerScope[]).map(
        (s) => html`<option value="${s}"${values.scope === s ? ' selected' : ''}>${s}</option>`,
      )}</select>${fieldError('scope', errors.scope)}
<label for="team">Team</label><select id="team" name="team"><option value="">— for team scope —</option>${[...teams].map(
        ([id, name]) => html`<option value="${id}"${values.team === id ? ' selected' : ''}>${name}</option>`,
      )}</select>${fieldError('team', errors.team)}
<button class="primary block" type="submit">Create proxy</button></form></section>`
    : ''}
<section><h2 id="proxy-list">${admin ? 'Proxies of the organization' : 'Proxies you may use'}</h2>
${rows.length === 0
    ? html`<p class="empty">${admin ? 'No proxies yet. Create one above.' : 'No proxy is open to you yet. Ask an administrator.'}</p>`
    : html`<div class="table-wrap"><table><thead><tr><th>Name</th><th>Id (LLM_PROXY_ID)</th><th>Who may use it</th>${admin ? html`<th>Actions</th>` : ''}</tr></thead><tbody>${rows.map(
        (p) => html`<tr data-proxy-id="${p.id}"><td>${admin ? html`<a href="${proxyPath(p.id)}">${p.name}</a>` : p.name}${p.is_default ? html` <span class="badge">default</span>` : ''}</td>
<td><code>${p.id}</code></td><td>${ownerText(p, teams)}</td>${admin
          ? html`<td><div class="row-actions"><a class="button secondary" href="${proxyPath(p.id)}">Open</a>${p.is_default ? '' : actionButton(csrf, `${proxyPath(p.id)}/delete`, 'Delete', { danger: true })}</div></td>`
          : ''}</tr>`,
      )}</tbody></table></div>${pager}`}
</section>`;
  return renderConsolePage(ctx, request, reply, actor, { title: 'LLM proxies', section: 'proxies', body, status: form ? 400 : 200 });
}

async function renderProxy(
  ctx: AppContext,
  request: FastifyRequest<{ Params: { id: string } }>,
  reply: FastifyReply,
  shown?: { client_id: string; client_secret: string; title: string },
  form?: { values: Record<string, string>; errors: Record<string, string> },
) {
  const actor = actorOf(request);
  const proxy = await proxyFor(ctx.db, actor, request.params.id);
  const teams = await teamNames(ctx, actor.organizationId);
  const clients = await clientsOfProxy(ctx.db, actor, proxy.id);
  const apps = await appsConnectedThrough(ctx.db, actor, ctx.config.publicUrl, { id: proxy.id, isDefault: Boolean(proxy.is_default) });
  const done = doneText(DONE, (request.query as { done?: string }).done);
  const base = proxyPath(proxy.id);
  const errors = form?.errors ?? {};
  const body = (csrf: string): RawHtml => html`
<p><a href="${PATH}">← All proxies</a></p>
<h1>${proxy.name}</h1>
<p class="lead">${ownerText(proxy, teams)} · id <code>${proxy.id}</code> · base URL for apps <code>${proxyResource(ctx.config.publicUrl, proxy.id)}</code></p>
${done ? html`<div class="notice ok" role="status">${done}</div>` : ''}
${shown
    ? html`<div class="notice warn" role="status"><strong>${shown.title}</strong> Copy the secret now: it is shown only once.
<label>Client id</label><code class="secret" data-field="client_id">${shown.client_id}</code>
<label>Client secret</label><code class="secret" data-field="client_secret">${shown.client_secret}</code></div>`
    : ''}
<section><h2 id="rename">Rename</h2>
<form class="stack" method="post" action="${base}/rename">${csrfField(csrf)}
<label for="rename-name">New title</label><input id="rename-name" name="name" type="text" value="${form?.values.rename ?? proxy.name}" maxlength="200">${fieldError('rename-name', errors.rename)}
<button class="secondary" type="submit">Rename</button></form></section>
<section><h2 id="models">Allowed models</h2>
<form class="stack" method="post" action="${base}/models">${csrfField(csrf)}
<label for="allowed-models">Allowed models</label>
<textarea id="allowed-models" name="allowed_models" rows="3" aria-describedby="allowed-models-hint">${form?.values.models ?? (allowedModels(proxy) ?? []).join('\n')}</textarea>
<p class="fine" id="allowed-models-hint">One per line: a provider (<code>openai</code>) or one model (<code>openai:gpt-4o-mini</code>). Empty: any model the caller has a key for. Other models get a 403 from the router.</p>
${fieldError('allowed-models', errors.models)}
<button class="secondary" type="submit">Save allowed models</button></form></section>
<section><h2 id="clients">OAuth clients</h2>
<p>Confidential clients get tokens with <code>client_credentials</code> (no user) and may use this proxy with the organization’s keys.</p>
<form class="stack" method="post" action="${base}/clients">${csrfField(csrf)}
<label for="client-name">Name</label><input id="client-name" name="name" type="text" maxlength="200" value="${form?.values.client ?? ''}">${fieldError('client-name', errors.client)}
<button class="primary block" type="submit">Create client</button></form>
${clients.length === 0
    ? html`<p class="empty">No clients yet. Create one for a server or script that calls the router without a user.</p>`
    : html`<div class="table-wrap"><table><thead><tr><th>Name</th><th>Client id</th><th>Created</th><th>Status</th><th>Actions</th></tr></thead><tbody>${clients.map(
        (c) => html`<tr data-client-id="${c.clientId}"><td>${c.name ?? '—'}</td><td><code>${c.clientId}</code></td><td>${formatTime(c.createdAt)}</td>
<td>${c.disabled ? html`<span class="badge off">disabled</span>` : html`<span class="badge on">active</span>`}</td>
<td>${c.disabled
          ? ''
          : html`<div class="row-actions">${actionButton(csrf, `${base}/clients/${encodeURIComponent(c.clientId)}/rotate`, 'Rotate secret')}${actionButton(
              csrf,
              `${base}/clients/${encodeURIComponent(c.clientId)}/disable`,
              'Disable',
              { danger: true },
            )}</div>`}</td></tr>`,
      )}</tbody></table></div>`}
</section>
<section><h2 id="apps">Apps connected through this proxy</h2>
${apps.length === 0
    ? html`<p class="empty">No app has been connected through this proxy yet. An app needs this proxy’s id and Keyward’s address.</p>`
    : html`<div class="table-wrap"><table><thead><tr><th>App</th><th>Redirect hosts</th><th>Users</th><th>Last use</th></tr></thead><tbody>${apps.map(
        (a) => html`<tr><td>${a.name ?? a.clientId}</td><td>${a.redirectHosts.join(', ')}</td><td>${a.users}</td><td>${formatTime(a.lastUsedAt)}</td></tr>`,
      )}</tbody></table></div>`}
</section>
${proxy.is_default
    ? ''
    : html`<section><h2 id="danger">Delete</h2><p>Apps using this proxy stop working.</p>${actionButton(csrf, `${base}/delete`, 'Delete', { danger: true })}</section>`}`;
  return renderConsolePage(ctx, request, reply, actor, { title: proxy.name, section: 'proxies', body, status: form ? 400 : 200 });
}

export async function proxiesPage(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const member = { section: 'proxies' as const };
  const admin = { section: 'proxies' as const, adminOnly: true };
  app.get(PATH, { config: member }, (request, reply) => renderList(ctx, request, reply));

  app.post(PATH, { config: admin }, async (request, reply) => {
    const form = formFields(request.body);
    const scope = (form.scope || 'org') as OwnerScope;
    try {
      const proxy = await createProxy(ctx, actorOf(request), { name: form.name ?? '', scope, teamId: scope === 'team' ? form.team || undefined : undefined });
      return reply.redirect(`${proxyPath(proxy.id)}?done=created`, 303);
    } catch (error) {
      if (!(error instanceof KeywardError) || error.status === 403) throw error;
      return renderList(ctx, request, reply, { values: form, errors: { [FIELD_OF[error.code] ?? 'form']: error.message } });
    }
  });

  app.get<{ Params: { id: string } }>(`${PATH}/:id`, { config: admin }, (request, reply) => renderProxy(ctx, request, reply));

  app.post<{ Params: { id: string } }>(`${PATH}/:id/rename`, { config: admin }, async (request, reply) => {
    const form = formFields(request.body);
    try {
      await renameProxy(ctx, actorOf(request), request.params.id, form.name ?? '');
    } catch (error) {
      if (!(error instanceof KeywardError) || error.code !== 'invalid_name') throw error;
      return renderProxy(ctx, request, reply, undefined, { values: { rename: form.name ?? '' }, errors: { rename: error.message } });
    }
    return reply.redirect(`${proxyPath(request.params.id)}?done=renamed`, 303);
  });

  app.post<{ Params: { id: string } }>(`${PATH}/:id/models`, { config: admin }, async (request, reply) => {
    const form = formFields(request.body);
    try {
      await setProxyAllowList(ctx, actorOf(request), request.params.id, form.allowed_models ?? '');
    } catch (error) {
      if (!(error instanceof KeywardError) || error.code !== 'invalid_allow_list') throw error;
      return renderProxy(ctx, request, reply, undefined, { values: { models: form.allowed_models ?? '' }, errors: { models: error.message } });
    }
    return reply.redirect(`${proxyPath(request.params.id)}?done=models`, 303);
  });

  app.post<{ Params: { id: string } }>(`${PATH}/:id/delete`, { config: admin }, async (request, reply) => {
    await deleteProxy(ctx, actorOf(request), request.params.id);
    return reply.redirect(`${PATH}?done=deleted`, 303);
  });

  // The new secret is shown in this one answer and nowhere else: no redirect that could carry it.
  app.post<{ Params: { id: string } }>(`${PATH}/:id/clients`, { config: admin }, async (request, reply) => {
    const form = formFields(request.body);
    const actor = actorOf(request);
    await proxyFor(ctx.db, actor, request.params.id);
    try {
      const created = await createClientAs(ctx, actor, { name: form.name ?? '', proxyIds: [request.params.id] });
      return renderProxy(ctx, request, reply, { ...created, title: 'Client created.' });
    } catch (error) {
      if (!(error instanceof KeywardError) || error.code !== 'invalid_name') throw error;
      return renderProxy(ctx, request, reply, undefined, { values: { client: form.name ?? '' }, errors: { client: error.message } });
    }
  });

  app.post<{ Params: { id: string; clientId: string } }>(`${PATH}/:id/clients/:clientId/rotate`, { config: admin }, async (request, reply) => {
    const rotated = await rotateClientSecretAs(ctx, actorOf(request), request.params.clientId);
    return renderProxy(ctx, request, reply, { ...rotated, title: 'New secret issued; the old one no longer works.' });
  });

  app.post<{ Params: { id: string; clientId: string } }>(`${PATH}/:id/clients/:clientId/disable`, { config: admin }, async (request, reply) => {
    await disableClientAs(ctx, actorOf(request), request.params.clientId);
    return reply.redirect(`${proxyPath(request.params.id)}?done=disabled`, 303);
  });
}
