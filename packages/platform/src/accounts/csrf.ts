// CSRF protection for Keyward's own forms: a random httpOnly cookie, and in the form an HMAC of
// it under the shared cookie key (a cross-site page can neither read the cookie nor forge the
// HMAC). A present Origin header must also be ours.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app-context.js';
import { cookieOptions, csrfCookieName } from './cookies.js';

export const CSRF_FIELD = 'csrf';

const tokenFor = (ctx: AppContext, cookie: string) => createHmac('sha256', ctx.cookieKey).update(`csrf:${cookie}`).digest('base64url');

/** The token to embed in a form; sets the cookie it is bound to when the browser has none. */
export function issueCsrfToken(ctx: AppContext, request: FastifyRequest, reply: FastifyReply): string {
  let cookie = request.cookies[csrfCookieName(ctx.config)];
  if (!cookie || cookie.length > 100) {
    cookie = randomBytes(24).toString('base64url');
    reply.setCookie(csrfCookieName(ctx.config), cookie, cookieOptions(ctx.config));
  }
  return tokenFor(ctx, cookie);
}

export function verifyCsrfToken(ctx: AppContext, request: FastifyRequest, submitted: unknown): boolean {
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== new URL(ctx.config.publicUrl).origin) return false;
  const cookie = request.cookies[csrfCookieName(ctx.config)];
  if (!cookie || typeof submitted !== 'string') return false;
  const expected = Buffer.from(tokenFor(ctx, cookie));
  const given = Buffer.from(submitted);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
