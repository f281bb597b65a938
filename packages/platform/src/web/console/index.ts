// The console: one guard, then one plugin per page. Add a page by adding its file and a line here.

import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../app-context.js';
import { installConsoleGuard } from './guard.js';

export async function consolePages(app: FastifyInstance, ctx: AppContext): Promise<void> {
  installConsoleGuard(app, ctx);
}
