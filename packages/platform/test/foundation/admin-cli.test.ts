import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/test-database.js';
import { runKeyward } from '../support/cli.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let env: Record<string, string>;
const keyward = (...args: string[]) => runKeyward([...args, '--json'], env);

beforeAll(async () => {
  db = await createTestDatabase();
  env = { KEYWARD_DATA_DIR: db.dataDir, ...(db.databaseUrl ? { DATABASE_URL: db.databaseUrl } : { DATABASE_URL: '' }) };
});
afterAll(() => db.drop());

describe('keyward admin CLI', { timeout: 90_000 }, () => {
  let teamId: string;
  let aliceId: string;

  it('user create prints the new user and makes them a member of the one organization', async () => {
    const r = await keyward('user', 'create', '--email', 'Alice@Example.com', '--password', 'a long enough passphrase', '--admin');
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ email: 'Alice@Example.com', role: 'admin' });
    expect(r.json.id).toMatch(/^[0-9a-f-]{36}$/);
    aliceId = r.json.id;
    const bob = await keyward('user', 'create', '--email', 'bob@example.com', '--password', 'another fine passphrase');
    expect(bob.json).toMatchObject({ email: 'bob@example.com', role: 'member' });
  });

  it('user create refuses a duplicate email, case-insensitively', async () => {
    const r = await keyward('user', 'create', '--email', 'alice@EXAMPLE.com', '--password', 'a long enough passphrase');
    expect(r.code).toBe(1);
    expect(r.json.error.code).toBe('duplicate_email');
    expect(r.stderr).toMatch(/already exists/);
  });

  it.each([
    ['short', 'short1', /at least 8/],
    ['common', 'password123', /too common/],
    ['repetitive', 'aaaaaaaaaaaa', /too common or too repetitive/],
  ])('user create refuses a weak password (%s)', async (_name, password, message) => {
    const r = await keyward('user', 'create', '--email', 'carol@example.com', '--password', password);
    expect(r.code).toBe(1);
    expect(r.json.error.code).toBe('weak_password');
    expect(r.stderr).toMatch(message);
  });

  it('user create refuses an invalid email and missing flags', async () => {
    const bad = await keyward('user', 'create', '--email', 'not-an-email', '--password', 'a long enough passphrase');
    expect(bad.json.error.code).toBe('invalid_email');
    const missing = await keyward('user', 'create', '--email', 'x@example.com');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing --password/);
  });

  it('team create and add-member', async () => {
    const team = await keyward('team', 'create', '--name', 'Research');
    expect(team.code).toBe(0);
    expect(team.json).toMatchObject({ name: 'Research' });
    teamId = team.json.id;
    const dup = await keyward('team', 'create', '--name', 'Research');
    expect(dup.json.error.code).toBe('duplicate_team');
    const add = await keyward('team', 'add-member', '--team', teamId, '--email', 'alice@example.com');
    expect(add.code).toBe(0);
    expect(add.json).toEqual({ teamId, userId: aliceId });
  });

  it('team add-member refuses a missing team and an unknown user', async () => {
    const noTeam = await keyward('team', 'add-member', '--team', '00000000-0000-0000-0000-000000000000', '--email', 'alice@example.com');
    expect(noTeam.code).toBe(1);
    expect(noTeam.json.error.code).toBe('team_not_found');
    const noUser = await keyward('team', 'add-member', '--team', teamId, '--email', 'nobody@example.com');
    expect(noUser.json.error.code).toBe('user_not_found');
  });

  it('key add stores keys at org, team and personal scope and shows at most the last 4 characters', async () => {
    const secret = 'sk-test-ORGKEY-0123456789abcdefWXYZ';
    const org = await keyward('key', 'add', '--provider', 'openai', '--api-key', secret, '--scope', 'org', '--primary');
    expect(org.code).toBe(0);
    expect(org.json).toMatchObject({ provider: 'openai', scope: 'org', last4: 'WXYZ', primary: true });
    expect(org.stdout).not.toContain('ORGKEY');
    const team = await keyward('key', 'add', '--provider', 'anthropic', '--api-key', 'sk-ant-team-key-0123456789', '--scope', 'team', '--team', teamId);
    expect(team.json).toMatchObject({ scope: 'team' });
    const personal = await keyward(
      'key', 'add', '--provider', 'ollama', '--api-key', '', '--base-url', 'http://127.0.0.1:11434/v1', '--scope', 'personal', '--user', 'bob@example.com',
    );
    expect(personal.code).toBe(0);
    const listed = await keyward('key', 'list');
    expect(listed.json.keys).toHaveLength(3);
    expect(JSON.stringify(listed.json)).not.toContain('ORGKEY');
  });

  it.each([
    [['--provider', 'nosuch', '--api-key', 'k', '--scope', 'org'], 'unknown_provider', /known providers: .*openai/],
    [['--provider', 'openai', '--api-key', 'k', '--scope', 'team'], 'missing_team', /needs --team/],
    [['--provider', 'openai', '--api-key', 'k', '--scope', 'team', '--team', '00000000-0000-0000-0000-000000000000'], 'team_not_found', /does not exist/],
    [['--provider', 'openai', '--api-key', 'k', '--scope', 'personal'], 'missing_user', /needs --user/],
    [['--provider', 'openai', '--api-key', 'k', '--scope', 'personal', '--user', 'nobody@example.com'], 'user_not_found', /no user/],
    [['--provider', 'openai', '--api-key', 'k', '--scope', 'galaxy'], 'invalid_scope', /org, team or personal/],
    [['--provider', 'openai', '--api-key', 'k', '--scope', 'org', '--base-url', 'ftp://x'], 'invalid_base_url', /http/],
    [['--provider', 'openai', '--scope', 'org'], 'missing_api_key', /needs an API key/],
    [['--provider', 'openai-compatible', '--scope', 'org'], 'missing_base_url', /give --base-url/],
  ])('key add refuses bad input %#', async (args, code, message) => {
    const r = await keyward('key', 'add', ...args);
    expect(r.code).toBe(1);
    expect(r.json.error.code).toBe(code);
    expect(r.stderr).toMatch(message);
  });

  it('proxy create and proxy list', async () => {
    const created = await keyward('proxy', 'create', '--name', 'Research proxy', '--scope', 'team', '--team', teamId);
    expect(created.code).toBe(0);
    expect(created.json).toMatchObject({ name: 'Research proxy', scope: 'team' });
    const org = await keyward('proxy', 'create', '--name', 'Everyone');
    expect(org.json.scope).toBe('org');
    const listed = await keyward('proxy', 'list');
    expect(listed.json.proxies.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['Research proxy', 'Everyone']));
    for (const p of listed.json.proxies) expect(p).toHaveProperty('id');
  });

  it('proxy create refuses a bad scope, a missing team and an empty name', async () => {
    expect((await keyward('proxy', 'create', '--name', 'x', '--scope', 'team')).json.error.code).toBe('missing_team');
    expect((await keyward('proxy', 'create', '--name', 'x', '--scope', 'team', '--team', 'nope')).json.error.code).toBe('team_not_found');
    expect((await keyward('proxy', 'create', '--name', '   ')).json.error.code).toBe('invalid_name');
  });

  it('unknown commands and flags are usage errors (exit 2)', async () => {
    expect((await keyward('frobnicate')).code).toBe(2);
    const r = await keyward('team', 'create', '--name', 'x', '--colour', 'blue');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/colour/);
  });

  it('without --json prints a line for people', async () => {
    const r = await runKeyward(['proxy', 'list'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Research proxy/);
  });
});
