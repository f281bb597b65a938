// `keyward client create | rotate-secret | disable`, spawned as an administrator would run them,
// against the database of a running Keyward: the secrets it prints work (and stop working) at
// /api/auth/oauth2/token, and a disabled client's tokens stop at the router.

import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorActor } from '../../src/accounts/actors.js';
import { createUserAs } from '../../src/accounts/user-management.js';
import { addProviderKey } from '../../src/keys/provider-keys.js';
import { createLlmProxy } from '../../src/proxies/llm-proxies.js';
import { runKeyward } from '../support/cli.js';
import { clientCredentialsToken } from '../support/oauth-client.js';
import { createTestDatabase, startTestPlatform, type TestPlatform } from '../support/test-platform.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let tp: TestPlatform;
let env: Record<string, string>;
const keyward = (...args: string[]) => runKeyward([...args, '--json'], env);

let orgKeyId: string;
let otherOrgKeyId: string;
let personalKeyId: string;
let otherOrgProxyId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  tp = await startTestPlatform({}, db);
  env = { KEYWARD_DATA_DIR: db.dataDir, DATABASE_URL: db.databaseUrl ?? '' };
  const { ctx } = tp.platform;
  const proxy = await ctx.db.selectFrom('llm_proxies').select('organization_id').where('id', '=', tp.defaultProxyId).executeTakeFirstOrThrow();
  orgKeyId = (await addProviderKey(ctx.db, ctx.box, { organizationId: proxy.organization_id, provider: 'openai', apiKey: 'sk-test-org-key-000000000000', scope: 'org' })).id;
  // A second organization (not reachable from the CLI yet), to prove a client cannot mix them.
  const other = { id: randomUUID(), name: 'Other Org', created_at: Date.now() + 1000 };
  await ctx.db.insertInto('organizations').values(other).execute();
  otherOrgKeyId = (await addProviderKey(ctx.db, ctx.box, { organizationId: other.id, provider: 'openai', apiKey: 'sk-test-other-key-0000000000', scope: 'org' })).id;
  otherOrgProxyId = (await createLlmProxy(ctx.db, { organizationId: other.id, name: 'Other proxy' })).id;
  // A member's own key: their provider account pays for it, so no client may use it.
  const member = await createUserAs(ctx, await operatorActor(ctx.db), { email: 'byok@example.com', password: 'byok has a long password', role: 'member' });
  personalKeyId = (await addProviderKey(ctx.db, ctx.box, { organizationId: proxy.organization_id, provider: 'openai', apiKey: 'sk-test-personal-key-00000000', scope: 'personal', userId: member.id })).id;
}, 60_000);
afterAll(async () => {
  await tp?.close();
});

const tokenRequest = (client: { client_id: string; client_secret: string }, method: 'basic' | 'post') =>
  clientCredentialsToken(tp, client, { method }).then(
    (tokens) => ({ ok: true as const, tokens }),
    (error: Error) => ({ ok: false as const, message: error.message }),
  );

/** The router's answer to a token: 401 when it does not authenticate. */
const routerStatus = async (token: string) => {
  const response = await fetch(`${tp.url}/v1/model-router/${tp.defaultProxyId}/models`, { headers: { authorization: `Bearer ${token}` } });
  await response.body?.cancel();
  return response.status;
};

