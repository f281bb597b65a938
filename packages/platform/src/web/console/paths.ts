// The console's pages, one source for their paths and the navigation that lists them.

import { ACCOUNT_PATH, CONSOLE_PATH } from '../../accounts/sign-in-routes.js';

export { CONSOLE_PATH };

export const CONSOLE_PATHS = {
  overview: CONSOLE_PATH,
  usage: `${CONSOLE_PATH}/usage`,
  keys: `${CONSOLE_PATH}/keys`,
  proxies: `${CONSOLE_PATH}/proxies`,
  limits: `${CONSOLE_PATH}/limits`,
  prices: `${CONSOLE_PATH}/prices`,
  apps: `${CONSOLE_PATH}/apps`,
  users: `${CONSOLE_PATH}/users`,
  teams: `${CONSOLE_PATH}/teams`,
  audit: `${CONSOLE_PATH}/audit`,
  account: ACCOUNT_PATH,
} as const;

export type ConsoleSection = keyof typeof CONSOLE_PATHS;

export interface NavEntry {
  section: ConsoleSection;
  label: string;
  /** Hidden from members, and a 403 for them. */
  adminOnly: boolean;
}

export const CONSOLE_NAV: NavEntry[] = [
  { section: 'overview', label: 'Overview', adminOnly: false },
  { section: 'usage', label: 'Usage', adminOnly: false },
  { section: 'keys', label: 'Keys', adminOnly: false },
  { section: 'proxies', label: 'Proxies', adminOnly: false },
  { section: 'limits', label: 'Limits', adminOnly: false },
  { section: 'prices', label: 'Prices', adminOnly: false },
  { section: 'apps', label: 'Apps', adminOnly: true },
  { section: 'users', label: 'Users', adminOnly: true },
  { section: 'teams', label: 'Teams', adminOnly: true },
  { section: 'audit', label: 'Audit log', adminOnly: true },
  { section: 'account', label: 'Account', adminOnly: false },
];
