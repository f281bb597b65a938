// GET /metrics in Prometheus text format. With KEYWARD_METRICS_TOKEN set, only a caller sending
// it as `Authorization: Bearer` may read them (compared in constant time).

import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app-context.js';
import { flushObservations, metricsRegistry } from './metrics.js';

export const METRICS_PATH = '/metrics';

const digest = (value: string) => createHash('sha256').update(value).digest();

export async function metricsRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const expected = ctx.config.metricsToken === undefined ? undefined : digest(ctx.config.metricsToken);
  app.get(METRICS_PATH, async (request, reply) => {
    if (expected) {
      const match = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '');
      // Digests of equal length, so the comparison's time says nothing about the token.
      if (!match || !timingSafeEqual(digest(match[1]!.trim()), expected)) {
        return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: 'GET /metrics needs Authorization: Bearer <KEYWARD_METRICS_TOKEN>.' });
      }
    }
    flushObservations();
    const body = await metricsRegistry.metrics();
    return reply.header('content-type', metricsRegistry.contentType).header('cache-control', 'no-store').send(body);
  });
}
