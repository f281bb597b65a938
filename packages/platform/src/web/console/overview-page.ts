// /console: where everyone lands after signing in. The last 30 days of calls and tokens as charts,
// and the top users, apps and models; a member sees their own use, an administrator the
// organization's (the usage service decides). Limits past their alert threshold show as notices.

import type { FastifyInstance } from 'fastify';
import { isAdmin } from '../../access/actor.js';
import type { AppContext } from '../../app-context.js';
import { spendingAlertsFor, type LimitShown } from '../../limits/limit-management.js';
import { DAY_MS, topUsage, usageByDay, usageTotals, type UsageFilter, type UsageRanking } from '../../usage/usage-queries.js';
import { html } from '../html.js';
import { actorOf, formatTime, renderConsolePage } from './console-page.js';
import { CONSOLE_PATHS } from './paths.js';
import { dailyBarChart, dollars, fillDays, totalsList } from './usage-chart.js';

const OVERVIEW_DAYS = 30;

const number = (n: number) => n.toLocaleString('en-US');

function ranking(title: string, rows: UsageRanking[], kind: string) {
  return html`<section class="ranking">
<h2>${title}</h2>
${rows.length === 0
  ? html`<p class="fine">None yet.</p>`
  : html`<table data-top="${kind}">
<thead><tr><th scope="col">${kind === 'user' ? 'User' : kind === 'app' ? 'App' : 'Model'}</th><th scope="col">Calls</th><th scope="col">Tokens in / out</th></tr></thead>
<tbody>${rows.map((r) => html`<tr><td>${r.label}</td><td>${number(r.calls)}</td><td>${number(r.inputTokens)} / ${number(r.outputTokens)}</td></tr>`)}</tbody>
</table>`}
</section>`;
}

/** A limit past its alert threshold this period: shown until the period ends. */
function alertNotice(limit: LimitShown, admin: boolean) {
  const resets = limit.resetsAt ? `it resets at ${formatTime(Date.parse(limit.resetsAt))}` : 'it is a total and does not reset';
  return html`<div class="notice warn" role="status" data-spending-alert="${limit.id}"><strong>Spending alert:</strong> the limit of ${limit.subject} has reached ${limit.alertPercent}% of its amount: ${dollars(limit.spentUsd ?? 0)} of ${dollars(limit.usd ?? 0)} per ${limit.period} spent; ${resets}. ${
    admin ? '' : 'Calls stop when the limit is reached. '
  }<a href="${CONSOLE_PATHS.limits}">${admin ? 'See the limits' : 'See your limits'}</a></div>`;
}

export async function overviewPage(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(CONSOLE_PATHS.overview, { config: { section: 'overview' } }, async (request, reply) => {
    const actor = actorOf(request);
    const admin = isAdmin(actor);
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const filter: UsageFilter = { from: today - (OVERVIEW_DAYS - 1) * DAY_MS, to: today + DAY_MS };
    const [totals, days, users, apps, models, alerts] = await Promise.all([
      usageTotals(ctx.db, actor, filter),
      usageByDay(ctx.db, actor, filter),
      admin ? topUsage(ctx.db, actor, filter, 'user') : Promise.resolve([]),
      topUsage(ctx.db, actor, filter, 'app'),
      topUsage(ctx.db, actor, filter, 'model'),
      spendingAlertsFor(ctx.db, actor),
    ]);
    const filled = fillDays(days, filter);
    const body = () => html`
<h1>Overview</h1>
${alerts.map((limit) => alertNotice(limit, admin))}
<p class="lead">${admin ? "Your organization's" : 'Your'} use of the Model Router over the last ${OVERVIEW_DAYS} days.</p>
${totalsList(totals)}
${totals.calls === 0
  ? html`<p class="empty">No calls in the last ${OVERVIEW_DAYS} days. ${admin
      ? html`Add a provider key under <a href="${CONSOLE_PATHS.keys}">Keys</a>, then connect an app to a proxy from <a href="${CONSOLE_PATHS.proxies}">Proxies</a>.`
      : html`Connect an app with a proxy id from <a href="${CONSOLE_PATHS.proxies}">Proxies</a>, or a command-line tool at <a href="/device">/device</a>.`}</p>`
  : html`
${dailyBarChart(filled, { label: 'Calls', value: (d) => d.calls, className: 'bar-calls' })}
${dailyBarChart(filled, { label: 'Tokens', value: (d) => d.inputTokens + d.outputTokens, className: 'bar-tokens' })}
<div class="rankings">
${admin ? ranking('Top users', users, 'user') : ''}
${ranking('Top apps', apps, 'app')}
${ranking('Top models', models, 'model')}
</div>
<p><a href="${CONSOLE_PATHS.usage}">See every call under Usage</a></p>`}`;
    return renderConsolePage(ctx, request, reply, actor, { title: 'Overview', section: 'overview', body });
  });
}
