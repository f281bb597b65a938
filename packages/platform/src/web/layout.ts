// The shell of every Keyward page and the headers that protect it.

import type { FastifyReply } from 'fastify';
import { html, type RawHtml } from './html.js';
import { STYLESHEET_PATH } from './styles.js';

export function layout(options: { title: string; body: RawHtml; wide?: boolean; nav?: RawHtml }): string {
  // The console's shell: the same brand and card, a navigation bar above, a wider card.
  const page = options.nav
    ? html`<body class="console">
<header class="topbar">
<a class="brand" href="/console"><span class="brand-mark" aria-hidden="true">K</span>Keyward</a>
${options.nav}
</header>
<main class="card console-card">
${options.body}
</main>
</body>`
    : html`<body>
<a class="brand" href="/"><span class="brand-mark" aria-hidden="true">K</span>Keyward</a>
<main class="card${options.wide ? ' wide' : ''}">
${options.body}
</main>
</body>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${options.title} · Keyward</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
</head>
${page}
</html>`.value;
}

export interface PageOptions {
  status?: number;
  /** Extra origins a form on this page may lead to (the consent form ends in the app's redirect). */
  formActionOrigins?: string[];
}

/** The headers every Keyward page carries: it cannot be framed, cached or made to run script. */
export function pageHeaders(options: PageOptions = {}): Record<string, string> {
  const formAction = ["'self'", ...(options.formActionOrigins ?? [])].join(' ');
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': `default-src 'none'; style-src 'self'; img-src 'self' data:; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
    'cache-control': 'no-store',
  };
}

/** Sends an HTML page with pageHeaders. */
export function sendPage(reply: FastifyReply, page: string, options: PageOptions = {}): FastifyReply {
  return reply
    .code(options.status ?? 200)
    .headers(pageHeaders(options))
    .send(page);
}
