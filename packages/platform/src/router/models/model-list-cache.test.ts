import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { UsableProviderKey } from '../../keys/resolve-provider-key.js';
import { getProviderAdapter } from '../../providers/registry.js';
import { CallSignal } from '../../upstream/call-signal.js';
import { UpstreamClient } from '../../upstream/upstream-client.js';
import { ModelListCache } from './model-list-cache.js';

let server: Server;
let baseUrl = '';
/** Model-list requests the server has seen, and those closed before it answered; it answers none until `answer` is set. */
let seen = 0;
let closedUnanswered = 0;
let answer: string | undefined;
const client = new UpstreamClient({ connectMs: 2_000, idleMs: 30_000 });
const adapter = getProviderAdapter('openai')!;

beforeAll(async () => {
  server = createServer((_req, res) => {
    seen += 1;
    res.on('close', () => {
      if (!res.writableFinished) closedUnanswered += 1;
    });
    if (answer !== undefined) res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterEach(() => {
  seen = 0;
  closedUnanswered = 0;
  answer = undefined;
});
afterAll(async () => {
  await client.close();
  server.closeAllConnections();
  server.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, ms: number): Promise<boolean> {
  for (const started = Date.now(); Date.now() - started < ms; await sleep(10)) if (check()) return true;
  return check();
}

const key = (id: string): UsableProviderKey => ({
  id,
  organizationId: 'org',
  provider: 'openai',
  scope: 'org',
  teamId: null,
  userId: null,
  isPrimary: true,
  createdAt: 0,
  baseUrl,
  options: undefined,
  apiKey: 'sk-test-model-list-cache-0123456789',
  baseUrlPolicy: 'any',
  publicAddressesOnly: false,
});

describe('ModelListCache', () => {
  it('callers asking at once share one listing, which goes on while any of them waits and is cancelled when all have gone', async () => {
    const cache = new ModelListCache(client, pino({ level: 'silent' }));
    const first = new CallSignal();
    const second = new CallSignal();
    const lists = [cache.models(adapter, key('shared'), first), cache.models(adapter, key('shared'), second)];
    expect(await until(() => seen === 1, 2_000)).toBe(true);
    first.abort();
    await sleep(300);
    expect(closedUnanswered).toBe(0);
    second.abort();
    expect(await until(() => closedUnanswered === 1, 2_000)).toBe(true);
    expect(await Promise.all(lists)).toEqual([[], []]);
    expect(seen).toBe(1);

    // A listing its callers cancelled is not kept: the next caller asks again.
    answer = JSON.stringify({ object: 'list', data: [{ id: 'gpt-listed' }] });
    expect(await cache.models(adapter, key('shared'), new CallSignal())).toEqual(['gpt-listed']);
    expect(seen).toBe(2);
  });

  it('a caller that goes away cancels every listing it alone waited for', async () => {
    const cache = new ModelListCache(client, pino({ level: 'silent' }));
    const caller = new CallSignal();
    const lists = ['one', 'two', 'three'].map((id) => cache.models(adapter, key(id), caller));
    expect(await until(() => seen === 3, 2_000)).toBe(true);
    caller.abort();
    expect(await until(() => closedUnanswered === 3, 2_000)).toBe(true);
    expect(await Promise.all(lists)).toEqual([[], [], []]);
    expect(caller.listenerCount('abort')).toBe(0);
  });

  it('a caller without a signal waits until the listing times out', async () => {
    const cache = new ModelListCache(client, pino({ level: 'silent' }), 60_000, 200);
    const list = cache.models(adapter, key('timed'));
    expect(await until(() => closedUnanswered === 1, 2_000)).toBe(true);
    expect(await list).toEqual([]);
  });
});
