// What the money tests share: limits and prices reach the router through the change feed and
// settlements are written once a second (so a test waits `propagate`), and the admin CLI run
// against the harness's own database.

import { runKeyward } from '../../support/cli.js';
import type { RouterHarness } from './router-harness.js';

/** Long enough for one change-feed poll and one settlement write. */
export const propagate = () => new Promise((resolve) => setTimeout(resolve, 1600));

/** `keyward … --json` on the harness's database; throws with its output when it fails. */
export function keywardCli(h: () => RouterHarness) {
  return async (...args: string[]) => {
    const env = { KEYWARD_DATA_DIR: h().tp.config.dataDir, DATABASE_URL: h().tp.config.databaseUrl ?? '' };
    const r = await runKeyward([...args, '--json'], env);
    if (r.code !== 0) throw new Error(`keyward ${args.join(' ')} failed: ${r.stdout} ${r.stderr}`);
    return r.json;
  };
}
