// A request's child logger is made only when the request logs at an enabled level; what it
// writes is what an eager pino child writes (request id bound, secrets redacted).

import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { loggerOptions } from '../../src/logger.js';
import { deferredRequestLogger } from '../../src/request-logger.js';

function capture(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const root = pino(loggerOptions(level), sink);
  const child = vi.spyOn(root, 'child');
  return { root, lines, child };
}

describe('deferred request logger', () => {
  it('makes no child logger for a request that logs nothing above the level', () => {
    const { root, lines, child } = capture('warn');
    const log = deferredRequestLogger(root, { reqId: 'r-1' }, {});
    log.info({ route: '/x' }, 'incoming request');
    log.debug('details');
    expect(child).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
    expect(log.level).toBe('warn');
  });

  it('writes the same line as an eager child: request id bound, secrets redacted', async () => {
    const { root, lines, child } = capture('info');
    const log = deferredRequestLogger(root, { reqId: 'r-2' }, {});
    log.warn({ body: { password: 'hunter2', apiKey: 'sk-secret-1234' } }, 'refused');
    log.info('again');
    root.child({ reqId: 'r-2' }).warn({ body: { password: 'hunter2', apiKey: 'sk-secret-1234' } }, 'refused');
    await new Promise((resolve) => setImmediate(resolve));
    expect(child).toHaveBeenCalledTimes(2); // one for the deferred logger (made once), one for the eager comparison
    const strip = ({ time: _time, pid: _pid, hostname: _hostname, ...rest }: Record<string, unknown>) => rest;
    expect(strip(lines[0]!)).toEqual(strip(lines[2]!));
    expect(lines[0]).toMatchObject({ reqId: 'r-2', msg: 'refused', body: { password: '[redacted]', apiKey: '[redacted]' } });
    expect(lines[1]).toMatchObject({ reqId: 'r-2', msg: 'again' });
    expect(JSON.stringify(lines)).not.toContain('hunter2');
  });

  it('passes a route level on to an eager child, and children of the request logger keep its bindings', async () => {
    const { root, lines } = capture('warn');
    const chatty = deferredRequestLogger(root, { reqId: 'r-3' }, { level: 'debug' });
    chatty.debug('shown');
    const nested = deferredRequestLogger(root, { reqId: 'r-4' }, {}).child({ step: 'plan' });
    nested.error('failed');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toEqual([expect.objectContaining({ reqId: 'r-3', msg: 'shown' }), expect.objectContaining({ reqId: 'r-4', step: 'plan', msg: 'failed' })]);
  });
});
