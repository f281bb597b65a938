// Step 4–5 at the wire: call the provider with the best key, and fail over to the next key of the
// same rank on 429, 5xx, timeouts, connection errors and answers that cannot be read — but only
// until the caller has been sent anything. Also reads a provider's SSE stream event by event.

import { StringDecoder } from 'node:string_decoder';
import type { Logger } from 'pino';
import type { KeyCooldowns } from '../../keys/key-cooldowns.js';
import type { UsableProviderKey } from '../../keys/resolve-provider-key.js';
import { observeKeyCooldown, observeKeyFailover, observeUpstreamResponse } from '../../metrics/metrics.js';
import { MalformedUpstreamResponse, UpstreamStreamError, type ProviderAdapter, type SseEvent, type StreamFraming, type UpstreamRequest, type UpstreamTarget } from '../../providers/provider-adapter.js';
import { createSseReader, eventTooLarge, MAX_STREAM_EVENT_CHARS } from '../../providers/sse.js';
import { bodyReads, discardBody, readBounded } from '../../upstream/body-reads.js';
import { EventDeadline } from './event-deadline.js';
import type { UpstreamSignal } from '../../upstream/call-signal.js';
import type { UsageMeter } from '../metering.js';
import { classifyUpstreamError, UnsendableRequestError, UpstreamFailure, type UpstreamClient, type UpstreamResponse } from '../../upstream/upstream-client.js';
import { RouterError } from '../router-error.js';
import { providerFault, UpstreamRouterError, upstreamFailureError, upstreamStatusError } from './upstream-errors.js';

export interface ProviderCall {
  adapter: ProviderAdapter;
  keys: readonly UsableProviderKey[];
  signal: UpstreamSignal;
  meter: UsageMeter;
  log: Logger;
  /** Told how each key fared, so the next calls skip a key that just failed. */
  cooldowns?: KeyCooldowns;
}

export { targetOf } from '../../keys/resolve-provider-key.js';

/**
 * Runs `attempt` with each key in turn until one succeeds or fails for a reason another key
 * would not fix. What `attempt` throws is mapped by providerFault (UpstreamFailure,
 * MalformedUpstreamResponse, UpstreamStreamError, or an UpstreamRouterError already).
 */
export async function withKeyFailover<T>(call: ProviderCall, attempt: (key: UsableProviderKey) => Promise<T>): Promise<T> {
  let last: unknown;
  for (const [i, key] of call.keys.entries()) {
    call.meter.useKey(key);
    try {
      const result = await attempt(key);
      call.cooldowns?.recover(key.id);
      return result;
    } catch (thrown) {
      const error = providerFault(call.adapter, key.apiKey, thrown);
      last = error;
      if (error instanceof UpstreamRouterError && error.retryable) {
        // A malformed answer fails over but does not rest the key: the 200 came from a key that works.
        if (error.code !== 'upstream_bad_response' && call.cooldowns) {
          call.cooldowns.rest(key.id, error.retryAfter);
          observeKeyCooldown(call.adapter.id);
        }
      }
      // Any other answer (a 400, a refusal) means the key itself works.
      else if (!call.signal.aborted) call.cooldowns?.recover(key.id);
      const more = i < call.keys.length - 1;
      if (!(error instanceof UpstreamRouterError) || !error.retryable || !more || call.signal.aborted) throw error;
      observeKeyFailover(call.adapter.id);
      call.log.warn({ provider: call.adapter.id, keyId: key.id, status: error.status, code: error.code }, 'provider key failed; failing over to the next key');
    }
  }
  throw last;
}

/** A provider's error body is only ever shown in part: read no more than this. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** A non-streamed answer larger than this is refused rather than held in memory (embeddings of big batches fit). */
export const MAX_JSON_BODY_BYTES = 64 * 2 ** 20;

