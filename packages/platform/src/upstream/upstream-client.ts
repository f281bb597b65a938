// How Keyward reaches providers (routed calls, model lists, the console's Test): undici Agents
// (a keep-alive Pool per upstream origin), connect / first-byte / idle-between-chunks timeouts,
// and the caller's signal (a router call's CallSignal, or a timeout's AbortSignal) wired through,
// so a client that goes away cancels the provider call. Members' keys whose host is not on the
// allow-list go through a second Agent that connects to public addresses only. Redirects are
// never followed (undici follows none without a redirect interceptor).

import { isIP } from 'node:net';
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

/** `send`'s `onSent` per request options object: told when the request is written to a connected socket. */
const sentHooks = new WeakMap<object, () => void>();

/**
 * Tells a request's `onSent` when undici starts writing it to a connected socket (onRequestStart):
 * until then (address lookup, connect, waiting for a pooled connection) the provider has not seen it.
 */
const reportSent: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) => {
  const onSent = sentHooks.get(opts);
  if (!onSent) return dispatch(opts, handler);
  const told: Dispatcher.DispatchHandler = {
    onRequestStart: (controller, context) => {
      onSent();
      handler.onRequestStart?.(controller, context);
    },
    onRequestUpgrade: (controller, statusCode, headers, socket) => handler.onRequestUpgrade?.(controller, statusCode, headers, socket),
    onResponseStart: (controller, statusCode, headers, statusMessage) => handler.onResponseStart?.(controller, statusCode, headers, statusMessage),
    onResponseData: (controller, chunk) => handler.onResponseData?.(controller, chunk),
    onResponseEnd: (controller, trailers) => handler.onResponseEnd?.(controller, trailers),
    onResponseError: (controller, error) => handler.onResponseError?.(controller, error),
  };
  return dispatch(opts, told);
};

/** Which Agent a call goes through; a UsableProviderKey is one. */
export interface UpstreamRoute {
  publicAddressesOnly: boolean;
}

export class UpstreamClient {
  private readonly agent: Agent;
  private readonly publicOnlyAgent: Agent;
  private readonly dispatcher: Dispatcher;
  private readonly publicOnlyDispatcher: Dispatcher;
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
    this.dispatcher = this.agent.compose(reportSent);
    this.publicOnlyDispatcher = this.publicOnlyAgent.compose(reportSent);
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
      if (onSent) sentHooks.set(options, onSent);
      const response = await (route.publicAddressesOnly ? this.publicOnlyDispatcher : this.dispatcher).request(options);
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
