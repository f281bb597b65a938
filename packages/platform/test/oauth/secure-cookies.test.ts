// Behind a TLS-terminating proxy the platform itself speaks plain HTTP. Whatever
// KEYWARD_TRUST_PROXY says, a https PUBLIC_URL means every cookie must be Secure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeCode, registerPublicClient } from '../support/oauth-client.js';
import { CookieJar } from '../support/cookie-jar.js';
import { startTestPlatform, testEngine, type TestPlatform } from '../support/test-platform.js';

/**
 * A jar that keeps every Set-Cookie header it saw, with the URL that sent it. It plays the TLS
 * proxy too: redirects name the public URL (https://keyward.example/…), or the listener's own host
 * over https; the jar takes either to the plain-http listener.
 */
class RecordingJar extends CookieJar {
  readonly seen: { url: string; header: string }[] = [];
  constructor(
    private readonly local: string,
    private readonly publicUrl: string,
  ) {
    super();
  }
  override async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    if (target.host === new URL(this.local).host || target.host === new URL(this.publicUrl).host) {
      target.protocol = 'http:';
      target.host = new URL(this.local).host;
    }
    const response = await super.fetch(target, init);
    for (const header of response.headers.getSetCookie()) this.seen.push({ url: String(url), header });
    return response;
  }
}

describe.each([{ trustProxy: 'false' }, { trustProxy: 'true' }])(
  `cookies with PUBLIC_URL=https://… on a plain-http server, KEYWARD_TRUST_PROXY=$trustProxy (${testEngine()})`,
  ({ trustProxy }) => {
    let tp: TestPlatform;
    let local: TestPlatform;
    beforeAll(async () => {
      tp = await startTestPlatform({ PUBLIC_URL: 'https://keyward.example', KEYWARD_TRUST_PROXY: trustProxy });
      // The test talks to the real plain-http listener; the issuer stays https.
      local = { ...tp, url: `http://127.0.0.1:${tp.config.port}` };
    });
    afterAll(() => tp.close());

    it('every Set-Cookie from /authorize, the interaction pages, sign-in and consent carries Secure', async () => {
      const client = await registerPublicClient(local);
      const jar = new RecordingJar(local.url, tp.url);
      const result = await authorizeCode(local, { clientId: client.client_id, jar });
      expect(result.code).toBeTruthy();
      const fromProvider = jar.seen.filter((s) => /\/api\/auth\/oauth2\/|\/interaction/.test(s.url));
      expect(fromProvider.some((s) => /^keyward_oauth_interaction=/.test(s.header))).toBe(true);
      expect(fromProvider.some((s) => /^keyward_oauth_session=/.test(s.header))).toBe(true);
      expect(jar.seen.length).toBeGreaterThan(3);
      for (const { url, header } of jar.seen) expect(header, `${url}: ${header}`).toMatch(/;\s*secure/i);
    });
  },
);