async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    if (await check()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not within ${ms} ms`);
}

/**
 * Every row of every table, as text. (Not the SQLite file's bytes: reading that file from this
 * process would drop the server's POSIX locks on it, a classic SQLite hazard.)
 */
async function everyRow(): Promise<string> {
  const { db: kysely } = tp.platform.ctx;
  const tables = db.databaseUrl
    ? (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(kysely)).rows
    : (await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(kysely)).rows;
  const dumps = await Promise.all(tables.map(async ({ name }) => JSON.stringify((await sql`select * from ${sql.table(name)}`.execute(kysely)).rows)));
  expect(dumps.join('')).toContain('Nightly batch'); // the scan does see the client's row
  return dumps.join('\n');
}

describe('keyward client create', { timeout: 90_000 }, () => {
  let client: { client_id: string; client_secret: string };

  it('prints {"client_id","client_secret"} once, and the database holds only a hash of the secret', async () => {
    const r = await keyward('client', 'create', '--name', 'Nightly batch', '--proxy', tp.defaultProxyId);
    expect(r.code).toBe(0);
    expect(Object.keys(r.json).sort()).toEqual(['client_id', 'client_secret']);
    expect(r.json.client_id).toMatch(/^kwc_[A-Za-z0-9_-]{22}$/);
    expect(r.json.client_secret).toMatch(/^kws_[A-Za-z0-9_-]{43}$/);
    client = r.json;

    const row = await tp.platform.ctx.db.selectFrom('oauth_clients').selectAll().where('client_id', '=', client.client_id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ kind: 'confidential', name: 'Nightly batch', disabled_at: null });
    expect(row.secret_hash).toMatch(/^sha256:/);
    expect(JSON.stringify(row)).not.toContain(client.client_secret);
    expect(JSON.stringify(row)).not.toContain(client.client_secret.slice(4));
    expect(await everyRow()).not.toContain(client.client_secret.slice(4));
  });

  it.each([['basic'], ['post']] as const)('its secret gets a client_credentials token (client_secret_%s) that the router accepts', async (method) => {
    const result = await tokenRequest(client, method);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.tokens).toMatchObject({ token_type: 'Bearer', scope: 'llm:proxy', expires_in: 3600 });
    expect(result.tokens.refresh_token).toBeUndefined();
    expect(await routerStatus(result.tokens.access_token)).not.toBe(401);
  });

  it('without --json prints the secret for a person, with a warning that it is shown only now', async () => {
    const r = await runKeyward(['client', 'create', '--name', 'Human', '--proxy', tp.defaultProxyId], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^client_id: +kwc_/m);
    expect(r.stdout).toMatch(/^client_secret: +kws_/m);
    expect(r.stdout).toMatch(/shown only now/);
  });

  it('--key limits the client to those keys, and --proxy may repeat', async () => {
    const second = (await keyward('proxy', 'create', '--name', 'Second proxy')).json.id as string;
    const r = await keyward('client', 'create', '--name', 'Keyed', '--proxy', tp.defaultProxyId, '--proxy', second, '--key', orgKeyId);
    expect(r.code).toBe(0);
    const row = await tp.platform.ctx.db.selectFrom('oauth_clients').selectAll().where('client_id', '=', r.json.client_id).executeTakeFirstOrThrow();
    expect(JSON.parse(row.proxy_ids_json!)).toEqual([tp.defaultProxyId, second]);
    expect(JSON.parse(row.key_ids_json!)).toEqual([orgKeyId]);
  });
});

describe('keyward client rotate-secret', { timeout: 90_000 }, () => {
  it('the old secret fails with 401 invalid_client, the new one works', async () => {
    const created = (await keyward('client', 'create', '--name', 'Rotating', '--proxy', tp.defaultProxyId)).json;
    expect(await tokenRequest(created, 'basic')).toMatchObject({ ok: true });

    const r = await keyward('client', 'rotate-secret', '--client', created.client_id);
    expect(r.code).toBe(0);
    expect(Object.keys(r.json).sort()).toEqual(['client_id', 'client_secret']);
    expect(r.json.client_id).toBe(created.client_id);
    expect(r.json.client_secret).not.toBe(created.client_secret);

    for (const method of ['basic', 'post'] as const) {
      const old = await tokenRequest(created, method);
      expect(old.ok).toBe(false);
      if (!old.ok) expect(old.message).toMatch(/^token request failed: 401 .*"error":"invalid_client"/);
      expect((await tokenRequest(r.json, method)).ok).toBe(true);
    }
  });
});

describe('keyward client disable', { timeout: 90_000 }, () => {
  it('new tokens fail (401 invalid_client) and existing tokens stop at the router within 5 seconds', async () => {
    const created = (await keyward('client', 'create', '--name', 'Doomed', '--proxy', tp.defaultProxyId)).json;
    const before = await tokenRequest(created, 'basic');
    expect(before.ok).toBe(true);
    if (!before.ok) return;
    expect(await routerStatus(before.tokens.access_token)).not.toBe(401);

    const r = await keyward('client', 'disable', '--client', created.client_id);
    const disabledAt = Date.now();
    expect(r.code).toBe(0);
    expect(r.json).toEqual({ client_id: created.client_id, disabled: true });

    // The server hears of it from another process, through the database's change feed.
    await eventually(async () => (await routerStatus(before.tokens.access_token)) === 401);
    expect(Date.now() - disabledAt).toBeLessThan(5000);
    const response = await fetch(`${tp.url}/v1/model-router/${tp.defaultProxyId}/models`, { headers: { authorization: `Bearer ${before.tokens.access_token}` } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
    for (const method of ['basic', 'post'] as const) {
      const after = await tokenRequest(created, method);
      expect(after.ok).toBe(false);
      if (!after.ok) expect(after.message).toMatch(/^token request failed: 401 .*"error":"invalid_client"/);
    }
  });
});

describe('keyward client refuses bad input', { timeout: 90_000 }, () => {
  const unknown = '00000000-0000-0000-0000-000000000000';
  it.each([
    ['an unknown proxy', 1, 'not_found', /LLM proxy "0{8}-.*" does not exist/, () => ['create', '--name', 'x', '--proxy', unknown]],
    ['an unknown key', 1, 'not_found', /provider key "0{8}-.*" does not exist/, () => ['create', '--name', 'x', '--proxy', tp.defaultProxyId, '--key', unknown]],
    ['a key from another organization', 1, 'invalid_key', /belongs to another organization/, () => ['create', '--name', 'x', '--proxy', tp.defaultProxyId, '--key', otherOrgKeyId]],
    ['a member’s personal key', 1, 'invalid_key', /personal key: a client may use organization and team keys only/, () => ['create', '--name', 'x', '--proxy', tp.defaultProxyId, '--key', orgKeyId, '--key', personalKeyId]],
    ['proxies of two organizations', 1, 'invalid_proxy', /one organization/, () => ['create', '--name', 'x', '--proxy', tp.defaultProxyId, '--proxy', otherOrgProxyId]],
    ['an empty name', 1, 'invalid_name', /1 to 200 characters/, () => ['create', '--name', '   ', '--proxy', tp.defaultProxyId]],
    ['a missing --proxy', 2, 'usage', /missing --proxy/, () => ['create', '--name', 'x']],
    ['an empty --proxy', 2, 'usage', /missing --proxy/, () => ['create', '--name', 'x', '--proxy', '']],
    ['an empty --key', 2, 'usage', /--key needs a provider key id/, () => ['create', '--name', 'x', '--proxy', tp.defaultProxyId, '--key', '']],
    ['a missing --name', 2, 'usage', /missing --name/, () => ['create', '--proxy', tp.defaultProxyId]],
    ['rotate-secret of an unknown client', 1, 'not_found', /OAuth client "kwc_nobody" does not exist/, () => ['rotate-secret', '--client', 'kwc_nobody']],
    ['rotate-secret without --client', 2, 'usage', /missing --client/, () => ['rotate-secret']],
    ['disable of an unknown client', 1, 'not_found', /OAuth client "kwc_nobody" does not exist/, () => ['disable', '--client', 'kwc_nobody']],
    ['an unknown flag', 2, 'usage', /force/, () => ['disable', '--client', 'kwc_nobody', '--force']],
  ] as const)('%s → exit %i, error %s', async (_name, exitCode, code, message, args) => {
    const before = await tp.platform.ctx.db.selectFrom('oauth_clients').select('client_id').execute();
    const r = await keyward('client', ...args());
    expect(r.code).toBe(exitCode);
    expect(r.json).toEqual({ error: { code, message: expect.stringMatching(message) } });
    expect(r.stderr).toMatch(message);
    expect(await tp.platform.ctx.db.selectFrom('oauth_clients').select('client_id').execute()).toHaveLength(before.length);
  });

  it('rotate-secret refuses a public (self-registered) client: it has no secret', async () => {
    const registered = await fetch(`${tp.url}/api/auth/oauth2/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Public', redirect_uris: ['http://localhost:5174/oauth/callback'], token_endpoint_auth_method: 'none' }),
    });
    const { client_id } = (await registered.json()) as { client_id: string };
    // Prefixed, so never a leading dash that the command line would read as an option (nanoid's ids had one in 64).
    expect(client_id).toMatch(/^kwa_[A-Za-z0-9_-]{22}$/);
    const r = await keyward('client', 'rotate-secret', '--client', client_id);
    expect(r.code).toBe(1);
    expect(r.json.error.code).toBe('not_found');
    const row = await tp.platform.ctx.db.selectFrom('oauth_clients').selectAll().where('client_id', '=', client_id).executeTakeFirstOrThrow();
    expect(row.secret_hash).toBeNull();
  });
});
