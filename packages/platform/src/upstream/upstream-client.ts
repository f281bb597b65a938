// How Keyward reaches providers (routed calls, model lists, the console's Test): undici Agents
// (a keep-alive Pool per upstream origin), connect / first-byte / idle-between-chunks timeouts,
// and the caller's signal (a router call's CallSignal, or a timeout's AbortSignal) wired through,
// so a client that goes away cancels the provider call. Members' keys whose host is not on the
// allow-list go through a second Agent that connects to public addresses only. Redirects are
// never followed (undici follows none without a redirect interceptor).

import { isIP } from 'node:net';
import { subscribe } from 'node:diagnostics_channel';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { BoundedCache } from '../bounded-cache.js';
import type { UpstreamSignal } from './call-signal.js';
import { InternalAddressError, isInternalAddress, publicOnlyLookup, systemLookup, type HostLookup } from './internal-address.js';
import type { UpstreamRequest } from '../providers/provider-adapter.js';

export interface UpstreamTimeouts {
  /** TCP/TLS connect. */
  connectMs: number;
  /** Wait for the response headers, and between two body chunks (the first one included). */
  idleMs: number;
}

/** Why a call produced no HTTP answer. `aborted` = our caller went away; `refused` = the address is internal and the key may not reach it. */
export type UpstreamFailureKind = 'timeout' | 'connection' | 'aborted' | 'refused';

export class UpstreamFailure extends Error {
  constructor(
    readonly kind: UpstreamFailureKind,
    message: string,
    readonly phase: 'connect' | 'headers' | 'body',
  ) {
    super(message);
    this.name = 'UpstreamFailure';
  }
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

/**
 * A connector that opens sockets to public addresses only: IP literals are checked before
 * connecting, names at each lookup (so a name that rebinds to an internal address is refused).
 */
export function publicOnlyConnector(timeoutMs: number, lookup: HostLookup = systemLookup): buildConnector.connector {
  const connect = buildConnector({ timeout: timeoutMs, lookup: publicOnlyLookup(lookup) });
  return (options, callback) => {
    const host = options.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && isInternalAddress(host)) return callback(new InternalAddressError(host), null);
    return connect(options, callback);
  };
}

/**
 * A request body that cannot be written as JSON: nested deeper than JSON.stringify's stack allows
 * (the caller's own input, passed through). Nothing was sent; not the provider's fault.
 */
export class UnsendableRequestError extends Error {
  constructor(options: { cause: unknown }) {
    super('the request is nested too deeply to be sent', options);
    this.name = 'UnsendableRequestError';
  }
}

function requestBodyText(body: unknown): string {
  try {
    return JSON.stringify(body);
  } catch (error) {
    throw new UnsendableRequestError({ cause: error });
  }
}

/**
 * Which requests a provider may have seen, told to `send`'s `onSent`. undici publishes
 * `undici:client:sendHeaders` when it starts writing a request to a connected socket; it creates
 * that Request (`undici:request:create`) inside `dispatch` when a pooled connection is free, so
 * synchronously inside `send`, where the request's `onSent` is known. Diagnostics channels cost a
 * message per request; an interceptor cost a wrapper on every chunk of every answer. A request
 * queued for a connection (all 256 to its origin busy) is created later: it is taken as sent at
 * once, so that a call is never missed, only possibly charged early.
 */
let dispatching: (() => void) | undefined;
let dispatchedNow = false;
const sentHooks = new WeakMap<object, () => void>();
subscribe('undici:request:create', (message) => {
  if (!dispatching) return;
  sentHooks.set((message as { request: object }).request, dispatching);
  dispatchedNow = true;
});
subscribe('undici:client:sendHeaders', (message) => {
  const request = (message as { request: object }).request;
  const onSent = sentHooks.get(request);
  if (!onSent) return;
  sentHooks.delete(request);
  onSent();
});

/** Which Agent a call goes through; a UsableProviderKey is one. */
export interface UpstreamRoute {
  publicAddressesOnly: boolean;
}

