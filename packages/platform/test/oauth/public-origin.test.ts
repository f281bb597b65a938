// The URLs the authorization server publishes are PUBLIC_URL's, whatever host the request names:
// a Host header, an absolute-form request target, or (with KEYWARD_TRUST_PROXY) X-Forwarded-Host
// and X-Forwarded-Proto. Before, each of them put the caller's host in the discovery document's
// endpoints (a document a cache in front of Keyward may keep and hand to everyone) and in the
// device flow's verification_uri.

import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerPublicClient } from '../support/oauth-client.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const METADATA_PATHS = ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'];
const EVIL = 'evil.example';

interface Answer {
  status: number;
  body: string;
}

/** One request exactly as written (node:http sends any Host, and an absolute URL as the target), to the platform's own socket. */
function send(tp: TestPlatform, target: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port: tp.config.port, method: options.method ?? 'GET', path: target, headers: options.headers ?? {} }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, body }));
    });
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

/** Every URL in a metadata document (issuer, endpoints, jwks_uri…). */
function urlsIn(metadata: Record<string, unknown>): string[] {
  return Object.values(metadata).filter((value): value is string => typeof value === 'string' && /^https?:\/\//.test(value));
}

async function expectMetadataAt(tp: TestPlatform, target: string, headers: Record<string, string>) {
  const answer = await send(tp, target, { headers });
  expect(answer.status).toBe(200);
  const metadata = JSON.parse(answer.body) as Record<string, unknown>;
  const urls = urlsIn(metadata);
  // issuer, authorization, token, registration, device authorization, jwks, revocation, introspection at least.
  expect(urls.length).toBeGreaterThanOrEqual(8);
  for (const url of urls) expect(url.startsWith(`${tp.url}/`) || url === tp.url, `${url} for ${target}`).toBe(true);
  expect(answer.body).not.toContain(EVIL);
}

describe('PUBLIC_URL at its default, requests naming another host', () => {
  let tp: TestPlatform;
  beforeAll(async () => {
    tp = await startTestPlatform();
  });
  afterAll(() => tp?.close());

  it.each(METADATA_PATHS)('%s with Host: evil.example lists only PUBLIC_URL', async (path) => {
    await expectMetadataAt(tp, path, { host: EVIL });
  });

  it.each(METADATA_PATHS)('%s asked in absolute form (GET http://evil.example/…) lists only PUBLIC_URL', async (path) => {
    await expectMetadataAt(tp, `http://${EVIL}${path}`, { host: EVIL });
  });

  it('the device flow’s verification_uri is PUBLIC_URL’s under Host: evil.example', async () => {
    const client = await registerPublicClient(tp, { metadata: { grant_types: [DEVICE_GRANT], response_types: [], redirect_uris: [] } });
    const answer = await send(tp, '/api/auth/oauth2/device-authorization', {
      method: 'POST',
      headers: { host: EVIL, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: client.client_id, scope: 'llm:proxy' }).toString(),
    });
    expect(answer.status).toBe(200);
    const device = JSON.parse(answer.body) as { verification_uri: string; verification_uri_complete: string };
    expect(device.verification_uri).toBe(`${tp.url}/device`);
    expect(device.verification_uri_complete.startsWith(`${tp.url}/device?user_code=`)).toBe(true);
  });

  it('the request’s own host, when it is PUBLIC_URL’s, changes nothing', async () => {
    await expectMetadataAt(tp, METADATA_PATHS[0]!, { host: new URL(tp.url).host });
  });
});

describe('KEYWARD_TRUST_PROXY=true behind a TLS proxy', () => {
  let tp: TestPlatform;
  beforeAll(async () => {
    tp = await startTestPlatform({ KEYWARD_TRUST_PROXY: 'true', PUBLIC_URL: 'https://keyward.example' });
  });
  afterAll(() => tp?.close());

  it.each(METADATA_PATHS)('%s with X-Forwarded-Host and X-Forwarded-Proto from the caller lists only PUBLIC_URL', async (path) => {
    expect(tp.url).toBe('https://keyward.example');
    await expectMetadataAt(tp, path, { host: 'keyward.example', 'x-forwarded-host': EVIL, 'x-forwarded-proto': 'http' });
  });
});
