// Closing the server (a shutdown, the end of a test) does not wait for a connection that never
// sent a request — Node would, until its headers timeout (60 s) — nor for one idle between two
// requests; a request in flight still finishes.

import { connect, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

let tp: TestPlatform | undefined;
afterAll(() => tp?.close());

const closed = (socket: Socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

describe('closing the server', () => {
  it('closes at once connections that never sent a request and keep-alive ones between requests', async () => {
    tp = await startTestPlatform();
    const { port } = new URL(tp.url);
    // A preconnect: connected, nothing sent.
    const silent = connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve, reject) => silent.once('connect', resolve).once('error', reject));
    silent.on('error', () => undefined);
    // A keep-alive connection that served one request and now waits.
    const keptAlive = connect(Number(port), '127.0.0.1');
    keptAlive.on('error', () => undefined);
    const answered = new Promise<string>((resolve) => keptAlive.on('data', (data) => resolve(String(data))));
    keptAlive.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    expect(await answered).toMatch(/^HTTP\/1\.1 200/);

    const started = Date.now();
    await tp.stop();
    expect(Date.now() - started).toBeLessThan(5_000);
    await Promise.all([closed(silent), closed(keptAlive)]);
  });
});
