// The page a one-time password link opens: choose a password, then sign in with it.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app-context.js';
import { KeywardError } from '../errors.js';
import { html } from '../web/html.js';
import { layout, sendPage } from '../web/layout.js';
import { CSRF_FIELD, issueCsrfToken, verifyCsrfToken } from './csrf.js';
import { openPasswordLink, PASSWORD_LINK_PATH, redeemPasswordLink } from './password-links.js';
import { SIGN_IN_PATH, signInUrl, CONSOLE_PATH } from './sign-in-routes.js';

export async function passwordLinkRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const render = async (request: FastifyRequest, reply: FastifyReply, token: string, problem?: { message: string; status: number }) => {
    const link = await openPasswordLink(ctx, token);
    if (!link) {
      const body = html`<h1>Link expired</h1><div class="notice error" role="alert">This link was already used or has expired. Ask an administrator of your organization for a new one.</div><p><a href="${SIGN_IN_PATH}">Sign in</a></p>`;
      return sendPage(reply, layout({ title: 'Link expired', body }), { status: 410 });
    }
    const csrf = issueCsrfToken(ctx, request, reply);
    const body = html`
<h1>${link.purpose === 'invite' ? 'Welcome to Keyward' : 'Choose a new password'}</h1>
<p class="lead">For <strong>${link.email}</strong>. This link works once.</p>
<form method="post" action="${PASSWORD_LINK_PATH}/${token}" novalidate>
  <input type="hidden" name="${CSRF_FIELD}" value="${csrf}">
  <label for="password">New password</label>
  <input id="password" name="password" type="password" autocomplete="new-password" required autofocus>
  ${problem ? html`<p class="field-error" id="password-error" role="alert">${problem.message}</p>` : ''}
  <button class="primary block" type="submit">Set password</button>
</form>`;
    return sendPage(reply, layout({ title: 'Choose a password', body }), { status: problem?.status ?? 200 });
  };

  app.get<{ Params: { token: string } }>(`${PASSWORD_LINK_PATH}/:token`, (request, reply) => render(request, reply, request.params.token));

  app.post<{ Params: { token: string }; Body: Record<string, unknown> }>(`${PASSWORD_LINK_PATH}/:token`, async (request, reply) => {
    const form = (request.body ?? {}) as Record<string, unknown>;
    if (!verifyCsrfToken(ctx, request, form[CSRF_FIELD])) {
      return render(request, reply, request.params.token, { message: 'This form expired or came from another site. Please try again.', status: 403 });
    }
    try {
      await redeemPasswordLink(ctx, request.params.token, typeof form.password === 'string' ? form.password : '', request.ip);
    } catch (error) {
      if (!(error instanceof KeywardError)) throw error;
      return render(request, reply, request.params.token, { message: error.message, status: error.status });
    }
    return reply.redirect(signInUrl(CONSOLE_PATH), 303);
  });
}
