// How a committed stream ends, the same for every inbound format: completely (`ok`), because the
// client left (`client_aborted`: the upstream read is cancelled), because Keyward ended it (its
// caller lost access, or the shutdown grace period is over: an error event, metered `rejected`,
// running-calls.ts), or because the provider failed
// (an error event in the caller's format, then the end — or the provider's own error event, when
// it was passed through as is). Metered exactly once in every case.

import type { RouterContext } from '../router-context.js';
import { loggableError, toRouterError, usageOutcome, type RouterError } from '../router-error.js';
import type { RouterCall } from './router-call.js';
import { endedWith } from './running-calls.js';
import { ClientGoneError, type SseWriter } from './sse-writer.js';

/** The provider's own error event has already reached the caller untouched: meter it, send nothing more. */
export class ForwardedStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForwardedStreamError';
  }
}

export async function finishStream(
  router: RouterContext,
  call: RouterCall,
  writer: SseWriter,
  pump: () => Promise<void>,
  encodeError: (error: RouterError) => string,
  cancelUpstream: () => Promise<unknown>,
): Promise<void> {
  const { meter, signal } = call;
  try {
    await pump();
    // The answer leaves first; the record is made after it (its latency then counts the last write).
    writer.end();
    meter.finish(200, 'ok');
  } catch (error) {
    const ended = endedWith(signal);
    if (ended) {
      // Keyward ended it (the caller lost access, or shutdown): the caller is told why, in its format.
      if (!writer.started) throw ended;
      meter.finish(200, 'rejected', ended.message);
      await cancelUpstream().catch(() => undefined);
      try {
        await writer.write(encodeError(ended));
      } catch {
        // The client is gone as well.
      }
      return;
    }
    if (error instanceof ClientGoneError || signal.aborted) {
      meter.finish(200, 'client_aborted', 'the client closed the connection');
      await cancelUpstream().catch(() => undefined);
      writer.abandon();
      return;
    }
    if (error instanceof ForwardedStreamError) {
      meter.finish(200, 'upstream_error', error.message);
      await cancelUpstream().catch(() => undefined);
      return;
    }
    const routerError = toRouterError(error, meter.providerKey);
    if (routerError.status >= 500 && routerError.code === 'internal_error') router.app.log.error({ err: loggableError(error, meter.providerKey) }, 'router stream failed');
    const outcome = usageOutcome(routerError);
    // After the 200 nothing is refused any more: a stream that breaks broke upstream of the caller.
    meter.finish(200, outcome === 'rejected' ? 'upstream_error' : outcome, routerError.message);
    try {
      await writer.write(encodeError(routerError));
    } catch {
      // The client is gone as well; nothing left to tell.
    }
    await cancelUpstream().catch(() => undefined);
  } finally {
    writer.end();
  }
}
