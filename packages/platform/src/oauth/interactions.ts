// The pages between /authorize and the app's redirect: login (Keyward's own sign-in) and consent.
// oidc-provider sends the browser to /api/auth/oauth2/interaction/:uid; we finish each prompt with
// interactionResult and answer 303 to where it says.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { InteractionDetails } from 'oidc-provider';
import type { AppContext } from '../app-context.js';
import { CSRF_FIELD, issueCsrfToken, verifyCsrfToken } from '../accounts/csrf.js';
import { userActor } from '../accounts/actors.js';
import { requirePrimaryOrganization } from '../accounts/organizations.js';
import { currentUser, signInUrl } from '../accounts/sign-in-routes.js';
import { KeywardError } from '../errors.js';
import { applyConsentCap, capOptions, checkConsentCap, findAppCap, readAppCapPolicy, type AppCap } from '../limits/app-caps.js';
import { html } from '../web/html.js';
import { layout, sendPage } from '../web/layout.js';
import { capFields, spendingLimitControl, type CapFormValues } from './spending-limit-control.js';
import { findClientRecord } from './clients.js';
import { INTERACTION_PATH, LLM_PROXY_SCOPE, OFFLINE_ACCESS_SCOPE, interactionPath, parseRouterResource } from './paths.js';

/** Each scope in plain words, as the consent page shows it. */
export const SCOPE_DESCRIPTIONS: Record<string, string> = {
  [LLM_PROXY_SCOPE]: "Use models through this organization's LLM proxies, billed to you",
  [OFFLINE_ACCESS_SCOPE]: 'Stay connected when you are away',
  openid: 'Know your Keyward account id',
};

function errorPage(reply: FastifyReply, status: number, title: string, message: string) {
  return sendPage(
    reply,
    layout({ title, body: html`<h1>${title}</h1><div class="notice error" role="alert">${message}</div><p>Go back to the app and start again.</p>` }),
    { status },
  );
}

