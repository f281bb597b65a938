// What every feature plugin is given: settings, storage, the secrets box and the change feed.

import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { ChangeFeed } from './db/change-log.js';
import type { Storage } from './db/database.js';
import type { Database } from './db/schema.js';
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
  log: Logger;
}

/** What a domain service needs: storage, the secrets box, and the feed it publishes its changes on. */
export type ServiceContext = Pick<AppContext, 'db' | 'changes' | 'box'>;
