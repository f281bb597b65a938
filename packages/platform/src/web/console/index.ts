// The console: one guard, then one plugin per page. Add a page by adding its file and a line here.

import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../app-context.js';
import { accountPage } from './account-page.js';
import { installConsoleGuard } from './guard.js';
import { overviewPage } from './overview-page.js';
import { usagePages } from './usage-page.js';

export async function consolePages(app: FastifyInstance, ctx: AppContext): Promise<void> {
  installConsoleGuard(app, ctx);
  await app.register(overviewPage, ctx);
  await app.register(usagePages, ctx);
  await app.register(accountPage, ctx);
}
