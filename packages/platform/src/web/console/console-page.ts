// One console page: the shared shell with a navigation that marks where you are and hides what a
// member may not open, and small pieces every page's forms and tables use.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { isAdmin, type Actor } from '../../access/actor.js';
import { CSRF_FIELD, issueCsrfToken } from '../../accounts/csrf.js';
import { SIGN_OUT_PATH } from '../../accounts/sign-in-routes.js';
import type { AppContext } from '../../app-context.js';
import { html, type RawHtml } from '../html.js';
import { layout, sendPage } from '../layout.js';
import { CONSOLE_NAV, CONSOLE_PATHS, type ConsoleSection } from './paths.js';

export interface ConsolePage {
  title: string;
  section: ConsoleSection;
  /** Given the form token, the page's body. */
  body: (csrf: string) => RawHtml;
  status?: number;
}

/** The actor the console guard found for this request (set before any console route runs). */
export function actorOf(request: FastifyRequest): Actor {
  const actor = (request as FastifyRequest & { consoleActor?: Actor }).consoleActor;
  if (!actor) throw new Error('console route reached without the console guard');
  return actor;
}

export function renderConsolePage(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, actor: Actor, page: ConsolePage) {
  const csrf = issueCsrfToken(ctx, request, reply);
  const entries = CONSOLE_NAV.filter((entry) => !entry.adminOnly || isAdmin(actor));
  const nav = html`<nav class="console-nav" aria-label="Console">
<ul>${entries.map(
    (entry) =>
      html`<li><a href="${CONSOLE_PATHS[entry.section]}"${entry.section === page.section ? html` aria-current="page"` : ''}>${entry.label}</a></li>`,
  )}</ul>
<span class="who">${actor.label} · ${actor.role}</span>
<form method="post" action="${SIGN_OUT_PATH}">${csrfField(csrf)}<button class="secondary" type="submit">Sign out</button></form>
</nav>`;
  return sendPage(reply, layout({ title: page.title, nav, body: page.body(csrf) }), { status: page.status ?? 200 });
}

export const csrfField = (token: string) => html`<input type="hidden" name="${CSRF_FIELD}" value="${token}">`;

/** An error in words, placed next to the field it is about. */
export const fieldError = (id: string, message: string | undefined) =>
  message ? html`<p class="field-error" id="${id}-error" role="alert">${message}</p>` : '';

/** A one-button form that posts to `action` (each action is a button with visible text). */
export function actionButton(csrf: string, action: string, label: string, options: { danger?: boolean; fields?: Record<string, string> } = {}) {
  return html`<form class="inline" method="post" action="${action}">${csrfField(csrf)}${Object.entries(options.fields ?? {}).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`,
  )}<button class="${options.danger ? 'danger' : 'secondary'}" type="submit">${label}</button></form>`;
}

export const PAGE_SIZE = 50;

/** The page number asked for in `?page=`, 1-based, bounded. */
export function pageNumber(query: unknown): number {
  const raw = (query as { page?: unknown } | undefined)?.page;
  const n = typeof raw === 'string' ? Number.parseInt(raw, 10) : 1;
  return Number.isFinite(n) && n >= 1 && n <= 100_000 ? n : 1;
}

/** One page of an in-memory list, with previous/next links. */
export function paginate<T>(items: T[], page: number, path: string, size = PAGE_SIZE): { rows: T[]; pager: RawHtml | '' } {
  const pages = Math.max(1, Math.ceil(items.length / size));
  const current = Math.min(page, pages);
  const rows = items.slice((current - 1) * size, current * size);
  return { rows, pager: pagerLinks(path, current, current < pages, `page ${current} of ${pages}`) };
}

export function pagerLinks(path: string, current: number, more: boolean, label = `page ${current}`): RawHtml | '' {
  if (current === 1 && !more) return '';
  return html`<nav class="pager" aria-label="Pages">${current > 1 ? html`<a href="${path}?page=${current - 1}">Previous</a>` : ''}<span>${label}</span>${more ? html`<a href="${path}?page=${current + 1}">Next</a>` : ''}</nav>`;
}

export const formatTime = (ms: number | null | undefined) => (ms ? new Date(Number(ms)).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '—');

/** A form body as strings only; anything else (arrays, objects) reads as absent. */
export function formFields(body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (body && typeof body === 'object') {
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
  }
  return out;
}

/** The notice for `?done=KEY` after a redirect; only the page's own keys (never inherited properties like "constructor"). */
export const doneText = (texts: Record<string, string>, key: string | undefined): string | undefined => (key && Object.hasOwn(texts, key) ? texts[key] : undefined);
