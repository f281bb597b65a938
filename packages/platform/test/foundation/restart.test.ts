import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addProviderKey, openProviderKeySecret } from '../../src/keys/provider-keys.js';
import { requirePrimaryOrganization } from '../../src/accounts/organizations.js';
import { CookieJar, hiddenField } from '../support/cookie-jar.js';
import { createTestDatabase, startTestPlatform } from '../support/test-platform.js';

const database = await createTestDatabase();
afterAll(() => database.drop());

async function signIn(url: string, email: string, password: string): Promise<number> {
  const jar = new CookieJar();
  const page = await (await jar.fetch(`${url}/sign-in`)).text();
  const res = await jar.fetch(`${url}/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, password, csrf: hiddenField(page, 'csrf') }).toString(),
  });
  return res.status;
}

describe('restarting the server', () => {
  it('keeps all data and does not regenerate secrets', async () => {
    const first = await startTestPlatform({}, database);
    const org = await requirePrimaryOrganization(first.platform.ctx.db);
    const key = await addProviderKey(first.platform.ctx.db, first.platform.ctx.box, {
      organizationId: org.id,
      provider: 'anthropic',
      apiKey: 'sk-ant-restart-test-key-000000000000',
      scope: 'org',
    });
    const keyFile = await readFile(join(database.dataDir, 'encryption.key'), 'utf8');
    const cookieKey = first.platform.ctx.cookieKey.toString('hex');
    const proxyId = first.defaultProxyId;
    await first.stop();

    const second = await startTestPlatform({}, database);
    try {
      expect(await readFile(join(database.dataDir, 'encryption.key'), 'utf8')).toBe(keyFile);
      expect(second.platform.ctx.cookieKey.toString('hex')).toBe(cookieKey);
      expect(second.defaultProxyId).toBe(proxyId);
      const row = await second.platform.ctx.db.selectFrom('provider_keys').selectAll().where('id', '=', key.id).executeTakeFirstOrThrow();
      expect(openProviderKeySecret(second.platform.ctx.box, row)).toBe('sk-ant-restart-test-key-000000000000');
      expect(await signIn(second.url, second.admin.email, second.admin.password)).toBe(303);
      const proxies = await second.platform.ctx.db.selectFrom('llm_proxies').select('id').execute();
      expect(proxies).toHaveLength(1); // bootstrap did not run twice
    } finally {
      await second.stop();
    }
  }, 90_000);
});
