// A process that shares its stdout with others (as a worker of KEYWARD_WORKERS does) and writes
// `count` JSON log lines of about `size` bytes through Keyward's stdout destination as fast as it
// can, each line naming its writer and its number; json-log-destination.test.ts runs several of
// these on one pipe.

import pino from 'pino';
import { jsonLogDestination, loggerOptions } from '../../../src/logger.js';

const [writer = 'w', count = '1000', size = '1000'] = process.argv.slice(2);
const log = pino(loggerOptions('info'), jsonLogDestination(1, { sharedStdout: true }));
const filler = 'x'.repeat(Number(size));
for (let i = 0; i < Number(count); i++) log.info({ writer, n: i, filler }, 'line');
