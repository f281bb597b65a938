// The router calls this instance is answering right now, each with what decided it could run (its
// token, principal, proxy) and the signal that cancels it. A call enters the set once it is
// authorized and leaves when its response closes: a Set add and delete, nothing else on the way.
//
// Two things end calls that are already running:
// - a change that can take access away (a user disabled or moved out of a team or organization, a
//   grant revoked, a client disabled, a proxy changed): only the calls it concerns are checked again
//   with the rules a new call meets, and those that would now be refused are ended with that refusal;
// - the end of the shutdown grace period: every call is ended with a 503 `server_shutdown`.
// Ending = the call's signal is aborted with a CallEnded reason: the upstream call is cancelled,
// and the route answers the caller in its wire format (the error body if nothing was sent yet, an
// SSE error event on an open stream) and meters the call once as `rejected` (stream-outcome.ts,
// the router's error handler).

import type { Logger } from 'pino';
import type { ChangeFeed } from '../../db/change-log.js';
import { BearerError, type AuthenticateBearer } from '../../oauth/principal.js';
import type { RevocationState } from '../../oauth/resource-server.js';
import type { CallSignal } from '../../upstream/call-signal.js';
import { authorizeProxy, type RouterCaller } from '../access/authorize-proxy.js';
import type { RouterDirectory } from '../access/router-directory.js';
import type { UsageMeter } from '../metering.js';
import { RouterError, toRouterError } from '../router-error.js';

/** A signal's reason when Keyward, not the client, ended the call: the error the caller is told. */
export class CallEnded extends Error {
  constructor(readonly error: RouterError) {
    super(error.message);
    this.name = 'CallEnded';
  }
}

/** The error a call was ended with, if Keyward ended it. */
export function endedWith(signal: CallSignal | undefined): RouterError | undefined {
  return signal?.aborted && signal.reason instanceof CallEnded ? signal.reason.error : undefined;
}

export interface RunningCall {
  token: string;
  /** The proxy id of the call's URL (none: the default proxy), for WWW-Authenticate. */
  urlProxyId: string | undefined;
  caller: RouterCaller;
  meter: UsageMeter;
  signal: CallSignal;
}

export const shuttingDownError = () =>
  new RouterError(503, 'server_error', 'Keyward is shutting down; retry the request.', 'server_shutdown').withHeader('retry-after', '1');

export interface RecheckDeps {
  authenticateBearer: AuthenticateBearer;
  directory: RouterDirectory;
  /**
   * The bearer check's memory of clients and revocations: a changed client's record read again
   * (`client`), the disabled clients read again after a resync (`clientsResynced`), and the
   * revocations its reconcile found before (or without) their notice (`onFound`).
   */
  revocations?: Pick<RevocationState, 'client' | 'clientsResynced' | 'onFound'>;
  /** Builds the WWW-Authenticate header of a 401/403 from the token check, as a new call gets it. */
  wwwAuthenticate?: (call: RunningCall, error: BearerError) => string;
  log: Logger;
}

export class RunningCalls {
  private readonly calls = new Set<RunningCall>();
  private drained: (() => void) | undefined;

  add(call: RunningCall): void {
    this.calls.add(call);
  }

  delete(call: RunningCall): void {
    this.calls.delete(call);
    if (this.calls.size === 0) this.drained?.();
  }

  get size(): number {
    return this.calls.size;
  }

  /** Ends one call with this error (the caller is told it; later ends do nothing). */
  static end(call: RunningCall, error: RouterError): void {
    call.signal.abort(new CallEnded(error));
  }

