// One line per request, written when it is answered: method, path, client address, status and
// time taken. Fastify's own request logging writes two (the first as the request arrives) and
// the full URL; the query string is left out here, so a token a client put there (the router
// refuses it) never reaches the log.

import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

/** The path of a request URL, without its query string. */
export function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** Adds the access line, when the log level shows info lines (nothing is done per request otherwise). */
export function addAccessLog(app: FastifyInstance, log: Logger): void {
  if (!log.isLevelEnabled('info')) return;
  app.addHook('onResponse', (request, reply, done) => {
    log.info(
      {
        reqId: request.id,
        req: { method: request.method, url: pathOf(request.url), remoteAddress: request.ip },
        res: { statusCode: reply.statusCode },
        responseTime: reply.elapsedTime,
      },
      'request completed',
    );
    done();
  });
}
