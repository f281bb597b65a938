// The caller's side of a stream: the status line and headers go out with the first event (so
// anything that fails before it still gets a real status), then events as they come, respecting
// backpressure so a slow reader slows the upstream read instead of filling memory.

import type { FastifyReply, FastifyRequest } from 'fastify';

export class ClientGoneError extends Error {
  constructor() {
    super('the client closed the connection');
    this.name = 'ClientGoneError';
  }
}

export class SseWriter {
  private opened = false;
  private corked = false;
  /** Events written in the same tick (those of one upstream read) leave in one socket write. */
  private readonly uncork = () => {
    this.corked = false;
    this.reply.raw.uncork();
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
    this.open();
    const raw = this.reply.raw;
    if (raw.destroyed || raw.writableEnded) throw new ClientGoneError();
    if (!this.corked) {
      this.corked = true;
      raw.cork();
      process.nextTick(this.uncork);
    }
    if (raw.write(text)) return;
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        raw.off('drain', done);
        raw.off('close', gone);
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
  }

  /** The client left before anything was sent: tell Fastify the reply is handled. */
  abandon(): void {
    if (!this.opened) {
      this.opened = true;
      this.reply.hijack();
      if (!this.reply.raw.writableEnded) this.reply.raw.end();
    }
  }

  end(): void {
    if (this.opened && !this.reply.raw.writableEnded) this.reply.raw.end();
  }
}
