// The router's cache of proxies keeps the ones that exist: a caller naming made-up proxy ids gets
// 404s without growing it.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RouterDirectory } from '../../src/router/access/router-directory.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(async () => {
  await t?.close();
});

describe('router directory: proxies', () => {
  it('keeps no entry for ids that name no proxy', async () => {
    const directory = new RouterDirectory(t.platform.ctx.db, t.platform.ctx.changes);
    for (let i = 0; i < 50; i++) expect(await directory.proxy(randomUUID())).toBeUndefined();
    expect(directory.cachedProxyCount).toBe(0);
    expect((await directory.proxy(t.defaultProxyId))?.id).toBe(t.defaultProxyId);
    expect(directory.cachedProxyCount).toBe(1);
  });
});
