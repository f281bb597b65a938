// pino options: JSON lines, a request id on every line, and secrets redacted wherever they could
// appear (auth headers, cookies, form passwords, provider keys).

import pino, { type Logger, type LoggerOptions } from 'pino';
import { prettyDestination, type LogFormat } from './log-format.js';

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

/** The platform's logger: JSON lines on stdout, or readable lines there with the `pretty` format. */
export function createLogger(config: { logLevel: string; logFormat: LogFormat }): Logger {
  const options = loggerOptions(config.logLevel);
  return config.logFormat === 'pretty' ? pino(options, prettyDestination(process.stdout)) : pino(options);
}
