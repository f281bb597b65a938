import type { CookieSerializeOptions } from '@fastify/cookie';
import type { Config } from '../config.js';

/** Cookies are Secure whenever the public URL is https, whatever the hop to us speaks. */
export const secureCookies = (config: Config) => config.publicUrl.startsWith('https://');
const secure = secureCookies;

// The __Host- prefix pins a cookie to this exact host, but browsers accept it only when Secure.
export const sessionCookieName = (config: Config) => (secure(config) ? '__Host-keyward_session' : 'keyward_session');
export const csrfCookieName = (config: Config) => (secure(config) ? '__Host-keyward_csrf' : 'keyward_csrf');

export function cookieOptions(config: Config, maxAgeSeconds?: number): CookieSerializeOptions {
  return {
    httpOnly: true,
    sameSite: 'lax',
    secure: secure(config),
    path: '/',
    ...(maxAgeSeconds === undefined ? {} : { maxAge: maxAgeSeconds }),
  };
}
