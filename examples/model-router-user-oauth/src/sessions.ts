// Backend-for-frontend sessions: tokens live here, in server memory; the browser holds only a
// random session id in an httpOnly cookie.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { PendingSignIn, Tokens } from './keyward-oauth.js';

export interface Session {
  id: string;
  /** Sent back by the page with every POST; a cross-site page cannot read it. */
  csrfToken: string;
  lastSeen: number;
  /** Sign-ins started in this browser and not finished yet, by state (several tabs may sign in at once). */
  pendingSignIns: Map<string, PendingSignIn & { startedAt: number }>;
  user?: { clientId: string; tokens: Tokens };
  /** The one refresh in flight: refresh tokens rotate, so two parallel refreshes would revoke the grant. */
  refreshing?: Promise<Tokens>;
  /** A message for the next page view (after a redirect). */
  notice?: string;
}

export const SESSION_COOKIE = 'model_router_example_session';
const IDLE_LIMIT_MS = 12 * 60 * 60 * 1000;
const SIGN_IN_LIMIT_MS = 10 * 60 * 1000;
const MAX_PENDING_SIGN_INS = 5;

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly sweeper: NodeJS.Timeout;

  constructor() {
    this.sweeper = setInterval(() => this.sweep(), 60_000).unref();
  }

  get(id: string | undefined): Session | undefined {
    const session = id ? this.sessions.get(id) : undefined;
    if (!session) return undefined;
    if (Date.now() - session.lastSeen > IDLE_LIMIT_MS) {
      this.sessions.delete(session.id);
      return undefined;
    }
    session.lastSeen = Date.now();
    return session;
  }

  create(): Session {
    const session: Session = { id: randomId(), csrfToken: randomId(), lastSeen: Date.now(), pendingSignIns: new Map() };
    this.sessions.set(session.id, session);
    return session;
  }

  /** A new id (and CSRF token) on sign-in, so an id planted before sign-in is worth nothing after. */
  renew(session: Session): Session {
    this.sessions.delete(session.id);
    session.id = randomId();
    session.csrfToken = randomId();
    this.sessions.set(session.id, session);
    return session;
  }

  delete(session: Session): void {
    this.sessions.delete(session.id);
  }

  addPendingSignIn(session: Session, pending: PendingSignIn): void {
    session.pendingSignIns.set(pending.state, { ...pending, startedAt: Date.now() });
    // Keep the newest few: each abandoned sign-in tab leaves one behind.
    while (session.pendingSignIns.size > MAX_PENDING_SIGN_INS) {
      session.pendingSignIns.delete(session.pendingSignIns.keys().next().value!);
    }
  }

  /** Removes and returns the pending sign-in for this state: each state is good for one callback. */
  takePendingSignIn(session: Session | undefined, state: string | null): PendingSignIn | undefined {
    if (!session || !state) return undefined;
    const pending = session.pendingSignIns.get(state);
    session.pendingSignIns.delete(state);
    if (!pending || Date.now() - pending.startedAt > SIGN_IN_LIMIT_MS) return undefined;
    return pending;
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sessions.clear();
  }

  private sweep(): void {
    for (const session of this.sessions.values()) {
      if (Date.now() - session.lastSeen > IDLE_LIMIT_MS) this.sessions.delete(session.id);
    }
  }
}

export function sameSecret(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function randomId(): string {
  return randomBytes(32).toString('base64url');
}
