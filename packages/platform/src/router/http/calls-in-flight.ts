// How many router calls this process is answering right now: the load signal the stream writer
// reads to choose between latency (a lone call's first event sent at once) and CPU (events of a
// turn written together). Each call counts from its first hook until its response closes.

import type { ServerResponse } from 'node:http';

let inFlight = 0;

/** Counts the call until its response closes (finished or cut off). */
export function countCall(response: ServerResponse): void {
  if (response.destroyed) return;
  inFlight += 1;
  response.once('close', () => {
    inFlight -= 1;
  });
}

export const callsInFlight = (): number => inFlight;
