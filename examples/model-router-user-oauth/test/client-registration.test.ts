import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClientStore } from '../src/client-store.js';
import { parseConfig, type Config } from '../src/config.js';
import { KeywardOAuth, SignInError } from '../src/keyward-oauth.js';
import { PROXY_ID, startFakeKeyward, type FakeKeyward } from './fake-keyward.js';

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'client-store-'));
  file = join(dir, '.keyward-client.json');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('the client-id file', () => {
  it('keeps one client per Keyward issuer and redirect URI, readable only by its owner', async () => {
    const store = new ClientStore(file);
    await store.set('http://localhost:9000', 'http://localhost:5174/oauth/callback', { client_id: 'a', registered_at: 'now' });
    await store.set('http://localhost:9000', 'http://localhost:3000/oauth/callback', { client_id: 'b', registered_at: 'now' });
    await store.set('https://other.example', 'http://localhost:5174/oauth/callback', { client_id: 'c', registered_at: 'now' });

    const reopened = new ClientStore(file);
    expect((await reopened.get('http://localhost:9000', 'http://localhost:5174/oauth/callback'))?.client_id).toBe('a');
    expect((await reopened.get('http://localhost:9000', 'http://localhost:3000/oauth/callback'))?.client_id).toBe('b');
    expect((await reopened.get('https://other.example', 'http://localhost:5174/oauth/callback'))?.client_id).toBe('c');
    expect(await reopened.get('https://unknown.example', 'http://localhost:5174/oauth/callback')).toBeUndefined();
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    await reopened.forget('http://localhost:9000', 'http://localhost:5174/oauth/callback');
    expect(await reopened.get('http://localhost:9000', 'http://localhost:5174/oauth/callback')).toBeUndefined();
    expect(Object.keys(JSON.parse(await readFile(file, 'utf8')))).toHaveLength(2);
  });

  it('treats a damaged file as empty (costing one new registration)', async () => {
    await writeFile(file, '{ not json');
    expect(await new ClientStore(file).get('http://localhost:9000', 'x')).toBeUndefined();
  });
});

describe('registration with Keyward', () => {
  let fake: FakeKeyward;
  let config: Config;
  beforeEach(async () => {
    fake = await startFakeKeyward();
    config = parseConfig({ KEYWARD_BASE_URL: fake.url, LLM_PROXY_ID: PROXY_ID });
  });
  afterEach(() => fake.close());

  const registrations = () => fake.requestsTo('/api/auth/oauth2/register');

  it('registers once, then reuses the saved client_id across restarts', async () => {
    const first = await new KeywardOAuth(config, new ClientStore(file)).client();
    const afterRestart = await new KeywardOAuth(config, new ClientStore(file)).client();
    expect(afterRestart.client_id).toBe(first.client_id);
    expect(registrations()).toHaveLength(1);
  });

  it('registers again when Keyward no longer knows the saved client (RFC 7592 read answers 401)', async () => {
    const first = await new KeywardOAuth(config, new ClientStore(file)).client();
    fake.clients.clear(); // Keyward's database was reset
    const second = await new KeywardOAuth(config, new ClientStore(file)).client();
    expect(second.client_id).not.toBe(first.client_id);
    expect(registrations()).toHaveLength(2);
    expect(await new ClientStore(file).get(fake.url, config.redirectUri)).toMatchObject({ client_id: second.client_id });
  });

  it('forgets the saved client when the token endpoint answers invalid_client', async () => {
    const keyward = new KeywardOAuth(config, new ClientStore(file));
    const { url, pending } = await keyward.authorizationUrl();
    const callback = new URL(config.redirectUri);
    callback.searchParams.set('code', fake.issueCode(url.searchParams));
    callback.searchParams.set('state', pending.state);
    callback.searchParams.set('iss', fake.url);
    fake.clients.clear();

    await expect(keyward.finishSignIn(callback, pending)).rejects.toSatisfy((e) => e instanceof SignInError && e.failure === 'client_unknown');
    expect(await new ClientStore(file).get(fake.url, config.redirectUri)).toBeUndefined();
  });
});
