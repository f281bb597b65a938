// First start: an organization, its first administrator, and the "Default LLM Proxy".

import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Config } from '../config.js';
import { ConfigError } from '../config.js';
import type { Dialect } from '../db/database.js';
import type { Database } from '../db/schema.js';
import { DEFAULT_PROXY_NAME, createLlmProxy, findDefaultLlmProxy } from '../proxies/llm-proxies.js';
import { addMembership, ensurePrimaryOrganization } from './organizations.js';
import { checkPasswordStrength } from './passwords.js';
import { createUser, findUserByEmail } from './users.js';

export const GENERATED_ADMIN_EMAIL = 'admin@localhost';

export interface BootstrapResult {
  /** Set only when this start generated the admin password: print it once. */
  generatedAdmin?: { email: string; password: string };
  createdAdmin?: string;
  /** Why the administrator password from the environment is weak, when it is. */
  weakAdminPassword?: string;
}

/** Any fixed number: the PostgreSQL advisory lock that lets one starting instance bootstrap at a time. */
const BOOTSTRAP_LOCK = 7_351_001;

export async function bootstrap(
  db: Kysely<Database>,
  config: Pick<Config, 'adminEmail' | 'adminPassword'>,
  dialect: Dialect = 'sqlite',
): Promise<BootstrapResult> {
  if (Boolean(config.adminEmail) !== Boolean(config.adminPassword)) {
    throw new ConfigError('KEYWARD_ADMIN_EMAIL and KEYWARD_ADMIN_PASSWORD must be set together');
  }
  if (dialect !== 'postgres') return bootstrapOnce(db, config);
  // Several instances may start at once on one empty database: each waits its turn, and the later
  // ones find the organization, admin and proxy already there.
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`.execute(trx);
    return bootstrapOnce(trx, config);
  });
}

async function bootstrapOnce(db: Kysely<Database>, config: Pick<Config, 'adminEmail' | 'adminPassword'>): Promise<BootstrapResult> {
  const result: BootstrapResult = {};
  const anyUser = await db.selectFrom('users').select('id').limit(1).executeTakeFirst();
  let admin: { email: string; password: string } | undefined;
  if (config.adminEmail && config.adminPassword) {
    if (!(await findUserByEmail(db, config.adminEmail))) admin = { email: config.adminEmail, password: config.adminPassword };
  } else if (!anyUser) {
    admin = { email: GENERATED_ADMIN_EMAIL, password: randomBytes(18).toString('base64url') };
    result.generatedAdmin = admin;
  }
  const org = await ensurePrimaryOrganization(db, 'Default Organization');
  if (admin) {
    // An operator who set KEYWARD_ADMIN_PASSWORD chose it: warn about a weak one, do not refuse to start.
    try {
      checkPasswordStrength(admin.password, admin.email);
    } catch (error) {
      result.weakAdminPassword = (error as Error).message;
    }
    const user = await createUser(db, admin, { checkStrength: false });
    await addMembership(db, org.id, user.id, 'admin');
    result.createdAdmin = user.email;
  }
  if (!(await findDefaultLlmProxy(db))) {
    await createLlmProxy(db, { organizationId: org.id, name: DEFAULT_PROXY_NAME, scope: 'org', isDefault: true });
  }
  return result;
}
