// A provider's body read from its events: whole and bounded (an answer or an error body), or step
// by step (a stream: each step gives every piece that arrived since the last one). Not through the
// stream's async iterator, whose setup (end-of-stream listeners) and per-read promise round trips
// cost more than the read itself when a whole answer arrives at once.

import type { Readable } from 'node:stream';

/** A body closed without its end or an error (destroyed): the answer was cut off. */
const prematureClose = () => Object.assign(new Error('the body closed before it ended'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });

/**
 * Stops reading a body and drops its connection. undici reports a body destroyed before its end
 * as an AbortError: expected here, and nobody listens for it any more.
 */
export function discardBody(body: Readable): void {
  if (body.destroyed) return;
  body.on('error', () => undefined);
  body.destroy();
}

/** Moves what the (paused) body holds now into `into`, without waiting for a tick. */
function takeBuffered(body: Readable, into: Buffer[]): Buffer[] {
  for (let bytes = body.read() as Buffer | null; bytes !== null; bytes = body.read() as Buffer | null) into.push(bytes);
  return into;
}

const utf8 = (chunks: Buffer[]) => (chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));

/**
 * Reads at most `limit` bytes of the body; the rest is not read, and the connection is dropped.
 * `declaredBytes` is the answer's Content-Length, if it gave one: when that many bytes are already
 * buffered (a small answer arrives with its head), the body is complete by HTTP's framing and is
 * taken at once, without waiting the ticks the stream takes to emit its data and then its end.
 */
export function readBounded(body: Readable, limit: number, declaredBytes?: number): Promise<{ text: string; truncated: boolean }> {
  if (declaredBytes !== undefined && declaredBytes <= limit && !body.readableFlowing && !body.destroyed && body.readableLength === declaredBytes) {
    const chunks = takeBuffered(body, []);
    // Its end is still to be emitted (flowing, so it is even if undici has yet to mark it), and undici
    // reports a body destroyed before then as an error: nobody else listens.
    body.on('error', () => undefined);
    body.resume();
    return Promise.resolve({ text: utf8(chunks), truncated: false });
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (truncated: boolean) => {
      stop();
      resolve({ text: utf8(chunks), truncated });
    };
    const onData = (bytes: Buffer) => {
      if (size + bytes.length > limit) {
        chunks.push(bytes.subarray(0, limit - size));
        done(true);
        discardBody(body);
        return;
      }
      chunks.push(bytes);
      size += bytes.length;
    };
    const onEnd = () => done(false);
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    const onClose = () => onError(prematureClose());
    const stop = () => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
    };
    if (body.readableEnded) return done(false);
    if (body.destroyed) return onClose();
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
    body.on('close', onClose);
  });
}

/** Past this many bytes waiting for the reader, the body is paused: a slow reader slows the upstream. */
const HIGH_WATER_BYTES = 64 * 1024;

/**
 * The body's pieces, in order, a batch per step (never empty). Pieces that arrived before a
 * failure are given first; then the failure is thrown (a body closed before its end is one). Stops
 * listening when the loop ends; destroying the body is the caller's.
 */
export async function* bodyReads(body: Readable): AsyncGenerator<Buffer[]> {
  let pieces: Buffer[] = [];
  let waiting = 0;
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const onData = (bytes: Buffer) => {
    pieces.push(bytes);
    waiting += bytes.length;
    if (waiting >= HIGH_WATER_BYTES) body.pause();
    notify();
  };
  const onEnd = () => {
    ended = true;
    notify();
  };
  const onError = (error: Error) => {
    failure ??= error;
    notify();
  };
  const onClose = () => {
    if (!ended) onError(prematureClose());
  };
  // What arrived with the provider's head (often the whole answer) is taken now: listening for
  // 'data' would hand it over only on the next tick.
  if (!body.readableFlowing && body.readableLength > 0) takeBuffered(body, pieces);
  body.on('data', onData);
  body.on('end', onEnd);
  body.on('error', onError);
  body.on('close', onClose);
  if (body.readableEnded) ended = true;
  else if (body.destroyed) onClose();
  try {
    for (;;) {
      if (pieces.length) {
        const batch = pieces;
        pieces = [];
        waiting = 0;
        if (body.isPaused() && !ended && !failure) body.resume();
        yield batch;
        continue;
      }
      if (failure) throw failure;
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    body.off('data', onData);
    body.off('end', onEnd);
    body.off('error', onError);
    body.off('close', onClose);
  }
}
