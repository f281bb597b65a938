// Server-Sent Events in both directions: reading upstream streams (via eventsource-parser) and
// writing the router's own streams.

import { createParser } from 'eventsource-parser';
import type { SseEvent } from './provider-adapter.js';

/** Feed decoded text chunks in; complete events come out through `onEvent`. */
export function createSseReader(onEvent: (event: SseEvent) => void): { feed(text: string): void; reset(): void } {
  const parser = createParser({
    onEvent(message) {
      const event: SseEvent = { data: message.data };
      if (message.event) event.event = message.event;
      if (message.id) event.id = message.id;
      onEvent(event);
    },
  });
  return { feed: (text) => parser.feed(text), reset: () => parser.reset() };
}

/** Encode one event in SSE framing. `data` is written as is (callers JSON.stringify). */
export function formatSseEvent(data: string, event?: string): string {
  return event === undefined ? `data: ${data}\n\n` : `event: ${event}\ndata: ${data}\n\n`;
}
