// How log lines look: pino's JSON lines by default (for machines), or one readable line per
// event on a terminal or with KEYWARD_LOG_FORMAT=pretty. Formatted in-process (no pino
// transport, whose worker thread would cost a thread and a copy per line); pino redacts first.

import type { Writable } from 'node:stream';

export type LogFormat = 'json' | 'pretty';

/** KEYWARD_LOG_FORMAT wins; unset, a terminal gets readable lines and anything else JSON. */
export function chooseLogFormat(setting: string | undefined, stdoutIsTty: boolean): LogFormat | undefined {
  if (!setting) return stdoutIsTty ? 'pretty' : 'json';
  return setting === 'json' || setting === 'pretty' ? setting : undefined;
}

const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '\x1b[90m'],
  20: ['DEBUG', '\x1b[36m'],
  30: ['INFO ', '\x1b[32m'],
  40: ['WARN ', '\x1b[33m'],
  50: ['ERROR', '\x1b[31m'],
  60: ['FATAL', '\x1b[35m'],
};
/** Said by the line's position or always the same: left out of the readable line. */
const OMITTED = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname', 'err']);

function flatten(prefix: string, value: unknown, out: string[]): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(prefix ? `${prefix}.${key}` : key, inner, out);
    return;
  }
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  out.push(`${prefix}=${typeof value === 'string' && /[\s"=]/.test(text) ? JSON.stringify(text) : text}`);
}

/** One pino JSON line as `HH:MM:SS.mmm LEVEL message key=value …` (errors keep their stack, indented). */
export function formatLogLine(json: string, color: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : new Date().toISOString().slice(11, 23);
  const [label, tint] = LEVELS[entry.level as number] ?? [String(entry.level), ''];
  const fields: string[] = [];
  for (const [key, value] of Object.entries(entry)) if (!OMITTED.has(key)) flatten(key, value, fields);
  const err = entry.err as { type?: string; message?: string; stack?: string } | undefined;
  if (err) fields.push(`err=${JSON.stringify(`${err.type ?? 'Error'}: ${err.message ?? ''}`)}`);
  const level = color ? `${tint}${label}\x1b[0m` : label;
  let line = `${time} ${level} ${entry.msg ?? ''}${fields.length ? ` ${color ? '\x1b[90m' : ''}${fields.join(' ')}${color ? '\x1b[0m' : ''}` : ''}\n`;
  if (err?.stack && (entry.level as number) >= 50) line += `${err.stack.replace(/^/gm, '    ')}\n`;
  return line;
}

/** A pino destination that writes readable lines to `out`. */
export function prettyDestination(out: Writable & { isTTY?: boolean }): { write(line: string): void } {
  const color = Boolean(out.isTTY) && !process.env.NO_COLOR;
  return { write: (line) => void out.write(formatLogLine(line, color)) };
}
