// `npm test`: type-check, build, then the whole suite twice: on embedded SQLite and on a real
// PostgreSQL (KEYWARD_TEST_DATABASE_URL, or a throwaway cluster started here when PostgreSQL is
// installed). Extra arguments go to vitest (e.g. a file filter).

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { findPostgresBin, startThrowawayPostgres } from './postgres.mjs';

const extra = process.argv.slice(2);
const step = (title, cmd, args, env = {}) => {
  console.log(`\n=== ${title}`);
  const result = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.status !== 0) {
    console.error(`\n${title} failed`);
    process.exit(result.status ?? 1);
  }
};

// The browser tests drive Debian's chromium; the second pass needs PostgreSQL's server binaries.
const missing = [];
if (!existsSync('/usr/bin/chromium')) missing.push('chromium');
if (!process.env.KEYWARD_TEST_DATABASE_URL && !findPostgresBin()) missing.push('postgresql');
if (missing.length) {
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    step(`installing ${missing.join(' ')}`, 'bash', ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${missing.join(' ')} >/dev/null`]);
  } else {
    console.error(`The tests need: ${missing.join(', ')}. Install them (Debian: sudo apt-get install ${missing.join(' ')}) and run npm test again.`);
    process.exit(1);
  }
}

step('type-check', 'npm', ['run', 'check', '--silent']);
step('build', 'npm', ['run', 'build', '--silent']);
step('tests on SQLite', 'npx', ['vitest', 'run', ...extra], { KEYWARD_TEST_DATABASE_URL: '' });

let pgUrl = process.env.KEYWARD_TEST_DATABASE_URL;
let cluster;
if (!pgUrl) {
  cluster = await startThrowawayPostgres();
  pgUrl = cluster?.url;
}
if (!pgUrl) {
  console.error('\nPostgreSQL is not installed (apt-get install postgresql), so the PostgreSQL pass cannot run.');
  process.exit(1);
}
try {
  step('tests on PostgreSQL', 'npx', ['vitest', 'run', ...extra], { KEYWARD_TEST_DATABASE_URL: pgUrl });
} finally {
  cluster?.stop();
}
