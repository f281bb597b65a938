// The app's routes, on plain node:http. Read top to bottom: pages, sign-in, chat, sign-out.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { ClientStore } from './client-store.js';
import { CALLBACK_PATH, type Config } from './config.js';
import { KeywardOAuth, KeywardUnavailableError, SessionEndedError, SignInError, type Tokens } from './keyward-oauth.js';
import { describeRouterError, notices, signInMessages } from './messages.js';
import { ModelRouter, readModelIds, readRouterError, type ChatMessage } from './model-router.js';
import { isNetworkError } from './network.js';
import { chatPage, landingPage } from './pages.js';
import { SESSION_COOKIE, SessionStore, sameSecret, type Session } from './sessions.js';

/** Refresh the access token when it has less than this left, so a request never starts with a dying token. */
const REFRESH_MARGIN_MS = 30_000;
const MAX_BODY_BYTES = 256 * 1024;
const MAX_MESSAGES = 100;

const STATIC_FILES: Record<string, { type: string; body: Buffer }> = {
  '/style.css': { type: 'text/css; charset=utf-8', body: readFileSync(new URL('../public/style.css', import.meta.url)) },
  '/chat.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('../public/chat.js', import.meta.url)) },
};

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  // The callback URL holds the authorization code: never send it to another site as a Referer.
  // (Not no-referrer: with it, browsers send `Origin: null` on form posts, failing the origin check.)
  'referrer-policy': 'same-origin',
};

export interface App {
  server: Server;
  sessions: SessionStore;
  close(): Promise<void>;
}