/** Sends one request; a non-2xx answer becomes an UpstreamRouterError (body read, bounded by the idle timeout). */
export async function sendToProvider(
  client: UpstreamClient,
  call: ProviderCall,
  key: UsableProviderKey,
  request: UpstreamRequest,
): Promise<UpstreamResponse> {
  let response: UpstreamResponse;
  const sentAt = performance.now();
  const reachedBefore = call.meter.reachedProvider;
  try {
    response = await client.send(request, call.signal, key, () => (call.meter.reachedProvider = true));
  } catch (error) {
    if (error instanceof UnsendableRequestError) throw error;
    throw upstreamFailureError(call.adapter, classifyUpstreamError(error, call.signal, 'headers'));
  }
  observeUpstreamResponse(call.adapter.id, (performance.now() - sentAt) / 1000);
  if (response.status >= 200 && response.status < 300) return response;
  // The provider refused this attempt: it bills nothing for it.
  call.meter.reachedProvider = reachedBefore;
  let text = '';
  try {
    text = (await readBounded(response.body, MAX_ERROR_BODY_BYTES)).text;
  } catch (error) {
    const failure = classifyUpstreamError(error, call.signal, 'body');
    if (failure.kind === 'aborted') throw upstreamFailureError(call.adapter, failure);
  }
  // A member's key may point anywhere it was allowed to: its provider's words never reach the caller, only the mapped status and code.
  throw upstreamStatusError(call.adapter, response.status, key.baseUrlPolicy === 'member' ? '' : text, response.headers, key.apiKey);
}

/** A Content-Length header's value, when it is one plain decimal number (undici holds the body to it). */
function declaredLength(header: string | string[] | undefined): number | undefined {
  return typeof header === 'string' && /^\d{1,15}$/.test(header) ? Number(header) : undefined;
}

export async function readJsonBody(call: ProviderCall, response: UpstreamResponse): Promise<unknown> {
  let body: { text: string; truncated: boolean };
  try {
    body = await readBounded(response.body, MAX_JSON_BODY_BYTES, declaredLength(response.headers['content-length']));
  } catch (error) {
    throw upstreamFailureError(call.adapter, classifyUpstreamError(error, call.signal, 'body'));
  }
  if (body.truncated) {
    throw new UpstreamRouterError(502, 'upstream_error', `${call.adapter.displayName} answered with more than ${MAX_JSON_BODY_BYTES / 2 ** 20} MiB.`, 'upstream_bad_response', false);
  }
  try {
    return JSON.parse(body.text);
  } catch {
    throw new MalformedUpstreamResponse(body.text.trim() ? 'the body is not JSON' : 'the body is empty');
  }
}

/**
 * An adapter reading what the provider sent: whatever it throws on the way (a TypeError on a
 * shape it did not expect too) is the provider's malformed answer, not Keyward's 500.
 */
export function readProviderAnswer<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof MalformedUpstreamResponse || error instanceof UpstreamStreamError || error instanceof UpstreamFailure || error instanceof RouterError) throw error;
    throw new MalformedUpstreamResponse(`reading it failed (${error instanceof Error ? error.message : String(error)})`);
  }
}

export interface UpstreamEventsOptions {
  framing?: StreamFraming;
  /** The longest the provider may go without a complete event (comments and partial lines do not count): the upstream timeout. */
  eventIdleMs: number;
}

/**
 * The provider's stream as events, read as the bytes arrive: one batch per upstream read (never
 * empty), so what follows costs one step per read rather than one per event. Failures surface as
 * UpstreamFailure (no event within `eventIdleMs` is a timeout), an event past
 * MAX_STREAM_EVENT_CHARS as MalformedUpstreamResponse; either way the body is destroyed.
 */
