// The processes the tests and the bench start (the admin CLI, the server) run the build when it
// is current, as production runs them: `npm test` builds first, and a built start takes about
// half the time of one through tsx (0.75 s against 1.45 s for a CLI command on the 2-core CI
// machine, and the suite runs a few hundred). A source edited since the last build runs through
// tsx instead, so a developer's change is never tested against a stale build.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PLATFORM_SRC = fileURLToPath(new URL('../../src/', import.meta.url));
export const PLATFORM_DIST = fileURLToPath(new URL('../../dist/', import.meta.url));

/** Newest modification time of the TypeScript files under `dir` that the build compiles (tests are not), in ms. */
export function newestSource(dir: string = PLATFORM_SRC): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Whether `dist/<entry>.js` was built after every source was last changed. */
export function isBuildCurrent(entry: string): boolean {
  const built = join(PLATFORM_DIST, `${entry}.js`);
  return existsSync(built) && statSync(built).mtimeMs >= newestSource();
}

const current = new Map<string, boolean>();

/** Node's arguments to run `src/<entry>.ts`: its build when current, else the source through tsx. */
export function entryArgs(entry: 'main' | 'cli/main'): string[] {
  let fresh = current.get(entry);
  if (fresh === undefined) current.set(entry, (fresh = isBuildCurrent(entry)));
  return fresh ? [join(PLATFORM_DIST, `${entry}.js`)] : ['--import', 'tsx', join(PLATFORM_SRC, `${entry}.ts`)];
}
