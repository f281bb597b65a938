// /console/audit (administrators): admin and security events, newest first, a page at a time.

import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../app-context.js';
import { listAudit } from '../../audit/audit-log.js';
import { html, type RawHtml } from '../html.js';
import { actorOf, formatTime, PAGE_SIZE, pageNumber, pagerLinks, renderConsolePage } from './console-page.js';
import { CONSOLE_PATHS } from './paths.js';

const PATH = CONSOLE_PATHS.audit;

export async function auditPage(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(PATH, { config: { section: 'audit', adminOnly: true } }, async (request, reply) => {
    const actor = actorOf(request);
    const page = pageNumber(request.query);
    const { entries, more } = await listAudit(ctx.db, actor, { limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE });
    const body = (): RawHtml => html`
<h1>Audit log</h1>
<p class="lead">Who changed keys, proxies, clients, apps, users, teams, limits and prices, when, and from where; and spending alerts. Secrets are never recorded.</p>
${entries.length === 0
      ? html`<p class="empty">Nothing recorded yet. Changes made in this console or with the admin CLI appear here.</p>`
      : html`<div class="table-wrap"><table><thead><tr><th>Time</th><th>Actor</th><th>Source IP</th><th>Action</th><th>Target</th><th>Detail</th></tr></thead><tbody>${entries.map(
          (e) => html`<tr data-audit-row><td>${formatTime(e.created_at)}</td><td>${e.actor_label}</td><td>${e.source_ip ?? '—'}</td><td><code>${e.action}</code></td>
<td>${e.target_label ?? e.target_id ?? '—'}<div class="fine">${e.target_kind}</div></td><td>${e.detail ?? ''}</td></tr>`,
        )}</tbody></table></div>`}
${pagerLinks(PATH, page, more)}`;
    return renderConsolePage(ctx, request, reply, actor, { title: 'Audit log', section: 'audit', body });
  });
}
