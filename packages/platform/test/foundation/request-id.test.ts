import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

let tp: TestPlatform;
beforeAll(async () => {
  tp = await startTestPlatform();
});
afterAll(() => tp.close());

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Sends bytes as they are (fetch refuses some of these headers before they leave). */
function rawGet(path: string, headerLines: string): Promise<string> {
  const { port } = new URL(tp.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n\r\n')) socket.end();
    });
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${headerLines}\r\n`);
  });
}

const echoedId = (head: string) => /\r\nx-request-id: ([^\r\n]*)/i.exec(head)?.[1];

describe("the caller's x-request-id", () => {
  it('is kept when short and plain', async () => {
    const response = await fetch(`${tp.url}/healthz`, { headers: { 'x-request-id': 'trace-42.a:b_c' } });
    expect(response.headers.get('x-request-id')).toBe('trace-42.a:b_c');
  });

  it('is replaced by a generated id when it is long, JSON, or carries control characters, and never logged as sent', async () => {
    const hostile = ['x'.repeat(10 * 1024), '{"level":60,"msg":"forged"}', 'abc\u0001def', 'a b', 'x'.repeat(129)];
    for (const value of hostile) {
      const head = await rawGet('/healthz', `x-request-id: ${value}\r\n`);
      // Node's HTTP parser may refuse some outright (400); what it lets through gets a new id.
      expect(head).toMatch(/^HTTP\/1\.1 (200|400)/);
      if (head.startsWith('HTTP/1.1 200')) expect(echoedId(head)).toMatch(UUID);
      expect(head).not.toContain(value);
    }
    // Line breaks cannot cross the HTTP parser; through inject they reach the id generator itself.
    for (const value of ['a\nb', 'line\r\ninjected: 1', 'tab\there']) {
      const response = await tp.platform.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': value } });
      expect(String(response.headers['x-request-id'])).toMatch(UUID);
    }
    const logged = tp.logs.join('\n');
    expect(logged).not.toContain('x'.repeat(129));
    expect(logged).not.toContain('forged');
    expect(logged).not.toContain('injected');
  });

  it('comes back on every kind of answer: a 404, a router refusal, and the OAuth server\'s own (hijacked) responses', async () => {
    const paths: Array<[string, RequestInit?]> = [
      ['/no-such-page'],
      ['/v1/model-router/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }],
      ['/.well-known/openid-configuration'],
      ['/api/auth/oauth2/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=nonsense' }],
    ];
    for (const [path, init] of paths) {
      const response = await fetch(`${tp.url}${path}`, { ...init, headers: { ...(init?.headers as Record<string, string>), 'x-request-id': `trace-${path.length}` } });
      expect(response.headers.get('x-request-id'), path).toBe(`trace-${path.length}`);
      await response.arrayBuffer();
    }
  });
});
