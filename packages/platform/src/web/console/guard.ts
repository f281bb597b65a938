// The console's one gate, run before every console route: signed out → the sign-in page; a member
// on an admin-only route → 403 page; a POST without this site's form token → 403 page. Services
// check the actor again, so a route that forgets its flag still cannot act beyond the role.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAdmin, type Actor } from '../../access/actor.js';
import { userActor } from '../../accounts/actors.js';
import { CSRF_FIELD, verifyCsrfToken } from '../../accounts/csrf.js';
import { currentUser, signInUrl } from '../../accounts/sign-in-routes.js';
import type { AppContext } from '../../app-context.js';
import { KeywardError } from '../../errors.js';
import { html } from '../html.js';
import { layout, sendPage } from '../layout.js';
import { renderConsolePage } from './console-page.js';
import type { ConsoleSection } from './paths.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Members get a 403 page on this route. */
    adminOnly?: boolean;
    /** Which navigation entry the route belongs to (for error pages). */
    section?: ConsoleSection;
  }
}

type GuardedRequest = FastifyRequest & { consoleActor?: Actor };

function problemPage(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, status: number, title: string, message: string) {
  const actor = (request as GuardedRequest).consoleActor;
  const body = () => html`<h1>${title}</h1><div class="notice error" role="alert">${message}</div><p><a href="/console">Back to the console</a></p>`;
  if (!actor) return sendPage(reply, layout({ title, body: body() }), { status });
  return renderConsolePage(ctx, request, reply, actor, { title, section: request.routeOptions.config.section ?? 'overview', body, status });
}

export const forbiddenPage = (ctx: AppContext, request: FastifyRequest, reply: FastifyReply, message?: string) =>
  problemPage(ctx, request, reply, 403, 'Not allowed', message ?? 'This page or action is for administrators of the organization only.');

/** Where to come back after signing in: the page itself, or for a form action the page it belongs to. */
function returnPath(request: FastifyRequest): string {
  if (request.method === 'GET') return request.url;
  return request.url.split('?')[0]!.split('/').slice(0, 3).join('/');
}

export function installConsoleGuard(app: FastifyInstance, ctx: AppContext): void {
  app.decorateRequest('consoleActor', undefined);
  app.addHook('preHandler', async (request, reply) => {
    const user = await currentUser(ctx, request);
    if (!user) return reply.redirect(signInUrl(returnPath(request)), 303);
    const actor = await userActor(ctx.db, user, request.ip);
    if (!actor) return forbiddenPage(ctx, request, reply, 'Your account is not a member of this organization.');
    (request as GuardedRequest).consoleActor = actor;
    if (request.routeOptions.config.adminOnly && !isAdmin(actor)) return forbiddenPage(ctx, request, reply);
    if (request.method === 'POST' && !verifyCsrfToken(ctx, request, (request.body as Record<string, unknown> | undefined)?.[CSRF_FIELD])) {
      return forbiddenPage(ctx, request, reply, 'That form expired or came from another site. Open the page again and retry.');
    }
    return undefined;
  });
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof KeywardError) {
      if (error.status === 403) return forbiddenPage(ctx, request, reply, error.message);
      return problemPage(ctx, request, reply, error.status, error.status === 404 ? 'Not found' : 'That did not work', error.message);
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) return problemPage(ctx, request, reply, status, 'That did not work', 'The request could not be read.');
    request.log.error({ err: error }, 'console page failed');
    return problemPage(ctx, request, reply, 500, 'Something went wrong', 'Keyward could not complete this. The details are in the server log.');
  });
}
