// Server-Sent Events in both directions: reading upstream streams (via eventsource-parser) and
// writing the router's own streams.

import { createParser } from 'eventsource-parser';
import { MalformedUpstreamResponse, type SseEvent } from './provider-adapter.js';

/**
 * The most of one provider event held while waiting for its end (its line break, or the blank line
 * after its `data:` lines), in characters. Real events are small, but one can carry an image in
 * base64 (a few MiB): this leaves room for that, and stops a stream whose event never ends from
 * growing without limit.
 */
export const MAX_STREAM_EVENT_CHARS = 16 * 2 ** 20;

/**
 * Feed decoded text chunks in; complete events come out through `onEvent`. An event still
 * unfinished past MAX_STREAM_EVENT_CHARS makes `feed` throw MalformedUpstreamResponse.
 */
export function createSseReader(onEvent: (event: SseEvent) => void): { feed(text: string): void; reset(): void } {
  let overflow = false;
  const parser = createParser({
    onEvent(message) {
      const event: SseEvent = { data: message.data };
      if (message.event) event.event = message.event;
      if (message.id) event.id = message.id;
      onEvent(event);
    },
    onError(error) {
      if (error.type === 'max-buffer-size-exceeded') overflow = true;
    },
    maxBufferSize: MAX_STREAM_EVENT_CHARS,
  });
  return {
    feed(text) {
      parser.feed(text);
      if (overflow) throw eventTooLarge();
    },
    reset() {
      overflow = false;
      parser.reset();
    },
  };
}

/** An upstream event past MAX_STREAM_EVENT_CHARS, as the provider's malformed answer. */
export function eventTooLarge(): MalformedUpstreamResponse {
  return new MalformedUpstreamResponse(`a stream event longer than ${MAX_STREAM_EVENT_CHARS / 2 ** 20} MiB`);
}

/** Encode one event in SSE framing. `data` is written as is (callers JSON.stringify). */
export function formatSseEvent(data: string, event?: string): string {
  return event === undefined ? `data: ${data}\n\n` : `event: ${event}\ndata: ${data}\n\n`;
}
