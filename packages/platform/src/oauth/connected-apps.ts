// "Connected apps": the apps a signed-in user granted, each with its recent use, its spend against the
// spending limit the user chose (which they can change here), and a Revoke button that ends the grant,
// every token it issued, its spending limit, and (through the change feed) its access tokens at every router.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app-context.js';
import { CSRF_FIELD, issueCsrfToken, verifyCsrfToken } from '../accounts/csrf.js';
import { userActor } from '../accounts/actors.js';
import { ACCOUNT_PATH, currentUser, signInUrl } from '../accounts/sign-in-routes.js';
import { recordAudit } from '../audit/audit-log.js';
import { KeywardError } from '../errors.js';
import { appCapsOfUser, capOptions, changeAppCap, readAppCapPolicy } from '../limits/app-caps.js';
import { DAY_MS, usageByApp, type UsageTotals } from '../usage/usage-queries.js';
import { html } from '../web/html.js';
import { layout, sendPage } from '../web/layout.js';
import { capFields, capSpendText, spendingLimitControl, type CapFormValues } from './spending-limit-control.js';
import { revokeGrant } from './grant-revocation.js';
import { SCOPE_DESCRIPTIONS } from './interactions.js';
import { CONNECTED_APPS_PATH } from './paths.js';
import type { RevocationState } from './resource-server.js';
import './tables.js';

export interface ConnectedApp {
  grantId: string;
  clientId: string;
  name: string;
  scopes: string[];
  grantedAt: number;
  lastUsedAt: number | null;
}

export async function listConnectedApps(ctx: AppContext, userId: string): Promise<ConnectedApp[]> {
  const rows = await ctx.db
    .selectFrom('oauth_payloads')
    .leftJoin('oauth_clients', 'oauth_clients.client_id', 'oauth_payloads.client_id')
    .select(['oauth_payloads.id', 'oauth_payloads.payload', 'oauth_payloads.last_used_at', 'oauth_payloads.client_id', 'oauth_clients.name'])
    .where('oauth_payloads.model', '=', 'Grant')
    .where('oauth_payloads.account_id', '=', userId)
    .where((eb) => eb.or([eb('oauth_payloads.expires_at', 'is', null), eb('oauth_payloads.expires_at', '>', Date.now())]))
    .execute();
  return rows
    .map((row) => {
      const payload = JSON.parse(row.payload) as { iat?: number; openid?: { scope?: string }; resources?: Record<string, string> };
      const scopes = new Set<string>();
      for (const s of (payload.openid?.scope ?? '').split(' ')) if (s) scopes.add(s);
      for (const value of Object.values(payload.resources ?? {})) for (const s of value.split(' ')) if (s) scopes.add(s);
      return {
        grantId: row.id,
        clientId: row.client_id ?? '',
        name: row.name || row.client_id || 'Unknown app',
        scopes: [...scopes],
        grantedAt: (payload.iat ?? 0) * 1000,
        lastUsedAt: row.last_used_at,
      };
    })
    .sort((a, b) => b.grantedAt - a.grantedAt);
}

/** Marks a grant used (called when a token is issued from it, not on every router call). */
export async function touchGrant(ctx: AppContext, grantId: string): Promise<void> {
  await ctx.db.updateTable('oauth_payloads').set({ last_used_at: Date.now() }).where('model', '=', 'Grant').where('id', '=', grantId).execute();
}

const RECENT_USAGE_DAYS = 30;

function recentUsage(totals: UsageTotals | undefined): string {
  if (!totals?.calls) return `No calls in the last ${RECENT_USAGE_DAYS} days.`;
  const n = (x: number) => x.toLocaleString('en-US');
  const failed = totals.failed ? ` (${n(totals.failed)} failed)` : '';
  return `Last ${RECENT_USAGE_DAYS} days: ${n(totals.calls)} ${totals.calls === 1 ? 'call' : 'calls'}${failed}, ${n(totals.inputTokens)} tokens in / ${n(totals.outputTokens)} out.`;
}

const when = (ms: number | null) => (ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : 'never');

const refusedPage = (reply: FastifyReply, what: string) =>
  sendPage(
    reply,
    layout({ title: 'Request refused', body: html`<h1>Request refused</h1><div class="notice error" role="alert">That request did not come from this site. ${what}</div><p><a href="${CONNECTED_APPS_PATH}">Back to connected apps</a></p>` }),
    { status: 403 },
  );

