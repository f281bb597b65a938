// /account: the signed-in person's own account: who they are, their connected apps, and a
// password change (current password, then a new one under the same rules as the CLI's).

import type { FastifyInstance } from 'fastify';
import { passwordAttempt, waitText } from '../../accounts/login-throttle.js';
import { cookieOptions, sessionCookieName } from '../../accounts/cookies.js';
import { PASSWORD_MIN_LENGTH } from '../../accounts/passwords.js';
import { createSession } from '../../accounts/sessions.js';
import { changeOwnPassword, normalizeEmail } from '../../accounts/users.js';
import type { AppContext } from '../../app-context.js';
import { recordAudit } from '../../audit/audit-log.js';
import { KeywardError } from '../../errors.js';
import { CONNECTED_APPS_PATH } from '../../oauth/paths.js';
import { html } from '../html.js';
import { actorOf, csrfField, fieldError, formFields, renderConsolePage } from './console-page.js';
import { CONSOLE_PATHS } from './paths.js';

export const CHANGE_PASSWORD_PATH = `${CONSOLE_PATHS.account}/password`;

type Errors = Partial<Record<'current_password' | 'new_password', string>>;

export async function accountPage(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const render = (request: Parameters<typeof actorOf>[0], reply: Parameters<typeof renderConsolePage>[2], page: { errors?: Errors; changed?: boolean; status?: number }) => {
    const actor = actorOf(request);
    const errors = page.errors ?? {};
    const body = (csrf: string) => html`
<h1>Your account</h1>
<p class="lead">Signed in as <strong>${actor.label}</strong> (${actor.role}).</p>
<p><a class="button secondary" href="${CONNECTED_APPS_PATH}">Connected apps</a></p>
<section>
<h2>Change password</h2>
${page.changed ? html`<div class="notice ok" role="status">Your password was changed. Other browsers signed in as you were signed out.</div>` : ''}
<form class="stack" method="post" action="${CHANGE_PASSWORD_PATH}" novalidate>
${csrfField(csrf)}
<label for="current_password">Current password</label>
<input id="current_password" name="current_password" type="password" autocomplete="current-password" required${errors.current_password ? html` aria-invalid="true" aria-describedby="current_password-error"` : ''}>
${fieldError('current_password', errors.current_password)}
<label for="new_password">New password</label>
<input id="new_password" name="new_password" type="password" autocomplete="new-password" minlength="${PASSWORD_MIN_LENGTH}" required${errors.new_password ? html` aria-invalid="true" aria-describedby="new_password-error"` : ''}>
${fieldError('new_password', errors.new_password)}
<p class="fine">At least ${PASSWORD_MIN_LENGTH} characters; a passphrase of a few words is best.</p>
<button class="primary" type="submit">Change password</button>
</form>
</section>`;
    return renderConsolePage(ctx, request, reply, actor, { title: 'Your account', section: 'account', body, status: page.status });
  };

  app.get<{ Querystring: { changed?: string } }>(CONSOLE_PATHS.account, { config: { section: 'account' } }, async (request, reply) =>
    render(request, reply, { changed: request.query.changed === '1' }),
  );

  app.post(CHANGE_PASSWORD_PATH, { config: { section: 'account' } }, async (request, reply) => {
    const actor = actorOf(request);
    const form = formFields(request.body);
    const current = form.current_password ?? '';
    const next = form.new_password ?? '';
    if (!current) return render(request, reply, { errors: { current_password: 'Enter your current password.' }, status: 400 });
    if (!next) return render(request, reply, { errors: { new_password: 'Enter a new password.' }, status: 400 });
    // Guessing the current password here counts against the same lockout as the sign-in page.
    const attempt = passwordAttempt(ctx.db, normalizeEmail(actor.label), request.ip);
    if (!(await attempt.reserve())) {
      const wait = Math.max(await attempt.waitMs(), 1000);
      reply.header('retry-after', Math.ceil(wait / 1000));
      return render(request, reply, { errors: { current_password: `Too many wrong passwords. Try again in ${waitText(wait)}.` }, status: 429 });
    }
    try {
      await changeOwnPassword(ctx.db, actor.userId!, current, next);
    } catch (error) {
      if (error instanceof KeywardError && error.code === 'wrong_password') {
        await attempt.failed();
        return render(request, reply, { errors: { current_password: error.message }, status: 400 });
      }
      // The current password was right (the new one is refused), or was never checked.
      await (error instanceof KeywardError && error.code === 'weak_password' ? attempt.succeeded() : attempt.release());
      if (!(error instanceof KeywardError)) throw error;
      if (error.code === 'weak_password') {
        const message = error.message.charAt(0).toUpperCase() + error.message.slice(1);
        return render(request, reply, { errors: { new_password: message.endsWith('.') ? message : `${message}.` }, status: 400 });
      }
      throw error;
    }
    await attempt.succeeded();
    await recordAudit(ctx.db, actor, { action: 'user.password_changed', targetKind: 'user', targetId: actor.userId, targetLabel: actor.label });
    // Every session ended with the old password; this browser gets a new one.
    const session = await createSession(ctx.db, actor.userId!, ctx.config.sessionTtlSeconds);
    reply.setCookie(sessionCookieName(ctx.config), session, cookieOptions(ctx.config, ctx.config.sessionTtlSeconds));
    request.log.info({ event: 'password_changed', userId: actor.userId }, 'password changed');
    return reply.redirect(`${CONSOLE_PATHS.account}?changed=1`, 303);
  });
}
