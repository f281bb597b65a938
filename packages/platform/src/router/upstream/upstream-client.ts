// The router's side of the network: one undici Agent (a keep-alive Pool per upstream origin),
// connect / first-byte / idle-between-chunks timeouts, and the caller's AbortSignal wired through,
// so a client that goes away cancels the provider call.

import { Agent, request as undiciRequest, type Dispatcher } from 'undici';
import type { UpstreamRequest } from '../../providers/provider-adapter.js';

export interface UpstreamTimeouts {
  /** TCP/TLS connect. */
  connectMs: number;
  /** Wait for the response headers, and between two body chunks (the first one included). */
  idleMs: number;
}

/** Why a call produced no HTTP answer. `aborted` = our caller went away. */
export type UpstreamFailureKind = 'timeout' | 'connection' | 'aborted';

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

export class UpstreamClient {
  private readonly agent: Agent;

  constructor(private readonly timeouts: UpstreamTimeouts) {
    this.agent = new Agent({
      connect: { timeout: timeouts.connectMs },
      // Providers close idle sockets after ~60 s or so; reuse them well before that.
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      connections: 256,
      pipelining: 1,
      headersTimeout: timeouts.idleMs,
      bodyTimeout: timeouts.idleMs,
    });
  }

  async send(upstream: UpstreamRequest, signal: AbortSignal): Promise<UpstreamResponse> {
    try {
      const response = await undiciRequest(upstream.url, {
        dispatcher: this.agent,
        method: upstream.method,
        headers: upstream.body === undefined ? upstream.headers : { 'content-type': 'application/json', ...upstream.headers },
        body: upstream.body === undefined ? null : JSON.stringify(upstream.body),
        signal,
        headersTimeout: this.timeouts.idleMs,
        bodyTimeout: this.timeouts.idleMs,
      });
      return { status: response.statusCode, headers: response.headers, body: response.body };
    } catch (error) {
      throw classifyUpstreamError(error, signal, 'headers');
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** An error thrown by undici (sending, or reading the body) as an UpstreamFailure. */
export function classifyUpstreamError(error: unknown, signal: AbortSignal | undefined, phase: 'headers' | 'body'): UpstreamFailure {
  if (error instanceof UpstreamFailure) return error;
  const code = (error as { code?: string })?.code ?? '';
  const message = error instanceof Error ? error.message : String(error);
  if (signal?.aborted || code === 'UND_ERR_ABORTED' || (error as Error)?.name === 'AbortError') {
    return new UpstreamFailure('aborted', 'the client closed the connection', phase);
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return new UpstreamFailure('timeout', 'connecting to the provider timed out', 'connect');
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return new UpstreamFailure('timeout', 'the provider did not start answering in time', 'headers');
  if (code === 'UND_ERR_BODY_TIMEOUT') return new UpstreamFailure('timeout', 'the provider stopped sending in the middle of its answer', 'body');
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const detail = cause?.code ?? code ?? '';
  return new UpstreamFailure('connection', `could not reach the provider${detail ? ` (${detail})` : ''}: ${cause?.message ?? message}`, phase);
}
