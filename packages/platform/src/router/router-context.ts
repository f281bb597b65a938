// What the router's routes share: the app context plus the router's in-memory state (caches,
// the upstream connection pools, the usage sink). Built once in index.ts.

import type { AppContext } from '../app-context.js';
import type { KeyCooldowns } from '../keys/key-cooldowns.js';
import type { ProviderKeyCache } from '../keys/resolve-provider-key.js';
import type { AuthenticateBearer } from '../oauth/principal.js';
import type { LimitGuard } from '../limits/limit-guard.js';
import type { PriceBook } from '../usage/model-prices.js';
import type { UsageSink } from '../usage/usage-sink.js';
import type { RouterDirectory } from './access/router-directory.js';
import type { RunningCalls } from './http/running-calls.js';
import type { ModelListCache } from './models/model-list-cache.js';
import type { UpstreamClient } from '../upstream/upstream-client.js';

export interface RouterContext {
  app: AppContext;
  authenticateBearer: AuthenticateBearer;
  directory: RouterDirectory;
  keys: ProviderKeyCache;
  /** Keys that just failed, rested behind the others of their rank (in memory, per instance). */
  cooldowns: KeyCooldowns;
  upstream: UpstreamClient;
  usage: UsageSink;
  prices: PriceBook;
  limits: LimitGuard;
  modelLists: ModelListCache;
  /** This instance's running calls, ended when their caller loses access or at shutdown. */
  running: RunningCalls;
}