export async function connectedAppsRoutes(app: FastifyInstance, ctx: AppContext, revocations: RevocationState): Promise<void> {
  /** The page; `refused` shows one app's limit form again with its error (400). */
  const render = async (request: FastifyRequest, reply: FastifyReply, user: { id: string; email: string }, refused?: { clientId: string; error: string; posted: CapFormValues }) => {
    const apps = await listConnectedApps(ctx, user.id);
    // Each app's recent use by this person (their own calls, whatever their role).
    const actor = await userActor(ctx.db, user, request.ip);
    const since = Date.now() - RECENT_USAGE_DAYS * DAY_MS;
    const usage = actor ? await usageByApp(ctx.db, actor, { from: since, to: Date.now() + 1, userId: user.id }) : new Map<string, UsageTotals>();
    const policy = actor ? await readAppCapPolicy(ctx.db, actor.organizationId) : undefined;
    const caps = actor ? await appCapsOfUser(ctx.db, actor.organizationId, user.id, apps.map((a) => a.clientId)) : undefined;
    const saved = (request.query as { saved?: string } | undefined)?.saved;
    const csrf = issueCsrfToken(ctx, request, reply);
    const body = html`
<h1>Connected apps</h1>
<p class="lead">Apps you allowed to use Keyward as you. Revoking one signs it out everywhere within seconds.</p>
${saved ? html`<div class="notice ok" role="status">Spending limit saved. It applies to the app's next call.</div>` : ''}
${apps.length === 0 ? html`<p>No apps are connected.</p>` : ''}
<ul class="apps">
${apps.map((a, i) => {
  const state = caps?.get(a.clientId);
  const options = policy && state ? capOptions(policy, state.cap) : undefined;
  const error = refused?.clientId === a.clientId ? refused : undefined;
  return html`<li class="connected-app" data-grant="${a.grantId}" data-client-id="${a.clientId}">
  <h2>${a.name}</h2>
  <ul class="app-scopes">${a.scopes.map((s) => html`<li>${SCOPE_DESCRIPTIONS[s] ?? s}</li>`)}</ul>
  <p class="fine">Allowed ${when(a.grantedAt)} · last used ${when(a.lastUsedAt)}</p>
  <p class="fine" data-app-usage>${recentUsage(usage.get(a.clientId))}</p>
  ${state ? html`<p class="fine" data-app-spend>${capSpendText(state)}</p>` : ''}
  ${policy && options
    ? html`<form class="app-limit" method="post" action="${CONNECTED_APPS_PATH}/limit">
    <input type="hidden" name="${CSRF_FIELD}" value="${csrf}">
    <input type="hidden" name="client_id" value="${a.clientId}">
    ${spendingLimitControl({ id: `spending-limit-${i}`, options: options.options, selected: options.selected, policy, error: error?.error, posted: error?.posted })}
    <button class="secondary" type="submit">Save limit</button>
  </form>`
    : ''}
  <form class="app-revoke" method="post" action="${CONNECTED_APPS_PATH}/revoke">
    <input type="hidden" name="${CSRF_FIELD}" value="${csrf}">
    <input type="hidden" name="grant_id" value="${a.grantId}">
    <button class="secondary" type="submit" aria-label="Revoke ${a.name}">Revoke</button>
  </form>
</li>`;
})}
</ul>
<p><a href="${ACCOUNT_PATH}">Back to your account</a></p>`;
    return sendPage(reply, layout({ title: 'Connected apps', body, wide: true }), { status: refused ? 400 : 200 });
  };

  app.get(CONNECTED_APPS_PATH, async (request, reply) => {
    const user = await currentUser(ctx, request);
    if (!user) return reply.redirect(signInUrl(CONNECTED_APPS_PATH), 303);
    return render(request, reply, user);
  });

  app.post<{ Body: Record<string, unknown> }>(`${CONNECTED_APPS_PATH}/limit`, async (request, reply) => {
    const form = (request.body ?? {}) as Record<string, unknown>;
    const user = await currentUser(ctx, request);
    if (!user) return reply.redirect(signInUrl(CONNECTED_APPS_PATH), 303);
    if (!verifyCsrfToken(ctx, request, form[CSRF_FIELD])) return refusedPage(reply, 'The spending limit was not changed.');
    const clientId = typeof form.client_id === 'string' ? form.client_id : '';
    const actor = await userActor(ctx.db, user, request.ip);
    try {
      if (!actor) throw new KeywardError('forbidden', 'Your account is not a member of this organization.', 403);
      await changeAppCap(ctx, actor, { userId: user.id, clientId, fields: capFields(form) });
    } catch (error) {
      if (!(error instanceof KeywardError)) throw error;
      if (error.status !== 400) {
        return sendPage(
          reply,
          layout({ title: 'Not changed', body: html`<h1>Not changed</h1><div class="notice error" role="alert">${error.message}</div><p><a href="${CONNECTED_APPS_PATH}">Back to connected apps</a></p>` }),
          { status: error.status },
        );
      }
      return render(request, reply, user, { clientId, error: error.message, posted: capFields(form) });
    }
    return reply.redirect(`${CONNECTED_APPS_PATH}?saved=1`, 303);
  });

  app.post<{ Body: { grant_id?: unknown; [CSRF_FIELD]?: unknown } }>(`${CONNECTED_APPS_PATH}/revoke`, async (request, reply) => {
    const form = (request.body ?? {}) as { grant_id?: unknown; [CSRF_FIELD]?: unknown };
    const user = await currentUser(ctx, request);
    if (!user) return reply.redirect(signInUrl(CONNECTED_APPS_PATH), 303);
    if (!verifyCsrfToken(ctx, request, form[CSRF_FIELD])) return refusedPage(reply, 'Nothing was revoked.');
    const grantId = typeof form.grant_id === 'string' ? form.grant_id : '';
    const owned = await ctx.db
      .selectFrom('oauth_payloads')
      .leftJoin('oauth_clients', 'oauth_clients.client_id', 'oauth_payloads.client_id')
      .select(['oauth_payloads.id', 'oauth_payloads.client_id', 'oauth_clients.name'])
      .where('oauth_payloads.model', '=', 'Grant')
      .where('oauth_payloads.id', '=', grantId)
      .where('oauth_payloads.account_id', '=', user.id)
      .executeTakeFirst();
    if (owned) {
      await revokeGrant(ctx, revocations, grantId);
      request.log.info({ event: 'oauth_grant_revoked', userId: user.id, grantId }, 'connected app revoked');
      const actor = await userActor(ctx.db, user, request.ip);
      if (actor) await recordAudit(ctx.db, actor, { action: 'app.revoked', targetKind: 'oauth_client', targetId: owned.client_id, targetLabel: owned.name, detail: `grant ${grantId} of ${user.email}` });
    }
    return reply.redirect(CONNECTED_APPS_PATH, 303);
  });
}
