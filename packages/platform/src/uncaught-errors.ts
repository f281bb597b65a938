// What a process does with an error nothing caught (a throw in a callback, a rejected promise no
// one awaited): one `fatal` line in the platform's log format — JSON for machines, so a log
// pipeline keeps it, where Node would print a bare stack to stderr — then exit 1 at once. The
// process's state is unknown after such an error, so it does not try to finish what is in flight;
// the supervisor (or, with KEYWARD_WORKERS, the primary) starts it again. The log's asynchronous
// destination writes what is still waiting synchronously as the process exits.

import type { Logger } from 'pino';

export function exitOnUncaughtErrors(log: Logger): void {
  // Node turns an unhandled rejection into an uncaught exception with this origin (--unhandled-rejections=throw, the default).
  process.on('uncaughtException', (error, origin) => {
    try {
      log.fatal({ err: error, origin }, origin === 'unhandledRejection' ? 'a promise was rejected and nothing handled it; exiting' : 'an error was thrown and nothing caught it; exiting');
    } finally {
      process.exit(1);
    }
  });
}