export class UpstreamClient {
  private readonly agent: Agent;
  private readonly publicOnlyAgent: Agent;
  /** Each upstream URL parsed once: the router calls the same few again and again. */
  private readonly targets = new BoundedCache<string, { origin: string; path: string }>(1000);

  constructor(
    /** Also the longest a stream may go without an event (readUpstreamEvents): undici's idle timeout is reset by any byte. */
    readonly timeouts: UpstreamTimeouts,
    lookup: HostLookup = systemLookup,
  ) {
    const pool = {
      // Providers close idle sockets after ~60 s or so; reuse them well before that.
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      connections: 256,
      pipelining: 1,
      headersTimeout: timeouts.idleMs,
      bodyTimeout: timeouts.idleMs,
    };
    this.agent = new Agent({ ...pool, connect: { timeout: timeouts.connectMs, lookup } });
    this.publicOnlyAgent = new Agent({ ...pool, connect: publicOnlyConnector(timeouts.connectMs, lookup) });
  }

  /** `onSent`: told when the request starts going out on a connected socket (the provider may then bill it). */
  async send(upstream: UpstreamRequest, signal: UpstreamSignal, route: UpstreamRoute = { publicAddressesOnly: false }, onSent?: () => void): Promise<UpstreamResponse> {
    // Written before the try: a body that cannot be is the request's fault, never a connection failure.
    const body = upstream.body === undefined ? null : requestBodyText(upstream.body);
    try {
      const { origin, path } = this.targets.getOrMake(upstream.url, originAndPath);
      const options: Dispatcher.RequestOptions = {
        origin,
        path,
        method: upstream.method,
        headers: upstream.body === undefined ? upstream.headers : { 'content-type': 'application/json', ...upstream.headers },
        body,
        signal,
        headersTimeout: this.timeouts.idleMs,
        bodyTimeout: this.timeouts.idleMs,
      };
      let pending: Promise<Dispatcher.ResponseData>;
      dispatching = onSent;
      dispatchedNow = false;
      try {
        pending = (route.publicAddressesOnly ? this.publicOnlyAgent : this.agent).request(options);
      } finally {
        dispatching = undefined;
      }
      // Not created now: queued for a connection (taken as sent), unless the call had already ended.
      if (onSent && !dispatchedNow && !signal.aborted) onSent();
      const response = await pending;
      return { status: response.statusCode, headers: response.headers, body: response.body };
    } catch (error) {
      throw classifyUpstreamError(error, signal, 'headers');
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.agent.close(), this.publicOnlyAgent.close()]);
  }
}

/** What undici needs of a URL (it would parse the string again on every call). */
function originAndPath(url: string): { origin: string; path: string } {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TypeError(`not an http(s) URL: ${parsed.protocol}`);
  return { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
}

/** An error thrown by undici (sending, or reading the body) as an UpstreamFailure. */
export function classifyUpstreamError(error: unknown, signal: UpstreamSignal | undefined, phase: 'headers' | 'body'): UpstreamFailure {
  if (error instanceof UpstreamFailure) return error;
  const code = (error as { code?: string })?.code ?? '';
  const message = error instanceof Error ? error.message : String(error);
  if (signal?.aborted || code === 'UND_ERR_ABORTED' || (error as Error)?.name === 'AbortError') {
    return new UpstreamFailure('aborted', 'the client closed the connection', phase);
  }
  if (error instanceof InternalAddressError) return new UpstreamFailure('refused', error.message, 'connect');
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return new UpstreamFailure('timeout', 'connecting to the provider timed out', 'connect');
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return new UpstreamFailure('timeout', 'the provider did not start answering in time', 'headers');
  if (code === 'UND_ERR_BODY_TIMEOUT') return new UpstreamFailure('timeout', 'the provider stopped sending in the middle of its answer', 'body');
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const detail = cause?.code ?? code ?? '';
  return new UpstreamFailure('connection', `could not reach the provider${detail ? ` (${detail})` : ''}: ${cause?.message ?? message}`, phase);
}
