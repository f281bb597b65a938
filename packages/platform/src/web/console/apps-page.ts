// /console/apps (administrators): every OAuth app known to the organization, and Block.

import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../app-context.js';
import { appsOfOrganization, disableClientAs } from '../../oauth/client-management.js';
import { html, type RawHtml } from '../html.js';
import { actionButton, actorOf, formatTime, paginate, pageNumber, renderConsolePage } from './console-page.js';
import { CONSOLE_PATHS } from './paths.js';

const PATH = CONSOLE_PATHS.apps;

export async function appsPage(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const config = { section: 'apps' as const, adminOnly: true };
  app.get(PATH, { config }, async (request, reply) => {
    const actor = actorOf(request);
    const apps = await appsOfOrganization(ctx.db, actor, ctx.config.publicUrl);
    const { rows, pager } = paginate(apps, pageNumber(request.query), PATH);
    const blocked = (request.query as { done?: string }).done === 'blocked';
    const body = (csrf: string): RawHtml => html`
<h1>Apps</h1>
<p class="lead">Apps that registered themselves to sign people in, and the confidential clients created on proxies.</p>
${blocked ? html`<div class="notice ok" role="status">App blocked: its tokens stop working within seconds and nobody can connect it again.</div>` : ''}
${rows.length === 0
      ? html`<p class="empty">No app is known yet. Apps appear here when they register with Keyward or when you create a client on a proxy.</p>`
      : html`<div class="table-wrap"><table><thead><tr><th>App</th><th>Kind</th><th>Redirect hosts</th><th>Users connected</th><th>Last use</th><th>Status</th><th>Actions</th></tr></thead><tbody>${rows.map(
          (a) => html`<tr data-client-id="${a.clientId}"><td>${a.name ?? 'Unnamed app'}<div class="fine"><code>${a.clientId}</code></div></td>
<td>${a.kind === 'public' ? 'self-registered' : 'created (confidential)'}</td><td>${a.redirectHosts.join(', ') || '—'}</td><td>${a.users}</td><td>${formatTime(a.lastUsedAt)}</td>
<td>${a.blocked ? html`<span class="badge off">blocked</span>` : html`<span class="badge on">active</span>`}</td>
<td>${a.blocked ? '' : actionButton(csrf, `${PATH}/${encodeURIComponent(a.clientId)}/block`, 'Block', { danger: true })}</td></tr>`,
        )}</tbody></table></div>${pager}`}`;
    return renderConsolePage(ctx, request, reply, actor, { title: 'Apps', section: 'apps', body });
  });
  app.post<{ Params: { id: string } }>(`${PATH}/:id/block`, { config }, async (request, reply) => {
    await disableClientAs(ctx, actorOf(request), request.params.id);
    return reply.redirect(`${PATH}?done=blocked`, 303);
  });
}