export async function* readUpstreamEvents(
  response: UpstreamResponse,
  signal: UpstreamSignal,
  { framing = 'sse', eventIdleMs }: UpstreamEventsOptions,
): AsyncGenerator<SseEvent[]> {
  // StringDecoder keeps a character split across reads for the next one, like TextDecoder's
  // stream mode, at a fraction of its cost (which goes through ICU on every read).
  const decoder = new StringDecoder('utf8');
  let pending: SseEvent[] = [];
  let lineBuffer = '';
  const sse = createSseReader((event) => pending.push(event));
  const feed = (text: string) => {
    if (framing === 'sse') return sse.feed(text);
    // Split only what a line break ends: an unfinished line only grows, up to the bound.
    const end = text.lastIndexOf('\n');
    if (end < 0) {
      lineBuffer += text;
      if (lineBuffer.length > MAX_STREAM_EVENT_CHARS) throw eventTooLarge();
      return;
    }
    const lines = (lineBuffer + text.slice(0, end)).split('\n');
    lineBuffer = text.slice(end + 1);
    for (const line of lines) if (line.trim()) pending.push({ data: line });
  };
  const deadline = new EventDeadline(eventIdleMs, () => {
    response.body.destroy(new UpstreamFailure('timeout', 'the provider sent no complete event in time', 'body'));
  });
  // Each batch is handed on as soon as it is complete (so on each event): the deadline holds while
  // the reader is away (that time is the caller's, not the provider's) and starts over when it is back.
  const take = () => {
    const batch = pending;
    pending = [];
    deadline.hold();
    return batch;
  };
  // Until the first event is out, a read is parsed a blank line at a time, and that event goes on
  // before the rest of the read is parsed (the parser takes text in any pieces).
  let firstOut = framing !== 'sse';
  try {
    for await (const pieces of bodyReads(response.body)) {
      for (const bytes of pieces) {
        let text = decoder.write(bytes);
        while (!firstOut) {
          const cut = text.indexOf('\n\n');
          if (cut < 0) break;
          feed(text.slice(0, cut + 2));
          text = text.slice(cut + 2);
          if (pending.length) {
            firstOut = true;
            yield take();
            deadline.resume();
          }
        }
        feed(text);
      }
      if (pending.length) {
        firstOut = true;
        yield take();
        deadline.resume();
      }
    }
    feed(decoder.end());
    if (framing === 'sse') sse.feed('\n\n');
    else if (lineBuffer.trim()) pending.push({ data: lineBuffer });
    if (pending.length) yield take();
  } catch (error) {
    if (error instanceof UpstreamFailure || error instanceof MalformedUpstreamResponse) throw error;
    throw classifyUpstreamError(error, signal, 'body');
  } finally {
    deadline.stop();
    discardBody(response.body);
  }
}

/**
 * One non-streamed provider call, the same for every route: failover over the keys, the JSON
 * body read bounded, and `read` checking its shape (what it throws is the provider's malformed answer).
 */
export function callProvider<T>(client: UpstreamClient, call: ProviderCall, build: (key: UsableProviderKey) => UpstreamRequest, read: (answer: unknown) => T): Promise<T> {
  return withKeyFailover(call, async (key) => {
    const response = await sendToProvider(client, call, key, build(key));
    const answer = await readJsonBody(call, response);
    return readProviderAnswer(() => read(answer));
  });
}

export interface OpenedStream<T> {
  /** Items read before anything was sent to the caller (at least one, unless the answer was empty). */
  first: T[];
  /** The rest, each failure already mapped by providerFault with the key that answered. */
  rest: AsyncGenerator<T>;
  /** The key that answered. */
  key: UsableProviderKey;
}

/**
 * One streamed provider call, the same for every route: `read` turns the provider's events into
 * items; failover goes on until the first item is read, so whatever fails before it gets a real
 * status and the next key. Once this returns, the caller's response may be committed.
 */
export function openProviderStream<T>(
  client: UpstreamClient,
  call: ProviderCall,
  build: (key: UsableProviderKey) => UpstreamRequest,
  framing: StreamFraming | undefined,
  read: (events: AsyncGenerator<SseEvent[]>, key: UsableProviderKey) => AsyncGenerator<T>,
): Promise<OpenedStream<T>> {
  return withKeyFailover(call, async (key) => {
    const response = await sendToProvider(client, call, key, build(key));
    const items = read(readUpstreamEvents(response, call.signal, { framing, eventIdleMs: client.timeouts.idleMs }), key);
    const first: T[] = [];
    try {
      const next = await items.next();
      if (!next.done) first.push(next.value);
    } catch (error) {
      await items.return(undefined);
      throw error;
    }
    return { first, rest: mapProviderFaults(call.adapter, key.apiKey, items), key };
  });
}

async function* mapProviderFaults<T>(adapter: ProviderAdapter, apiKey: string, items: AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    yield* items;
  } catch (error) {
    throw providerFault(adapter, apiKey, error);
  }
}
