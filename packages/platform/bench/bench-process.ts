// What the bench's scripts share about the processes they start: the V8 flags of the bench's own
// processes, the provider key the bench upstream is called with, and forking one of them.

import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The key the gateways present to the bench upstream (never a real one). */
export const PROVIDER_KEY = 'sk-bench-0123456789abcdef';

/**
 * V8 flags for the bench's own processes (upstream, bare pass-through, load generator), not for
 * Keyward, which runs as production runs it. V8 decides per process, from the survival of its first
 * objects, whether an allocation site's objects are created in the old generation ("pretenuring").
 * In the bare pass-through that decision went either way: in 7 of 73 processes started to find out
 * it was not taken and the process spent a quarter less CPU per request for its whole life (c=256:
 * 0.09–0.10 against 0.12–0.15 ms; 28 against 38 ms p50); in the others short-lived request objects
 * filled the old generation and every scavenge took 5–9 ms. Without pretenuring each of these
 * processes is in its faster state every time, so the limit is the same, and the best it can be,
 * in every run (docs/performance.md, twelfth round). Keyward measured no different with the flag.
 */
export const FIXTURE_V8_FLAGS = ['--no-allocation-site-pretenuring'];

/** Forks a bench script of this folder (the caller's `--import tsx` comes with `execArgv`) and waits for its first message. */
export function forkBenchScript(
  name: string,
  args: string[],
  options: { execArgv: string[]; env?: NodeJS.ProcessEnv },
): { child: ChildProcess; firstMessage: Promise<any> } {
  const child = fork(join(here, name), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: options.execArgv, env: options.env ?? process.env });
  const firstMessage = new Promise<any>((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`${name} exited (code ${code}) before answering`)));
    child.once('error', reject);
  });
  return { child, firstMessage };
}
