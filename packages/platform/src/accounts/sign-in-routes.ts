// Sign-in, sign-out and the account home. The OAuth authorization flow sends people here with
// `return_to` and picks the session up when they come back.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app-context.js';
import { recordAudit } from '../audit/audit-log.js';
import { html } from '../web/html.js';
import { layout, sendPage } from '../web/layout.js';
import { cookieOptions, sessionCookieName } from './cookies.js';
import { CSRF_FIELD, issueCsrfToken, verifyCsrfToken } from './csrf.js';
import { passwordAttempt, waitText } from './login-throttle.js';
import { findPrimaryOrganization } from './organizations.js';
import { dummyPasswordHash, verifyPassword } from './passwords.js';
import { createSession, deleteSession, findSessionUser } from './sessions.js';
import { findUserByEmail, normalizeEmail } from './users.js';

export const SIGN_IN_PATH = '/sign-in';
export const SIGN_OUT_PATH = '/sign-out';
export const ACCOUNT_PATH = '/account';
/** Where everyone lands after signing in. */
export const CONSOLE_PATH = '/console';

/** Only same-site paths: an open redirect here would turn sign-in into a phishing tool. Without one, everyone lands on the console. */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return CONSOLE_PATH;
  if (/[\u0000-\u001f]/.test(value) || value.length > 2000) return CONSOLE_PATH;
  // A Location header holds printable ASCII only: anything else (U+007F, "/€") is percent-encoded.
  if (!/[^\u0020-\u007e]/.test(value)) return value;
  try {
    return encodeURI(value);
  } catch {
    return CONSOLE_PATH; // a lone surrogate
  }
}

/** The sign-in page for `returnTo`; `again`: even for someone signed in (a fresh sign-in is asked for). */
export function signInUrl(returnTo: string, options: { again?: boolean } = {}): string {
  return `${SIGN_IN_PATH}?return_to=${encodeURIComponent(returnTo)}${options.again ? '&prompt=login' : ''}`;
}

/** The signed-in user of this request, if any. */
export function currentUser(ctx: AppContext, request: FastifyRequest) {
  return findSessionUser(ctx.db, request.cookies[sessionCookieName(ctx.config)]);
}

interface SignInForm {
  email?: unknown;
  password?: unknown;
  return_to?: unknown;
  [CSRF_FIELD]?: unknown;
}

export interface SignInOptions {
  /** Origins the sign-in form's redirect chain may reach for this return_to (the OAuth flow's app). */
  formActionOrigins?: (returnTo: string) => Promise<string[]>;
}

