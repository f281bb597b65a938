// oidc-provider's AsyncLocalStorage is on only while it handles a request: on Node 20 an enabled
// one puts promise hooks on every promise of the process, the router's calls included.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { providerContextEnabled } from '../../src/oauth/provider-async-context.js';
import { clientCredentialsToken, createConfidentialClient, userTokens } from '../support/oauth-client.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { routerStatus } from './bearer-support.js';

let tp: TestPlatform;

beforeAll(async () => {
  tp = await startTestPlatform();
}, 60_000);
afterAll(async () => {
  await tp?.close();
});

describe("oidc-provider's async context", () => {
  it('is off again once its requests are answered, and their tokens work at the router', async () => {
    const discovery = await fetch(`${tp.url}/.well-known/oauth-authorization-server`);
    expect(discovery.status).toBe(200);
    await discovery.body?.cancel();
    const tokens = await userTokens(tp);
    await vi.waitFor(() => expect(providerContextEnabled()).toBe(false));
    expect(await routerStatus(tp, tokens.access_token)).toBe(200);
    expect(providerContextEnabled()).toBe(false);
  });

  it('stays on while any request is in flight: concurrent token requests all get working tokens', async () => {
    const client = await createConfidentialClient(tp);
    const sets = await Promise.all(Array.from({ length: 20 }, () => clientCredentialsToken(tp, client)));
    const statuses = await Promise.all(sets.map((set) => routerStatus(tp, set.access_token)));
    expect(statuses).toEqual(sets.map(() => 200));
    await vi.waitFor(() => expect(providerContextEnabled()).toBe(false));
  });
});
