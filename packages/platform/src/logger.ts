// pino options: JSON lines, a request id on every line, and secrets redacted wherever they could
// appear (auth headers, cookies, form passwords, provider keys).

import cluster from 'node:cluster';
import pino, { type Logger, type LoggerOptions } from 'pino';
import { prettyDestination, type LogFormat } from './log-format.js';
import { observeLogLineDropped } from './metrics/metrics.js';

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["api-key"]',
  'req.headers["x-goog-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.apiKey',
  '*.api_key',
  '*.client_secret',
  '*.access_token',
  '*.refresh_token',
  '*.code_verifier',
  '*.secret',
];

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'keyward' },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
  };
}

/** Bytes a single write to a pipe keeps whole when several processes write to it (Linux's PIPE_BUF). */
export const ATOMIC_WRITE_BYTES = 4096;
/** pino's own largest write (sonic-boom's default), for a process alone on its stdout. */
const SOLE_WRITER_WRITE_BYTES = 16 * 1024;
/** Lines waiting for a reader past this many bytes are dropped (and counted), not held. */
export const MAX_WAITING_LOG_BYTES = 16 * 2 ** 20;

/**
 * JSON lines to a file descriptor, as pino writes them by default — off the event loop (a write
 * in libuv's thread pool; the lines logged while it runs go out together in the next one) — with
 * two limits pino's default leaves open. Past `maxLength` bytes waiting for a reader that is slow
 * or stuck, lines are dropped and counted in keyward_log_lines_dropped_total instead of held in
 * memory without bound. And when the stdout is shared — the workers of KEYWARD_WORKERS — each
 * write is at most ATOMIC_WRITE_BYTES of whole lines, the size POSIX keeps whole on a pipe that
 * several processes write to (pino writes up to 16 KiB at once, which it does not); a process
 * alone keeps pino's size, since the smaller writes cost CPU when the reader falls behind
 * (docs/performance.md). What is still waiting when the process exits is written synchronously
 * then (pino does that for every asynchronous destination).
 */
export function jsonLogDestination(fd = 1, options: { maxLength?: number; sharedStdout?: boolean } = {}) {
  const { maxLength = MAX_WAITING_LOG_BYTES, sharedStdout = cluster.isWorker } = options;
  const maxWrite = sharedStdout ? ATOMIC_WRITE_BYTES : SOLE_WRITER_WRITE_BYTES;
  const destination = pino.destination({ dest: fd, sync: false, minLength: 0, maxWrite, maxLength });
  destination.on('drop', () => observeLogLineDropped());
  return destination;
}

/** The platform's logger: JSON lines on stdout, or readable lines there with the `pretty` format. */
export function createLogger(config: { logLevel: string; logFormat: LogFormat }): Logger {
  const options = loggerOptions(config.logLevel);
  return config.logFormat === 'pretty' ? pino(options, prettyDestination(process.stdout)) : pino(options, jsonLogDestination());
}
