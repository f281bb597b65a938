// The caller's side of a stream: the status line and headers go out with the first event (so
// anything that fails before it still gets a real status), then events as they come, respecting
// backpressure so a slow reader slows the upstream read instead of filling memory.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { callsInFlight } from './calls-in-flight.js';

export class ClientGoneError extends Error {
  constructor() {
    super('the client closed the connection');
    this.name = 'ClientGoneError';
  }
}

export class SseWriter {
  private opened = false;
  /**
   * Events written in the same turn of the event loop leave as one string in one socket write
   * (the first event of a lone call excepted, below): one chunk of the chunked encoding instead
   * of one per event. The flush waits for the end of the turn (setImmediate, not nextTick), so
   * when the provider's last events and its end arrive in one read, the answer, [DONE] and the
   * end of the response leave in a single write.
   */
  private pending = '';
  /** Set while the socket's buffer is full: the next write waits for it to drain (or the client to leave). */
  private blocked: Promise<void> | undefined;
  private readonly flush = () => {
    const text = this.pending;
    this.pending = '';
    const raw = this.reply.raw;
    if (!text || raw.destroyed || raw.writableEnded || raw.write(text)) return;
    this.blocked = new Promise<void>((resolve, reject) => {
      const done = () => {
        raw.off('drain', done);
        raw.off('close', gone);
        this.blocked = undefined;
        resolve();
      };
      const gone = () => {
        raw.off('drain', done);
        raw.off('close', gone);
        reject(new ClientGoneError());
      };
      raw.on('drain', done);
      raw.on('close', gone);
    });
    // Nobody may be waiting yet; a rejection is seen by the next write.
    this.blocked.catch(() => undefined);
  };

  constructor(
    private readonly request: FastifyRequest,
    private readonly reply: FastifyReply,
  ) {}

  get started(): boolean {
    return this.opened;
  }

  private open(): void {
    if (this.opened) return;
    this.opened = true;
    this.reply.hijack();
    this.reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': this.request.id,
    });
  }

  async write(text: string): Promise<void> {
    if (!text) return;
    const first = !this.opened;
    this.open();
    const raw = this.reply.raw;
    if (raw.destroyed || raw.writableEnded) throw new ClientGoneError();
    if (first && callsInFlight() <= 1) {
      // The only call in this process: its first event leaves now, with the status line and
      // headers, rather than after the rest of this turn's work (the rest of the provider's read).
      // Node holds a response's writes until the next tick (it corks the socket), which comes
      // only once this turn's promises are done; the socket is uncorked so the event goes at once.
      // With other calls in flight, the first event joins the turn's batch: a socket write more
      // per stream would cost more CPU under load than it saves (docs/performance.md).
      const socket = raw.socket;
      const corked = socket?.writableCorked ?? 0;
      this.pending = text;
      this.flush();
      if (socket && socket.writableCorked > corked) socket.uncork();
      return;
    }
    if (this.blocked) await this.blocked;
    if (!this.pending) setImmediate(this.flush);
    this.pending += text;
  }

  /** The client left before anything was sent: tell Fastify the reply is handled. */
  abandon(): void {
    if (!this.opened) {
      this.opened = true;
      this.reply.hijack();
      if (!this.reply.raw.writableEnded) this.reply.raw.end();
    }
  }

  /** Ends the response; events still waiting for their tick leave with the end, in the same write. */
  end(): void {
    const raw = this.reply.raw;
    if (!this.opened || raw.writableEnded) return;
    const text = this.pending;
    this.pending = '';
    if (text && !raw.destroyed) raw.end(text);
    else raw.end();
  }
}
