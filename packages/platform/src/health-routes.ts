// /healthz: the process answers. /readyz: it can serve (database reachable, not shutting down).

import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from './app-context.js';

let shuttingDown = false;
export const markShuttingDown = () => {
  shuttingDown = true;
};

export async function healthRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (shuttingDown) return reply.code(503).send({ status: 'shutting_down' });
    try {
      await sql`select 1`.execute(ctx.db);
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'database_unreachable' });
    }
  });
}
