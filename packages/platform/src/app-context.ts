// What every feature plugin is given: settings, storage, the secrets box, the change feed and the
// background-job runner.

import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { BackgroundJobs } from './background-jobs.js';
import type { Config } from './config.js';
import type { ChangeFeed } from './db/change-log.js';
import type { Storage } from './db/database.js';
import type { Database } from './db/schema.js';
import type { HostLookup } from './keys/internal-address.js';
import type { SealedBox } from './secrets/sealed-box.js';

export interface AppContext {
  config: Config;
  storage: Storage;
  db: Kysely<Database>;
  /** Seals provider keys and shared secrets with the data-encryption key. */
  box: SealedBox;
  /** HMAC key for CSRF tokens; shared by all instances. */
  cookieKey: Buffer;
  changes: ChangeFeed;
  /** Where timers live: started here, logged and retried on failure, stopped on shutdown. */
  jobs: BackgroundJobs;
  log: Logger;
  /** DNS for provider base URLs (the system resolver; tests inject one). */
  lookupHost: HostLookup;
}

/** What a domain service needs: storage, the secrets box, and the feed it publishes its changes on. */
export type ServiceContext = Pick<AppContext, 'db' | 'changes' | 'box' | 'config' | 'lookupHost'>;
