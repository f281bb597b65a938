// The ordered list of migrations. Append; never edit one that has shipped.

import type { Kysely, Migration, MigrationProvider } from 'kysely';
import { foundation } from './0001-foundation.js';
import { oauth } from './0002-oauth.js';
import { usage } from './0003-usage.js';
import { keyBaseUrlPolicy } from './0007-key-base-url-policy.js';
import { auditLog } from './0010-audit-log.js';
import { proxyAllowedModels } from './0011-proxy-allowed-models.js';
import { passwordLinks } from './0012-password-links.js';
import { money } from './0030-money.js';
import { appCapPolicy } from './0031-app-cap-policy.js';
import { userChosenCaps } from './0033-user-chosen-caps.js';
import { governedClientIndex } from './0034-governed-client-index.js';
import { webSearchRequests } from './0035-web-search-requests.js';
import { unusedAppIndexes } from './0036-unused-app-indexes.js';

export type Dialect = 'sqlite' | 'postgres';

export interface KeywardMigration {
  name: string;
  up(db: Kysely<any>, dialect: Dialect): Promise<void>;
}

const migrations: KeywardMigration[] = [foundation, oauth, usage, keyBaseUrlPolicy, auditLog, proxyAllowedModels, passwordLinks, money, appCapPolicy, userChosenCaps, governedClientIndex, webSearchRequests, unusedAppIndexes];

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return {
    async getMigrations() {
      const out: Record<string, Migration> = {};
      for (const m of migrations) out[m.name] = { up: (db) => m.up(db, dialect) };
      return out;
    },
  };
}
