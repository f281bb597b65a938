// A router call's cancellation, tripped when its caller disconnects. undici takes an EventEmitter
// as a request's signal (it listens for 'abort' and reads `aborted` and `reason`), and that is all
// a call needs: an AbortController costs several µs per call on Node 20, which builds each
// AbortSignal as an EventTarget and then swaps its prototype, and adds an EventTarget listener
// per upstream request; this costs a fraction of one.

import { EventEmitter } from 'node:events';

export class CallSignal extends EventEmitter {
  aborted = false;
  reason: Error | undefined = undefined;

  /** Trips the signal once: every 'abort' listener runs, later calls do nothing. */
  abort(reason: Error = abortError()): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}

/** The same error an AbortController's abort() gives (a DOMException named AbortError). */
const abortError = () => new DOMException('This operation was aborted', 'AbortError');

/** What an upstream call may be cancelled by: a router call's CallSignal, or a timeout's AbortSignal. */
export type UpstreamSignal = AbortSignal | CallSignal;
