// The console: one guard, then one plugin per page. Add a page by adding its file and a line here.

import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../app-context.js';
import { accountPage } from './account-page.js';
import { appsPage } from './apps-page.js';
import { auditPage } from './audit-page.js';
import { installConsoleGuard } from './guard.js';
import { keysPage } from './keys-page.js';
import { limitsPage } from './limits-page.js';
import { overviewPage } from './overview-page.js';
import { pricesPage } from './prices-page.js';
import { proxiesPage } from './proxies-page.js';
import { teamsPage } from './teams-page.js';
import { usagePages } from './usage-page.js';
import { usersPage } from './users-page.js';

export async function consolePages(app: FastifyInstance, ctx: AppContext): Promise<void> {
  installConsoleGuard(app, ctx);
  await app.register(overviewPage, ctx);
  await app.register(usagePages, ctx);
  await app.register(accountPage, ctx);
  await app.register(keysPage, ctx);
  await app.register(proxiesPage, ctx);
  await app.register(limitsPage, ctx);
  await app.register(pricesPage, ctx);
  await app.register(usersPage, ctx);
  await app.register(teamsPage, ctx);
  await app.register(appsPage, ctx);
  await app.register(auditPage, ctx);
}