export function createApp(config: Config, { clientStoreFile }: { clientStoreFile: string }): App {
  const keyward = new KeywardOAuth(config, new ClientStore(clientStoreFile));
  const router = new ModelRouter(config.keywardBaseUrl, config.llmProxyId);
  const sessions = new SessionStore();
  const secureCookie = config.appBaseUrl.protocol === 'https:';
  const keywardUrl = config.keywardBaseUrl.href.replace(/\/$/, ''); // as people write it
  const routerContext = { proxyId: config.llmProxyId, keywardBaseUrl: keywardUrl };

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>> = {
    'GET /': home,
    'GET /login': startSignIn,
    [`GET ${CALLBACK_PATH}`]: finishSignIn,
    'POST /api/chat': chat,
    'POST /logout': signOut,
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', config.appBaseUrl);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const file = req.method === 'GET' ? STATIC_FILES[url.pathname] : undefined;
    if (file) return void res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache' }).end(file.body);
    if (url.pathname === '/favicon.ico') return void res.writeHead(204).end();
    const route = routes[`${req.method} ${url.pathname}`];
    if (!route) return void sendText(res, 404, 'Not found');
    route(req, res, url).catch((error: unknown) => {
      console.error(error);
      if (!res.headersSent) sendHtml(res, 500, landingPage({ notice: notices.unexpected, keywardBaseUrl: keywardUrl }));
      else res.destroy();
    });
  });

  // ---- pages ----

  /** Signed out: the sign-in button. Signed in: the chat, with the model picker filled from GET …/models. */
  async function home(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const session = currentSession(req);
    let notice = session?.notice;
    if (session) session.notice = undefined;
    if (url.searchParams.has('signed_out')) notice = url.searchParams.get('signed_out') === 'unrevoked' ? notices.signedOutLocally : notices.signedOut;
    if (!session?.user) return sendHtml(res, 200, landingPage({ notice, keywardBaseUrl: keywardUrl }));

    let models: string[] = [];
    try {
      const response = await withAccessToken(session, (token) => router.listModels(token));
      if (response.ok) models = await readModelIds(response);
      else {
        const problem = describeRouterError(response.status, await readRouterError(response), { ...routerContext, model: config.model });
        if (problem.kind === 'session_ended') return signedOutBecause(res, session, problem.message);
        notice ??= problem.message;
      }
    } catch (error) {
      if (error instanceof SessionEndedError) return signedOutBecause(res, session, notices.sessionEnded);
      if (!isUnavailable(error)) throw error;
      notice ??= notices.keywardDown(keywardUrl);
    }
    sendHtml(res, 200, chatPage({ models, selectedModel: config.model, csrfToken: session.csrfToken, notice }));
  }

  function signedOutBecause(res: ServerResponse, session: Session, message: string): void {
    session.user = undefined;
    sendHtml(res, 200, landingPage({ notice: message, keywardBaseUrl: keywardUrl }));
  }

  // ---- sign-in ----

  /** Discover, register once, then send the browser to Keyward's authorization endpoint. */
  async function startSignIn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const session = currentSession(req) ?? startSession(res);
    try {
      const { url, pending } = await keyward.authorizationUrl();
      sessions.addPendingSignIn(session, pending);
      res.writeHead(302, { location: url.href, 'cache-control': 'no-store' }).end();
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      sendHtml(res, 502, landingPage({ notice: notices.keywardDown(keywardUrl), keywardBaseUrl: keywardUrl }));
    }
  }

  /** GET /oauth/callback?code&state&iss (or ?error=access_denied&state&iss). */
  async function finishSignIn(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    let session = currentSession(req);
    try {
      const pending = sessions.takePendingSignIn(session, url.searchParams.get('state'));
      if (!session || !pending) throw new SignInError('unknown_state');
      const tokens = await keyward.finishSignIn(url, pending);
      session = sessions.renew(session);
      session.pendingSignIns.clear();
      session.user = { clientId: pending.clientId, tokens };
      setSessionCookie(res, session);
      redirect(res, '/');
    } catch (error) {
      let notice: string;
      if (error instanceof SignInError) {
        notice = signInMessages[error.failure];
        if (error.failure === 'authorization_error' && error.detail) notice += ` (${error.detail.slice(0, 200)})`;
        if (error.failure !== 'access_denied') console.warn(error.message);
      } else if (isUnavailable(error)) {
        notice = notices.keywardDown(keywardUrl);
      } else throw error;
      session ??= startSession(res);
      session.notice = notice;
      redirect(res, '/');
    }
  }

  // ---- chat ----

  /** POST /api/chat {model, messages}: streams the router's SSE answer through to the page. */
  async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const session = currentSession(req);
    if (!session?.user) return sendJson(res, 401, { error: { kind: 'session_ended', message: notices.sessionEnded, signIn: true } });
    if (!isSameOrigin(req) || !sameSecret(header(req, 'x-csrf-token'), session.csrfToken)) {
      return sendJson(res, 403, { error: { kind: 'csrf', message: 'This request did not come from the app’s own page. Reload the page and try again.' } });
    }
    const input = parseChatRequest(await readBody(req, 'application/json'));
    if (!input) return sendJson(res, 400, { error: { kind: 'bad_request', message: 'Send {"model": "provider:model", "messages": [{"role", "content"}]}.' } });

    // Stop paying for tokens nobody reads: the page closing (or Stop) aborts the upstream call.
    const upstreamAbort = new AbortController();
    res.on('close', () => upstreamAbort.abort());

    let upstream: Response;
    try {
      upstream = await withAccessToken(session, (token) => router.streamChatCompletion(token, input.model, input.messages, upstreamAbort.signal));
    } catch (error) {
      if (error instanceof SessionEndedError) {
        session.user = undefined;
        return sendJson(res, 401, { error: { kind: 'session_ended', message: notices.sessionEnded, signIn: true } });
      }
      if (!isUnavailable(error)) throw error;
      return sendJson(res, 502, { error: { kind: 'keyward_down', message: notices.keywardDown(keywardUrl) } });
    }

    if (!upstream.ok) {
      const problem = describeRouterError(upstream.status, await readRouterError(upstream), { ...routerContext, model: input.model });
      if (problem.kind === 'session_ended') session.user = undefined;
      return sendJson(res, upstream.status, { error: { ...problem, signIn: problem.kind === 'session_ended' } });
    }

    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    if (!(upstream.headers.get('content-type') ?? '').includes('text/event-stream')) {
      // A router that answered without streaming: hand the page the same shape anyway.
      const completion = (await upstream.json()) as { choices?: Array<{ message?: { content?: string } }> };
      const content = completion.choices?.[0]?.message?.content ?? '';
      res.end(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\ndata: [DONE]\n\n`);
      return;
    }
    try {
      for await (const chunk of Readable.fromWeb(upstream.body as import('node:stream/web').ReadableStream)) res.write(chunk);
    } catch (error) {
      if (!upstreamAbort.signal.aborted) console.warn('The answer stream broke off:', (error as Error).message);
    }
    res.end();
  }

  // ---- sign-out ----

  /** POST /logout: revoke the refresh token at Keyward (RFC 7009), forget the session. */
  async function signOut(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const session = currentSession(req);
    const form = new URLSearchParams(await readBody(req, 'application/x-www-form-urlencoded'));
    if (session && (!isSameOrigin(req) || !sameSecret(form.get('csrf_token') ?? undefined, session.csrfToken))) {
      return sendText(res, 403, 'This sign-out did not come from the app’s own page.');
    }
    let revoked = true;
    if (session?.user) {
      try {
        await keyward.revoke(session.user.clientId, session.user.tokens);
      } catch (error) {
        // Signing out of the app must not depend on Keyward being up; the tokens expire on their own.
        console.warn('Could not revoke the refresh token:', (error as Error).message);
        revoked = false;
      }
    }
    if (session) sessions.delete(session);
    res.setHeader('set-cookie', cookie('', 0));
    redirect(res, revoked ? '/?signed_out' : '/?signed_out=unrevoked');
  }

  // ---- tokens ----

  /** Calls the router with a fresh access token; on a 401, refreshes once and tries again. */
  async function withAccessToken(session: Session, call: (accessToken: string) => Promise<Response>): Promise<Response> {
    const token = await accessToken(session);
    const response = await call(token);
    if (response.status !== 401) return response;
    await response.body?.cancel();
    return call(await accessToken(session, token));
  }

  /**
   * The session's access token, refreshed when it is about to expire or when `rejected` (the
   * token the router just refused) is still the current one. Concurrent callers share one refresh.
   */
  async function accessToken(session: Session, rejected?: string): Promise<string> {
    const user = session.user;
    if (!user) throw new SessionEndedError('not signed in');
    if (session.refreshing) return (await session.refreshing).accessToken;
    const current = user.tokens.accessToken;
    if (rejected !== undefined && rejected !== current) return current; // another request refreshed already
    const expiring = user.tokens.expiresAt !== undefined && user.tokens.expiresAt - Date.now() < REFRESH_MARGIN_MS;
    if (rejected === undefined && !expiring) return current;
    if (!user.tokens.refreshToken) {
      if (rejected !== undefined) throw new SessionEndedError('the access token was refused and there is no refresh token');
      return current; // still usable for a few seconds; a 401 will end the session
    }
    session.refreshing = keyward.refresh(user.clientId, user.tokens.refreshToken).then(
      (tokens: Tokens) => {
        user.tokens = tokens;
        session.refreshing = undefined;
        return tokens;
      },
      (error: unknown) => {
        session.refreshing = undefined;
        if (error instanceof SessionEndedError) session.user = undefined;
        throw error;
      },
    );
    return (await session.refreshing).accessToken;
  }

  // ---- small HTTP helpers ----

  function currentSession(req: IncomingMessage): Session | undefined {
    return sessions.get(readCookie(req, SESSION_COOKIE));
  }

  function startSession(res: ServerResponse): Session {
    const session = sessions.create();
    setSessionCookie(res, session);
    return session;
  }

  function setSessionCookie(res: ServerResponse, session: Session): void {
    res.setHeader('set-cookie', cookie(session.id));
  }

  /** httpOnly: page scripts cannot read it; SameSite=Lax: other sites' POSTs do not carry it. */
  function cookie(value: string, maxAgeSeconds?: number): string {
    const parts = [`${SESSION_COOKIE}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
    if (maxAgeSeconds !== undefined) parts.push(`Max-Age=${maxAgeSeconds}`);
    if (secureCookie) parts.push('Secure');
    return parts.join('; ');
  }

  /** Browsers send Origin on every POST; it must be this app's own. */
  function isSameOrigin(req: IncomingMessage): boolean {
    return header(req, 'origin') === config.appBaseUrl.origin;
  }

  return {
    server,
    sessions,
    close: () =>
      new Promise<void>((resolve) => {
        sessions.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function isUnavailable(error: unknown): boolean {
  return error instanceof KeywardUnavailableError || isNetworkError(error);
}

function parseChatRequest(body: string): { model: string; messages: ChatMessage[] } | undefined {
  let input: unknown;
  try {
    input = JSON.parse(body);
  } catch {
    return undefined;
  }
  const { model, messages } = (input ?? {}) as { model?: unknown; messages?: unknown };
  if (typeof model !== 'string' || !/^[^\s:]+:\S+$/.test(model) || model.length > 200) return undefined;
  if (!Array.isArray(messages) || messages.length === 0 || messages.length > MAX_MESSAGES) return undefined;
  const valid = messages.every(
    (m: { role?: unknown; content?: unknown }) => (m?.role === 'user' || m?.role === 'assistant') && typeof m.content === 'string',
  );
  if (!valid) return undefined;
  return { model, messages: messages.map((m: ChatMessage) => ({ role: m.role, content: m.content })) };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

async function readBody(req: IncomingMessage, expectedType: string): Promise<string> {
  if (!(header(req, 'content-type') ?? '').startsWith(expectedType)) return '';
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { location, 'cache-control': 'no-store' }).end();
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(text);
}
