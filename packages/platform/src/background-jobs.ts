// The one place background work runs: each job on its own interval, never two runs of it at
// once, every failure logged and retried on the next tick, and all of them stopped on shutdown.

import type { Logger } from 'pino';

/** While a job keeps failing, its failure is logged again at most this often (a down database fails every tick). */
const REPEATED_FAILURE_LOG_MS = 60_000;

export interface BackgroundJob {
  /** Runs the job now, unless a run is already under way (then waits for that one). Never rejects. */
  runNow(): Promise<void>;
  /** No more ticks; resolves when a run under way has finished. */
  stop(): Promise<void>;
}

export interface BackgroundJobs {
  /** Runs `run` every `intervalMs`; a failure is logged with the job's name and retried next tick. */
  every(name: string, intervalMs: number, run: () => Promise<void>): BackgroundJob;
  /** Stops every job (shutdown); resolves when none is running. */
  stop(): Promise<void>;
}

export function createBackgroundJobs(log: Logger): BackgroundJobs {
  const jobs = new Set<BackgroundJob>();
  let stopped = false;
  return {
    every(name, intervalMs, run) {
      let running: Promise<void> | undefined;
      let failures = 0;
      let lastLoggedAt = 0;
      const attempt = async () => {
        try {
          await run();
          if (failures > 0) log.info({ job: name, failures }, `${name}: recovered`);
          failures = 0;
        } catch (error) {
          failures += 1;
          const now = Date.now();
          if (failures === 1 || now - lastLoggedAt >= REPEATED_FAILURE_LOG_MS) {
            lastLoggedAt = now;
            log.error({ err: error, job: name, failures }, `${name} failed; retrying every ${intervalMs} ms`);
          }
        }
      };
      const runNow = () => {
        running ??= attempt().finally(() => {
          running = undefined;
        });
        return running;
      };
      const timer = setInterval(() => void runNow(), intervalMs);
      timer.unref();
      const job: BackgroundJob = {
        runNow,
        async stop() {
          clearInterval(timer);
          jobs.delete(job);
          await running;
        },
      };
      if (stopped) clearInterval(timer);
      else jobs.add(job);
      return job;
    },
    async stop() {
      stopped = true;
      await Promise.all([...jobs].map((job) => job.stop()));
    },
  };
}