  /**
   * Ends every running call with `error`, and resolves when all have closed their responses (so
   * their usage is recorded) or after `waitMs`, whichever comes first.
   */
  async endAll(error: RouterError, waitMs = 2000): Promise<void> {
    for (const call of this.calls) RunningCalls.end(call, error);
    if (this.calls.size === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, waitMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.drained = done;
    });
    this.drained = undefined;
  }

  /** Listens for the changes that can take access away; each re-checks only the calls it concerns. */
  watch(changes: ChangeFeed, deps: RecheckDeps): void {
    /** `freshAccess`: the user's organizations and teams changed, so they are read again, not taken from the cache. */
    const recheck = (match: (call: RunningCall) => boolean, freshAccess: boolean, before?: () => Promise<unknown>) => {
      if (this.calls.size === 0) return;
      const affected = [...this.calls].filter((call) => !call.signal.aborted && match(call));
      if (affected.length === 0) return;
      void (async () => {
        if (before) await before().catch(() => undefined);
        await Promise.all(affected.map((call) => this.recheck(call, deps, freshAccess)));
      })();
    };
    const userIs = (id: string) => (call: RunningCall) => call.caller.principal.kind === 'user' && call.caller.principal.userId === id;
    changes.on('user', (userId) => recheck(userIs(userId), true));
    changes.on('membership', (userId) => recheck(userIs(userId), true));
    // A user token names its grant; a client's token is revoked by its id (jti), which the
    // principal does not carry: every client call is checked again (from memory, cheap).
    changes.on('grant', (grantId) =>
      recheck((call) => (call.caller.principal.kind === 'user' ? call.caller.principal.grantId === grantId : true), false),
    );
    changes.on('client', (clientId) =>
      recheck((call) => call.caller.principal.clientId === clientId, false, deps.revocations && (() => deps.revocations!.client(clientId))),
    );
    // The subject is the proxy's id: its calls are checked against what it is now (deleted, another scope or team).
    changes.on('llm_proxy', (proxyId) => recheck((call) => call.caller.proxy.id === proxyId, false));
    // A change found by the feed's resync names no subject: every call it could concern is checked
    // (after the caches, which listen first, have dropped what it made stale).
    const anyUser = (call: RunningCall) => call.caller.principal.kind === 'user';
    changes.onResync('user', () => recheck(anyUser, true));
    changes.onResync('membership', () => recheck(anyUser, true));
    changes.onResync('client', () => recheck(() => true, false, deps.revocations && (() => deps.revocations!.clientsResynced)));
    changes.onResync('llm_proxy', () => recheck(() => true, false));
    // A revocation whose notice was lost is found by the revocation reconcile: its calls are checked too
    // (a client's token is revoked by its id, which the principal does not carry: every client call).
    deps.revocations?.onFound(({ grantIds, clientIds }) => {
      const grants = new Set(grantIds);
      const clients = new Set(clientIds);
      recheck(
        (call) =>
          clients.has(call.caller.principal.clientId) ||
          (call.caller.principal.kind === 'user' ? grants.has(call.caller.principal.grantId) : grants.size > 0),
        false,
      );
    });
  }

  /** The rules of a new call, read fresh; a refusal ends the call, a failure to check does not. */
  private async recheck(call: RunningCall, deps: RecheckDeps, freshAccess: boolean): Promise<void> {
    try {
      const principal = await deps.authenticateBearer(call.token);
      const proxy = await deps.directory.proxy(call.caller.proxy.id);
      if (!proxy) throw RouterError.notFound(`The LLM proxy "${call.caller.proxy.id}" was deleted.`, 'proxy_not_found');
      const caller = await authorizeProxy(deps.directory, principal, proxy, freshAccess);
      const refusal = keyRefusal(caller, call.meter.keyOwner);
      if (refusal) throw refusal;
    } catch (error) {
      // Finished (or ended) while it was being checked: nothing left to end.
      if (call.signal.aborted || !this.calls.has(call)) return;
      const refused = error instanceof BearerError || (error instanceof RouterError && (error.status === 401 || error.status === 403 || error.status === 404));
      if (!refused) {
        deps.log.warn({ err: error, requestId: call.meter.requestId }, 'a running call could not be checked again after an access change; it goes on');
        return;
      }
      const routerError = toRouterError(error);
      if (error instanceof BearerError && deps.wwwAuthenticate) routerError.withHeader('www-authenticate', deps.wwwAuthenticate(call, error));
      deps.log.info({ requestId: call.meter.requestId, code: routerError.code, status: routerError.status }, 'running call ended: its caller lost access');
      RunningCalls.end(call, routerError);
    }
  }
}

/** The key the call is using, if the re-authorized caller may no longer use it. */
function keyRefusal(caller: RouterCaller, key: UsageMeter['keyOwner']): RouterError | undefined {
  if (!key) return undefined;
  const who = caller.keyCaller;
  if (who.kind === 'client') {
    return who.keyIds !== null && !who.keyIds.includes(key.id) ? RouterError.forbidden('This client may no longer use the provider key of this call.') : undefined;
  }
  if (key.scope === 'team' && (key.teamId === null || !who.teamIds.has(key.teamId))) {
    return RouterError.forbidden('You are no longer a member of the team whose provider key this call uses.');
  }
  if (key.scope === 'personal' && key.userId !== who.userId) return RouterError.forbidden('You may no longer use the provider key of this call.');
  return undefined;
}