export async function signInRoutes(app: FastifyInstance, ctx: AppContext, options: SignInOptions = {}): Promise<void> {
  const targetsOf = (returnTo: string) => options.formActionOrigins?.(returnTo).catch(() => []) ?? Promise.resolve([]);
  const renderSignIn = async (
    request: FastifyRequest,
    reply: FastifyReply,
    page: { returnTo: string; email?: string; error?: string; status?: number },
  ) => {
    const csrf = issueCsrfToken(ctx, request, reply);
    const body = html`
<h1>Sign in</h1>
<p class="lead">Use your Keyward account to continue.</p>
${page.error ? html`<div class="notice error" role="alert">${page.error}</div>` : ''}
<form method="post" action="${SIGN_IN_PATH}" novalidate>
  <input type="hidden" name="${CSRF_FIELD}" value="${csrf}">
  <input type="hidden" name="return_to" value="${page.returnTo}">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required value="${page.email ?? ''}" ${page.email ? '' : 'autofocus'}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required ${page.email ? 'autofocus' : ''}>
  <button class="primary block" type="submit">Sign in</button>
</form>
<p class="fine">Forgot your password? Ask an administrator of your organization to reset it.</p>`;
    const formActionOrigins = (await targetsOf(page.returnTo)).filter((origin) => /^https?:\/\/[^\s;,']+$/.test(origin));
    return sendPage(reply, layout({ title: 'Sign in', body }), { status: page.status ?? 200, formActionOrigins });
  };

  app.get('/', async (request, reply) => reply.redirect((await currentUser(ctx, request)) ? CONSOLE_PATH : SIGN_IN_PATH, 303));

  app.get<{ Querystring: { return_to?: string; prompt?: string } }>(SIGN_IN_PATH, async (request, reply) => {
    const returnTo = safeReturnTo(request.query.return_to);
    const user = await currentUser(ctx, request);
    if (user && request.query.prompt !== 'login') return reply.redirect(returnTo, 303);
    // Asked to sign in again: the form names who is signed in.
    return renderSignIn(request, reply, { returnTo, ...(user ? { email: user.email } : {}) });
  });

  app.post<{ Body: SignInForm }>(SIGN_IN_PATH, async (request, reply) => {
    const form = (request.body ?? {}) as SignInForm;
    const returnTo = safeReturnTo(form.return_to);
    const email = typeof form.email === 'string' ? form.email.trim().slice(0, 254) : '';
    const password = typeof form.password === 'string' ? form.password : '';
    if (!verifyCsrfToken(ctx, request, form[CSRF_FIELD])) {
      return renderSignIn(request, reply, {
        returnTo,
        email,
        status: 403,
        error: 'Your sign-in form expired or came from another site. Please try again.',
      });
    }
    if (!email || !password) {
      return renderSignIn(request, reply, { returnTo, email, status: 400, error: 'Enter your email and password.' });
    }
    const attempt = passwordAttempt(ctx.db, normalizeEmail(email), request.ip);
    if (!(await attempt.reserve())) {
      const wait = Math.max(await attempt.waitMs(), 1000);
      reply.header('retry-after', Math.ceil(wait / 1000));
      return renderSignIn(request, reply, {
        returnTo,
        email,
        status: 429,
        error: `Too many failed sign-in attempts. Try again in ${waitText(wait)}.`,
      });
    }
    const user = await findUserByEmail(ctx.db, email);
    const valid = await verifyPassword(user?.password_hash ?? (await dummyPasswordHash()), password);
    if (!user || !valid || user.disabled_at !== null) {
      await attempt.failed();
      // A lockout is a security event an administrator should see (only an existing account's).
      const lockedForMs = user ? await attempt.waitMs() : 0;
      if (user && lockedForMs > 0) {
        const org = await findPrimaryOrganization(ctx.db);
        await recordAudit(ctx.db, { userId: null, label: 'sign-in', organizationId: org?.id ?? null, ip: request.ip }, {
          action: 'user.locked_out',
          targetKind: 'user',
          targetId: user.id,
          targetLabel: user.email,
          detail: `repeated failed sign-ins: refused for ${waitText(lockedForMs)}`,
        });
      }
      request.log.info({ event: 'sign_in_failed' }, 'sign-in failed');
      return renderSignIn(request, reply, { returnTo, email, status: 401, error: 'That email and password do not match.' });
    }
    await attempt.succeeded();
    // Signing in again (asked for a fresh sign-in, or as someone else) ends this browser's previous session.
    await deleteSession(ctx.db, request.cookies[sessionCookieName(ctx.config)]);
    const session = await createSession(ctx.db, user.id, ctx.config.sessionTtlSeconds);
    reply.setCookie(sessionCookieName(ctx.config), session, cookieOptions(ctx.config, ctx.config.sessionTtlSeconds));
    request.log.info({ event: 'signed_in', userId: user.id }, 'signed in');
    return reply.redirect(returnTo, 303);
  });

  app.post<{ Body: { [CSRF_FIELD]?: unknown } }>(SIGN_OUT_PATH, async (request, reply) => {
    if (!verifyCsrfToken(ctx, request, (request.body ?? {})[CSRF_FIELD])) {
      return sendPage(
        reply,
        layout({ title: 'Sign out', body: html`<h1>Sign out</h1><div class="notice error" role="alert">That request did not come from this site.</div><p><a href="${ACCOUNT_PATH}">Back to your account</a></p>` }),
        { status: 403 },
      );
    }
    await deleteSession(ctx.db, request.cookies[sessionCookieName(ctx.config)]);
    reply.clearCookie(sessionCookieName(ctx.config), cookieOptions(ctx.config));
    return reply.redirect(SIGN_IN_PATH, 303);
  });
  // The account page itself is a console page (web/console/account-page.ts).
}
