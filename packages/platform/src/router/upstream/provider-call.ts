// Step 4–5 at the wire: call the provider with the best key, and fail over to the next key of the
// same rank on 429, 5xx, timeouts and connection errors — but only until the caller has been
// sent anything. Also reads a provider's SSE stream event by event as it arrives.

import type { Logger } from 'pino';
import type { UsableProviderKey } from '../../keys/resolve-provider-key.js';
import type { ProviderAdapter, SseEvent, StreamFraming, UpstreamRequest, UpstreamTarget } from '../../providers/provider-adapter.js';
import { createSseReader } from '../../providers/sse.js';
import type { UsageMeter } from '../metering.js';
import { classifyUpstreamError, UpstreamFailure, type UpstreamClient, type UpstreamResponse } from './upstream-client.js';
import { UpstreamRouterError, upstreamFailureError, upstreamStatusError } from './upstream-errors.js';

export interface ProviderCall {
  adapter: ProviderAdapter;
  keys: readonly UsableProviderKey[];
  signal: AbortSignal;
  meter: UsageMeter;
  log: Logger;
}

export function targetOf(key: UsableProviderKey): UpstreamTarget {
  const target: UpstreamTarget = { baseUrl: key.baseUrl, apiKey: key.apiKey };
  if (key.options) target.options = key.options;
  return target;
}

/**
 * Runs `attempt` with each key in turn until one succeeds or fails for a reason another key
 * would not fix. `attempt` must throw UpstreamRouterError (retryable or not) for provider faults.
 */
export async function withKeyFailover<T>(call: ProviderCall, attempt: (key: UsableProviderKey) => Promise<T>): Promise<T> {
  let last: unknown;
  for (const [i, key] of call.keys.entries()) {
    call.meter.keyId = key.id;
    try {
      return await attempt(key);
    } catch (error) {
      last = error;
      const more = i < call.keys.length - 1;
      if (!(error instanceof UpstreamRouterError) || !error.retryable || !more || call.signal.aborted) throw error;
      call.log.warn({ provider: call.adapter.id, keyId: key.id, status: error.status, code: error.code }, 'provider key failed; failing over to the next key');
    }
  }
  throw last;
}

/** Sends one request; a non-2xx answer becomes an UpstreamRouterError (body read, bounded by the idle timeout). */
export async function sendToProvider(
  client: UpstreamClient,
  call: ProviderCall,
  key: UsableProviderKey,
  request: UpstreamRequest,
): Promise<UpstreamResponse> {
  let response: UpstreamResponse;
  try {
    response = await client.send(request, call.signal);
  } catch (error) {
    throw upstreamFailureError(call.adapter, classifyUpstreamError(error, call.signal, 'headers'));
  }
  if (response.status >= 200 && response.status < 300) return response;
  let text = '';
  try {
    text = await response.body.text();
  } catch (error) {
    const failure = classifyUpstreamError(error, call.signal, 'body');
    if (failure.kind === 'aborted') throw upstreamFailureError(call.adapter, failure);
  }
  throw upstreamStatusError(call.adapter, response.status, text, response.headers, key.apiKey);
}

export async function readJsonBody(call: ProviderCall, response: UpstreamResponse): Promise<unknown> {
  let text: string;
  try {
    text = await response.body.text();
  } catch (error) {
    throw upstreamFailureError(call.adapter, classifyUpstreamError(error, call.signal, 'body'));
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UpstreamRouterError(502, 'upstream_error', `${call.adapter.displayName} answered with a body that is not JSON.`, 'upstream_bad_response', true);
  }
}

/** The provider's stream as events, read as the bytes arrive. Failures surface as UpstreamFailure. */
export async function* readUpstreamEvents(
  response: UpstreamResponse,
  signal: AbortSignal,
  framing: StreamFraming = 'sse',
): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  const pending: SseEvent[] = [];
  let lineBuffer = '';
  const sse = createSseReader((event) => pending.push(event));
  const feed = (text: string) => {
    if (framing === 'sse') return sse.feed(text);
    lineBuffer += text;
    const lines = lineBuffer.split('\n');
    lineBuffer = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) pending.push({ data: line });
  };
  try {
    for await (const bytes of response.body) {
      feed(decoder.decode(bytes as Buffer, { stream: true }));
      while (pending.length) yield pending.shift()!;
    }
    feed(decoder.decode());
    if (framing === 'sse') sse.feed('\n\n');
    else if (lineBuffer.trim()) pending.push({ data: lineBuffer });
    while (pending.length) yield pending.shift()!;
  } catch (error) {
    if (error instanceof UpstreamFailure) throw error;
    throw classifyUpstreamError(error, signal, 'body');
  } finally {
    if (!response.body.destroyed) response.body.destroy();
  }
}
