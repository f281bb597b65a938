// The console's app list is read one page at a time from the database, newest first: anyone may
// register apps, so a flood of registrations neither slows the page nor hides the app people use.
// A proxy's page lists the apps connected through it, and the limits page offers the apps someone
// connected, not every app registered.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfidentialClient, userTokens } from '../support/oauth-client.js';
import { startTestPlatform, testEngine, type TestPlatform } from '../support/test-platform.js';
import { CookieJar, page, signIn } from './console-session.js';

let tp: TestPlatform;
let admin: CookieJar;
beforeAll(async () => {
  tp = await startTestPlatform();
  admin = await signIn(tp, tp.admin.email, tp.admin.password);
}, 60_000);
afterAll(async () => {
  await tp?.close();
});

const rowsOf = (text: string) => [...text.matchAll(/<tr data-client-id="([^"]+)"><td>([^<]*)</g)].map((m) => ({ clientId: m[1]!, name: m[2]! }));

/** An oauth_clients row as registration writes one (public, no organization), or as `fields` say. */
const appRow = (clientId: string, createdAt: number, fields: { name?: string; organizationId?: string; kind?: 'public' | 'confidential' } = {}) => ({
  client_id: clientId,
  kind: fields.kind ?? ('public' as const),
  name: fields.name ?? clientId,
  metadata_json: JSON.stringify({ redirect_uris: ['http://localhost:1/cb'] }),
  secret_hash: fields.kind === 'confidential' ? 'sha256:x' : null,
  organization_id: fields.organizationId ?? null,
  proxy_ids_json: null,
  key_ids_json: null,
  created_at: createdAt,
  updated_at: createdAt,
  disabled_at: null,
});

describe(`the apps page on ${testEngine()}`, () => {
  it('pages through the registered apps newest first, each with its own users', async () => {
    const connected = await userTokens(tp, { clientName: 'Connected app' });
    const now = Date.now();
    const flood = Array.from({ length: 60 }, (_, i) => appRow(`kwa_flood${String(i).padStart(3, '0')}`, now + 1000 + i, { name: `Flood ${i}` }));
    await tp.platform.ctx.db.insertInto('oauth_clients').values(flood).execute();

    const first = await page(admin, `${tp.url}/console/apps`);
    expect(rowsOf(first.text).map((r) => r.name)).toEqual(Array.from({ length: 50 }, (_, i) => `Flood ${59 - i}`));
    expect(first.text).toContain('href="/console/apps?page=2"');

    const second = await page(admin, `${tp.url}/console/apps?page=2`);
    const rows = rowsOf(second.text);
    expect(rows.slice(0, 10).map((r) => r.name)).toEqual(Array.from({ length: 10 }, (_, i) => `Flood ${9 - i}`));
    expect(rows.map((r) => r.clientId)).toContain(connected.client.client_id);
    const row = new RegExp(`<tr data-client-id="${connected.client.client_id}">[\\s\\S]*?</tr>`).exec(second.text)![0];
    expect(row).toContain('<td>1</td>');
    expect(second.text).not.toContain('page=3');

    const beyond = await page(admin, `${tp.url}/console/apps?page=9`);
    expect(beyond.status).toBe(200);
    expect(rowsOf(beyond.text)).toEqual([]);
    expect(beyond.text).toContain('No apps on this page.');

    const proxy = await page(admin, `${tp.url}/console/proxies/${tp.defaultProxyId}`);
    expect(proxy.text).toContain('<td>Connected app</td>');
    expect(proxy.text).not.toContain('Flood');
  });

  it('shows each app once across pages when many registered at the same millisecond, and never another organization\'s client', async () => {
    const db = tp.platform.ctx.db;
    const at = Date.now() + 86_400_000;
    const same = Array.from({ length: 120 }, (_, i) => `kwa_tie${String(i).padStart(3, '0')}`);
    await db.insertInto('oauth_clients').values(same.map((id) => appRow(id, at))).execute();
    await db.insertInto('organizations').values({ id: 'other-org', name: 'Other', created_at: at }).execute();
    await db.insertInto('oauth_clients').values(appRow('kwc_other_org', at, { organizationId: 'other-org', kind: 'confidential' })).execute();

    const seen: string[] = [];
    for (const n of [1, 2, 3]) seen.push(...rowsOf((await page(admin, `${tp.url}/console/apps?page=${n}`)).text).map((r) => r.clientId));
    expect(seen.slice(0, 120)).toEqual([...same].reverse());
    expect(seen).not.toContain('kwc_other_org');
  });
});

describe(`the limits page on ${testEngine()}`, () => {
  it('offers the confidential clients and the apps someone connected, not every app that registered', async () => {
    const connected = await userTokens(tp, { clientName: 'Picked app' });
    const confidential = await createConfidentialClient(tp, { name: 'Picked client' });
    const now = Date.now();
    await tp.platform.ctx.db
      .insertInto('oauth_clients')
      .values(Array.from({ length: 30 }, (_, i) => appRow(`kwa_unpicked${i}`, now, { name: `Never connected ${i}` })))
      .execute();
    const limits = await page(admin, `${tp.url}/console/limits`);
    expect(limits.status).toBe(200);
    const picker = /<select id="client"[\s\S]*?<\/select>/.exec(limits.text)![0];
    expect(picker).toContain(`value="${connected.client.client_id}"`);
    expect(picker).toContain(`value="${confidential.client_id}"`);
    expect(picker).not.toContain('kwa_unpicked');
  });
});
