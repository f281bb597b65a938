// Fastify's request log lines, as Keyward writes them: one access line per request when it is
// answered (Fastify writes two, the first as it arrives) with method, path, client address,
// status and time taken; errors as before. Never a URL's query string — Fastify's lines carry
// the full URL, so a token a client put in the query (the router refuses it) reached the log.
// Nor a password link's token, which is in its path.

import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { PASSWORD_LINK_PATH } from './accounts/password-links.js';

/** Paths whose next segment is a secret (a password link's one-time token): logged as `…`. */
const SECRET_SEGMENT_AFTER = [`${PASSWORD_LINK_PATH}/`];

/** The path of a request URL, without its query string or a secret it carries. */
export function pathOf(url: string): string {
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  for (const prefix of SECRET_SEGMENT_AFTER) {
    if (path.startsWith(prefix)) {
      const end = path.indexOf('/', prefix.length);
      return `${prefix}…${end === -1 ? '' : path.slice(end)}`;
    }
  }
  return path;
}

/** What every line says of the request: by the root logger with the request id as a field, the line the request's child logger would write, without making one. */
const lineOf = (request: FastifyRequest, reply: FastifyReply) => ({
  reqId: request.id,
  req: { method: request.method, url: pathOf(request.url), remoteAddress: request.ip },
  res: { statusCode: reply.statusCode },
});

export class AccessLogController extends LogController {
  /** Whether the level shows info lines: otherwise a request that goes well writes nothing. */
  readonly #access: boolean;

  constructor(private readonly log: Logger) {
    super();
    this.#access = log.isLevelEnabled('info');
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (!error && !this.#access) return;
    const line = { ...lineOf(request, reply), responseTime: reply.elapsedTime };
    if (error) this.log.error({ ...line, err: error }, 'request errored');
    else this.log.info(line, 'request completed');
  }

  /** The access line already says 404. */
  override routeNotFound(): void {}

  override defaultErrorLog(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    const line = { ...lineOf(request, reply), err: error };
    if (reply.statusCode >= 500) this.log.error(line, error?.message);
    else if (this.#access) this.log.info(line, error?.message);
  }

  override writeHeadError(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    this.log.warn({ ...lineOf(request, reply), err: error }, error?.message);
  }
}
