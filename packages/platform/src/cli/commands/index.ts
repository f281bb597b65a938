// Every admin command, in the order `keyward --help` lists them.

import type { AdminCommand } from '../command.js';
import { limitApps } from './app-caps.js';
import { clientCreate, clientDisable, clientRotateSecret } from './clients.js';
import { keyAdd, keyList } from './keys.js';
import { limitList, limitRemove, limitSet, limitUnpriced } from './limit.js';
import { migrate } from './migrate.js';
import { priceList, priceRemove, priceSet } from './price.js';
import { proxyCreate, proxyList } from './proxies.js';
import { teamAddMember, teamCreate } from './teams.js';
import { usageSummary } from './usage.js';
import { userCreate, userSetPassword } from './users.js';

export const ADMIN_COMMANDS: AdminCommand[] = [
  userCreate,
  userSetPassword,
  teamCreate,
  teamAddMember,
  keyAdd,
  keyList,
  proxyCreate,
  proxyList,
  clientCreate,
  clientRotateSecret,
  clientDisable,
  usageSummary,
  priceSet,
  priceList,
  priceRemove,
  limitSet,
  limitList,
  limitRemove,
  limitUnpriced,
  limitApps,
  migrate,
];
