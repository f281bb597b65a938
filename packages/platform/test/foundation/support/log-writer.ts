// A process that writes `count` JSON log lines of about `size` bytes through Keyward's stdout
// destination as fast as it can, each line naming its writer and its number; used by
// json-log-destination.test.ts, which runs several of these on one pipe.

import pino from 'pino';
import { jsonLogDestination, loggerOptions } from '../../../src/logger.js';

const [writer = 'w', count = '1000', size = '1000'] = process.argv.slice(2);
const log = pino(loggerOptions('info'), jsonLogDestination());
const filler = 'x'.repeat(Number(size));
for (let i = 0; i < Number(count); i++) log.info({ writer, n: i, filler }, 'line');
