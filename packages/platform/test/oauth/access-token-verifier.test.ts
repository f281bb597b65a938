// The router's token check verifies a token's signature once: later calls hit the cache, and a
// burst of calls presenting a new token at the same moment wait for one verification.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsRegistry } from '../../src/metrics/metrics.js';
import { createAccessTokenVerifier } from '../../src/oauth/resource-server.js';
import { loadSigningKeys } from '../../src/oauth/signing-keys.js';
import { clientCredentialsToken, createConfidentialClient } from '../support/oauth-client.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

let tp: TestPlatform;

beforeAll(async () => {
  tp = await startTestPlatform();
}, 60_000);
afterAll(async () => {
  await tp?.close();
});

async function lookups(result: 'hit' | 'miss'): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric('keyward_cache_lookups_total')!.get();
  return metric.values.find((v) => v.labels.cache === 'access_token' && v.labels.result === result)?.value ?? 0;
}

describe('verifying access tokens', () => {
  it('checks a new token once, however many calls present it at the same moment', async () => {
    const verify = createAccessTokenVerifier(tp.config.publicUrl, (await loadSigningKeys(tp.platform.ctx)).publicKeys);
    const token = (await clientCredentialsToken(tp, await createConfidentialClient(tp))).access_token;
    const [missesBefore, hitsBefore] = [await lookups('miss'), await lookups('hit')];
    const entries = await Promise.all(Array.from({ length: 10 }, () => verify(token)));
    expect(new Set(entries.map((entry) => entry.payload.jti)).size).toBe(1);
    expect(await lookups('miss')).toBe(missesBefore + 1);
    expect(await lookups('hit')).toBe(hitsBefore + 9);
  });

  it('refuses a bad token to every caller of a burst, and checks it again next time', async () => {
    const verify = createAccessTokenVerifier(tp.config.publicUrl, (await loadSigningKeys(tp.platform.ctx)).publicKeys);
    const token = (await clientCredentialsToken(tp, await createConfidentialClient(tp))).access_token;
    const forged = `${token.slice(0, -4)}AAAA`;
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => verify(forged)));
    expect(results.map((r) => r.status)).toEqual(Array(5).fill('rejected'));
    await expect(verify(forged)).rejects.toMatchObject({ error: 'invalid_token' });
  });
});
