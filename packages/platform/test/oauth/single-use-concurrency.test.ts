// Authorization codes and refresh tokens are single-use even when the copies arrive at once, on
// one instance or on two instances sharing one PostgreSQL, and the replay ends the whole grant.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdapterFactory } from '../../src/oauth/storage-adapter.js';
import { authorizeCode, exchangeCode, refreshTokens, registerPublicClient, userTokens, type TokenSet } from '../support/oauth-client.js';
import { createTestDatabase, startTestPlatform, testEngine, type TestPlatform } from '../support/test-platform.js';
import { direct, refusedEverywhere, routerStatus } from './bearer-support.js';

const COPIES = 20;
const onPostgres = testEngine() === 'postgres';

let a: TestPlatform;
/** A second instance on the same database (PostgreSQL only: the embedded SQLite serves one). */
let b: TestPlatform | undefined;

beforeAll(async () => {
  const database = await createTestDatabase();
  a = await startTestPlatform({}, database);
  // One PUBLIC_URL for both, as behind a load balancer; each is reached on its own port.
  if (onPostgres) b = await startTestPlatform({ PUBLIC_URL: a.url }, database);
}, 60_000);
afterAll(async () => {
  await b?.stop();
  await a?.close();
});

/** Sends request i to instance i % n (one instance, or alternately both). */
const spread = (instances: TestPlatform[]) => (i: number) => direct(instances[i % instances.length]!);

async function answers(responses: Response[]) {
  return Promise.all(responses.map(async (r) => ({ status: r.status, body: (await r.json()) as TokenSet & { error?: string } })));
}

/** No request of the race ended as a server error on any instance. */
const serverErrors = () => [a, b].flatMap((tp) => tp?.logs ?? []).filter((line) => line.includes('oauth server error'));

const cases = [
  { name: 'on one instance', instances: () => [a] },
  ...(onPostgres ? [{ name: 'across two instances sharing one PostgreSQL', instances: () => [a, b!] }] : []),
];

describe.each(cases)('an authorization code redeemed 20 times at once $name', ({ instances }) => {
  it('gives tokens exactly once, and the replay ends the grant on every instance', async () => {
    const at = spread(instances());
    const client = await registerPublicClient(a);
    const { code, codeVerifier } = await authorizeCode(a, { clientId: client.client_id });
    const results = await answers(
      await Promise.all(Array.from({ length: COPIES }, (_, i) => exchangeCode(at(i), { clientId: client.client_id, code: code!, codeVerifier }))),
    );
    const won = results.filter((r) => r.status === 200);
    expect(won).toHaveLength(1);
    for (const lost of results.filter((r) => r.status !== 200)) expect(lost).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });

    expect(serverErrors()).toEqual([]);
    const tokens = won[0]!.body;
    expect(await refusedEverywhere(instances(), [tokens.access_token])).toBeLessThan(5000);
    const refresh = await refreshTokens(a, { clientId: client.client_id, refreshToken: tokens.refresh_token! });
    expect(refresh.status).toBe(400);
    expect(await refresh.json()).toMatchObject({ error: 'invalid_grant' });
  }, 60_000);
});

describe.each(cases)('a refresh token used 20 times at once $name', ({ instances }) => {
  it('rotates at most once, and the replay ends the grant on every instance', async () => {
    const at = spread(instances());
    const first = await userTokens(a);
    for (const tp of instances()) expect(await routerStatus(tp, first.access_token)).toBe(200);
    const results = await answers(
      await Promise.all(
        Array.from({ length: COPIES }, (_, i) => refreshTokens(at(i), { clientId: first.client.client_id, refreshToken: first.refresh_token! })),
      ),
    );
    const won = results.filter((r) => r.status === 200);
    expect(won.length).toBeLessThanOrEqual(1);
    for (const lost of results.filter((r) => r.status !== 200)) expect(lost).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(serverErrors()).toEqual([]);

    expect(await refusedEverywhere(instances(), [first.access_token, ...won.map((r) => r.body.access_token)])).toBeLessThan(5000);
    for (const refreshToken of [first.refresh_token!, ...won.map((r) => r.body.refresh_token!)]) {
      const again = await refreshTokens(a, { clientId: first.client.client_id, refreshToken });
      expect(again.status).toBe(400);
      expect(await again.json()).toMatchObject({ error: 'invalid_grant' });
    }
  }, 60_000);
});

// The race itself, without HTTP timing: oidc-provider reads the entity, sees it unconsumed, then
// calls consume; two such callers reach consume for the same id, and only the first may win.
describe("the storage adapter's consume", () => {
  const adapterFor = (model: string) => {
    const replays: string[] = [];
    const Adapter = createAdapterFactory(a.platform.ctx.db, {
      grantRevoked: async () => undefined,
      replayDetected: async (grantId) => void replays.push(grantId),
      findClient: async () => undefined,
      saveClient: async () => undefined,
    });
    return { adapter: new Adapter(model), replays };
  };

  it.each([
    ['AuthorizationCode', 'authorization code already consumed'],
    ['RefreshToken', 'refresh token already used'],
  ])('lets one of two concurrent consumes of a %s win; the other is a replay of its grant', async (model, description) => {
    const { adapter, replays } = adapterFor(model);
    const id = `${model}-${Math.random().toString(36).slice(2)}`;
    await adapter.upsert(id, { grantId: 'grant-of-' + id, clientId: 'c' }, 60);
    const results = await Promise.allSettled([adapter.consume(id), adapter.consume(id)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toMatchObject({ status: 400, error: 'invalid_grant', error_detail: description });
    expect(replays).toEqual(['grant-of-' + id]);
    expect((await adapter.find(id))?.consumed).toBeTypeOf('number');
  });
});