const originOf = (uri: unknown) => {
  try {
    return typeof uri === 'string' ? new URL(uri).origin : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Whether Keyward's sign-in (at `signedInAt`, ms) answers the login the app asked for: any sign-in,
 * unless it asked for a fresh one (`prompt=login`) or for one at most `max_age` seconds old. A
 * sign-in made since this request began answers both (oidc-provider stamps the request's start in
 * whole seconds, so a sign-in within that second counts as made for it).
 */
export function signedInRecentlyEnough(interaction: Pick<InteractionDetails, 'iat' | 'prompt' | 'params'>, signedInAt: number, now = Date.now()): boolean {
  if (signedInAt >= interaction.iat * 1000) return true;
  if (interaction.prompt.reasons.includes('login_prompt')) return false;
  const maxAge = Number(interaction.params.max_age);
  return !(interaction.params.max_age !== undefined && Number.isFinite(maxAge) && now - signedInAt > maxAge * 1000);
}

export async function interactionRoutes(app: FastifyInstance, ctx: AppContext, provider: Provider): Promise<void> {
  const details = async (request: FastifyRequest, reply: FastifyReply): Promise<InteractionDetails | undefined> => {
    try {
      const found = await provider.interactionDetails(request.raw, reply.raw);
      if (found.uid !== (request.params as { uid: string }).uid) return undefined;
      return found;
    } catch {
      return undefined;
    }
  };

  // Someone else signed in to Keyward since oidc-provider's session was made (sign-out, then
  // another account). oidc-provider would answer a login for another account with its
  // end-session form (a feature we do not run); instead its session forgets the previous person
  // and the grants it pointed at, keeping its uid so the interaction still belongs to it.
  const forgetPreviousAccount = async (interaction: InteractionDetails) => {
    const session = interaction.session?.cookie ? await provider.Session.find(interaction.session.cookie) : undefined;
    const stored = await provider.Interaction.find(interaction.uid);
    if (!session || !stored?.session) return;
    for (const field of ['accountId', 'loginTs', 'acr', 'amr', 'authorizations']) delete session[field];
    await session.persist();
    delete stored.session.accountId;
    await stored.save(stored.exp - Math.floor(Date.now() / 1000));
  };

  const finish = async (request: FastifyRequest, reply: FastifyReply, result: Record<string, unknown>) => {
    const to = await provider.interactionResult(request.raw, reply.raw, result, { mergeWithLastSubmission: true });
    return reply.redirect(to, 303);
  };

  // The cap the consent page preselects: the current one when the app was allowed before (also
  // "No limit"), else the organization's default for self-registered apps.
  const consentCap = async (interaction: InteractionDetails, userId: string) => {
    const org = await requirePrimaryOrganization(ctx.db);
    const clientId = String(interaction.params.client_id);
    const policy = await readAppCapPolicy(ctx.db, org.id);
    const current: AppCap | null | undefined = (await findAppCap(ctx.db, org.id, userId, clientId)) ?? (interaction.grantId ? null : undefined);
    return { organizationId: org.id, policy, ...capOptions(policy, current) };
  };

  const renderConsent = async (
    request: FastifyRequest,
    reply: FastifyReply,
    interaction: InteractionDetails,
    refused?: { error: string; posted: CapFormValues },
  ) => {
    const params = interaction.params;
    const client = await provider.Client.find(String(params.client_id));
    if (!client) return errorPage(reply, 400, 'Unknown app', 'This app is not registered with Keyward.');
    const record = await findClientRecord(ctx.db, client.clientId);
    // The device flow (RFC 8628) has no redirect: the app waits on the device where the code was shown.
    const onDevice = Boolean(interaction.deviceCode);
    const redirectUri = String(params.redirect_uri ?? '');
    const redirectHost = URL.parse(redirectUri)?.host ?? redirectUri;
    const name = client.clientName || client.clientId;
    const requested = new Set<string>(String(params.scope ?? '').split(' ').filter(Boolean));
    const missing = interaction.prompt.details.missingResourceScopes as Record<string, string[]> | undefined;
    for (const scopes of Object.values(missing ?? {})) for (const scope of scopes) requested.add(scope);
    if (client.grantTypeAllowed('refresh_token')) requested.add(OFFLINE_ACCESS_SCOPE);
    const scopes = [LLM_PROXY_SCOPE, 'openid', OFFLINE_ACCESS_SCOPE].filter((s) => requested.has(s));
    const proxyIds = Object.keys(missing ?? {})
      .map((resource) => parseRouterResource(ctx.config.publicUrl, resource)?.proxyId)
      .filter((id): id is string => Boolean(id));
    const proxies = proxyIds.length
      ? await ctx.db.selectFrom('llm_proxies').select(['id', 'name']).where('id', 'in', proxyIds).execute()
      : [];
    // Asked again because the scopes grew, or the proxies the app may use: say what is new.
    const grant = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
    const allowed = new Set<string>(
      grant
        ? [grant.getOIDCScope(), ...Object.keys(grant.resources ?? {}).map((resource) => grant.getResourceScope(resource))].join(' ').split(' ')
        : [],
    );
    // A resource the grant lacks the router scope for: the app now asks to reach more proxies (or all of them).
    const reachGrows = grant !== undefined && Object.keys(missing ?? {}).length > 0;
    const everyProxy = Object.keys(missing ?? {}).some((resource) => {
      const target = parseRouterResource(ctx.config.publicUrl, resource);
      return target !== undefined && target.proxyId === undefined;
    });
    const allowedProxyIds = Object.keys(grant?.resources ?? {})
      .map((resource) => parseRouterResource(ctx.config.publicUrl, resource)?.proxyId)
      .filter((id): id is string => Boolean(id));
    const before = reachGrows && allowedProxyIds.length
      ? await ctx.db.selectFrom('llm_proxies').select(['id', 'name']).where('id', 'in', allowedProxyIds).execute()
      : [];
    const isNew = (scope: string) =>
      grant !== undefined && (scope === LLM_PROXY_SCOPE ? reachGrows : !allowed.has(scope) && !(scope === OFFLINE_ACCESS_SCOPE && client.grantTypeAllowed('refresh_token')));
    const csrf = issueCsrfToken(ctx, request, reply);
    const cap = await consentCap(interaction, String(interaction.session?.accountId));
    const body = html`
<h1>Allow ${name} to use Keyward?</h1>
${onDevice
  ? html`<p class="lead"><strong>${name}</strong> wants to act as you. After you allow it, it continues on the device that showed you the code.</p>`
  : html`<p class="lead"><strong>${name}</strong> wants to act as you. After you allow it, you go back to <strong>${redirectHost}</strong>.</p>`}
${record?.kind === 'public'
  ? html`<div class="notice warning" role="note"><strong>Unverified app.</strong> This app registered itself; Keyward has not checked who made it. Allow it only if you trust ${onDevice ? 'the program you started on your device' : redirectHost}.</div>`
  : ''}
${grant ? html`<p>You allowed this app before. It now also asks for what is marked <strong>New</strong>. It will be able to:</p>` : html`<p>It will be able to:</p>`}
<ul class="scopes">
${scopes.map((scope) =>
  isNew(scope)
    ? html`<li data-scope="${scope}" data-new="true"><strong>New:</strong> ${SCOPE_DESCRIPTIONS[scope] ?? scope}</li>`
    : html`<li data-scope="${scope}">${SCOPE_DESCRIPTIONS[scope] ?? scope}</li>`,
)}
</ul>
${proxies.length ? html`<p class="fine">Only through: ${proxies.map((p) => p.name).join(', ')}.</p>` : ''}
${reachGrows && everyProxy ? html`<p class="fine" data-reach="every-proxy"><strong>New:</strong> through any of your LLM proxies${before.length ? html` (before: only ${before.map((p) => p.name).join(', ')})` : ''}.</p>` : ''}
<form method="post" action="${interactionPath(interaction.uid)}">
  <input type="hidden" name="${CSRF_FIELD}" value="${csrf}">
  ${scopes.includes(LLM_PROXY_SCOPE) ? spendingLimitControl({ id: 'spending-limit', options: cap.options, selected: cap.selected, policy: cap.policy, error: refused?.error, posted: refused?.posted }) : ''}
  <div class="actions">
    <button class="primary" type="submit" name="decision" value="allow">Allow</button>
    <button class="secondary" type="submit" name="decision" value="deny">Deny</button>
  </div>
</form>
<p class="fine">You can disconnect it later under <a href="/account/apps">Connected apps</a>.</p>`;
    const redirectOrigin = onDevice ? undefined : originOf(redirectUri);
    return sendPage(reply, layout({ title: `Allow ${name}?`, body }), { status: refused ? 400 : 200, formActionOrigins: redirectOrigin ? [redirectOrigin] : [] });
  };

  app.get<{ Params: { uid: string } }>(`${INTERACTION_PATH}/:uid`, async (request, reply) => {
    const interaction = await details(request, reply);
    if (!interaction) return errorPage(reply, 400, 'Sign-in expired', 'This sign-in request expired or was already used.');
    const user = await currentUser(ctx, request);
    if (interaction.prompt.name === 'login') {
      if (!user) return reply.redirect(signInUrl(interactionPath(interaction.uid)), 303);
      // prompt=login, or a sign-in older than max_age: the person signs in again, unless they
      // already did since this request began (OIDC Core §3.1.2.1).
      if (!signedInRecentlyEnough(interaction, Number(user.signed_in_at))) return reply.redirect(signInUrl(interactionPath(interaction.uid), { again: true }), 303);
      if (interaction.session?.accountId && interaction.session.accountId !== user.id) await forgetPreviousAccount(interaction);
      // auth_time is when they signed in, not now.
      return finish(request, reply, { login: { accountId: user.id, ts: Math.floor(Number(user.signed_in_at) / 1000) } });
    }
    if (interaction.prompt.name === 'consent') {
      // The consent must come from the person oidc-provider signed in.
      if (!user) return reply.redirect(signInUrl(interactionPath(interaction.uid)), 303);
      if (user.id !== interaction.session?.accountId) {
        return errorPage(reply, 403, 'Signed in as someone else', 'You signed in as another person since this request started. Go back to the app and start again.');
      }
      return renderConsent(request, reply, interaction);
    }
    return errorPage(reply, 400, 'Sign-in error', 'This sign-in step is not supported.');
  });

  app.post<{ Params: { uid: string }; Body: Record<string, unknown> }>(`${INTERACTION_PATH}/:uid`, async (request, reply) => {
    const form = (request.body ?? {}) as { decision?: unknown; [CSRF_FIELD]?: unknown; [field: string]: unknown };
    if (!verifyCsrfToken(ctx, request, form[CSRF_FIELD])) {
      return errorPage(reply, 403, 'Request refused', 'That consent form expired or came from another site. Nothing was allowed.');
    }
    const interaction = await details(request, reply);
    if (!interaction || interaction.prompt.name !== 'consent') {
      return errorPage(reply, 400, 'Sign-in expired', 'This sign-in request expired or was already used.');
    }
    const user = await currentUser(ctx, request);
    if (!user || user.id !== interaction.session?.accountId) {
      return errorPage(reply, 403, 'Request refused', 'You are no longer signed in as the person this request was for.');
    }
    if (form.decision !== 'allow') {
      return finish(request, reply, { error: 'access_denied', error_description: 'The user denied the request' });
    }
    // The spending limit is checked before anything is granted: a refused one shows the page again.
    const cap = await consentCap(interaction, user.id);
    let chosen: AppCap | null;
    try {
      chosen = await checkConsentCap(ctx.db, cap.organizationId, capFields(form), cap.selected);
    } catch (error) {
      if (!(error instanceof KeywardError)) throw error;
      return renderConsent(request, reply, interaction, { error: error.message, posted: capFields(form) });
    }
    const { prompt, params, session } = interaction;
    const grant = interaction.grantId
      ? await provider.Grant.find(interaction.grantId)
      : new provider.Grant({ accountId: session!.accountId, clientId: params.client_id });
    const missingScope = prompt.details.missingOIDCScope as string[] | undefined;
    const missingClaims = prompt.details.missingOIDCClaims as string[] | undefined;
    const missingResourceScopes = prompt.details.missingResourceScopes as Record<string, string[]> | undefined;
    if (missingScope) grant.addOIDCScope(missingScope.join(' '));
    // The page says an app with refresh tokens stays connected (it gets them whatever it asked):
    // what the person allowed includes it, so asking for offline_access later asks nothing new.
    const client = await provider.Client.find(String(params.client_id));
    if (client?.grantTypeAllowed('refresh_token')) grant.addOIDCScope(OFFLINE_ACCESS_SCOPE);
    if (missingClaims) grant.addOIDCClaims(missingClaims);
    for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    const actor = (await userActor(ctx.db, user, request.ip)) ?? { userId: user.id, label: user.email, organizationId: cap.organizationId, ip: request.ip };
    await applyConsentCap(ctx, { ...actor, userId: user.id }, String(params.client_id), chosen);
    return finish(request, reply, { consent: { grantId } });
  });
}
