// At the info level every request writes one line when it is answered — method, path, client
// address, status, time taken — streams included; never its query string, where a client may
// have put a token.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterHarness, type RouterHarness } from '../router/support/router-harness.js';

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
  await h.addKey('openai');
});
afterAll(() => h?.close());

const linesOf = (requestId: string) => h.tp.logs.map((line) => JSON.parse(line) as Record<string, any>).filter((line) => line.reqId === requestId);

async function settled(requestId: string) {
  for (let i = 0; i < 50 && !linesOf(requestId).some((line) => line.msg === 'request completed'); i++) await new Promise((r) => setTimeout(r, 20));
  return linesOf(requestId);
}

describe('the access log', () => {
  it('writes one line per request, when it is answered', async () => {
    const response = await fetch(`${h.tp.url}/healthz`, { headers: { 'x-request-id': 'access-healthz' } });
    expect(response.status).toBe(200);
    const lines = await settled('access-healthz');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, msg: 'request completed', req: { method: 'GET', url: '/healthz', remoteAddress: '127.0.0.1' }, res: { statusCode: 200 } });
    expect(lines[0]!.responseTime).toBeGreaterThan(0);
    expect(h.tp.logs.join('\n')).not.toContain('incoming request');
  });

  it('leaves the query string out: a token sent there is refused and never logged', async () => {
    const secret = 'eyJ.query-token-that-must-not-be-logged';
    const response = await fetch(`${h.baseURL()}/chat/completions?access_token=${secret}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'access-query' },
      body: JSON.stringify({ model: 'openai:gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(401);
    const [line] = await settled('access-query');
    expect(line).toMatchObject({ req: { method: 'POST', url: new URL(h.baseURL()).pathname + '/chat/completions' }, res: { statusCode: 401 } });
    expect(h.tp.logs.join('\n')).not.toContain(secret);
  });

  it("a password link's token is in its path: logged as …, never the token", async () => {
    const token = 'pwlink-token-that-must-not-be-logged-0123456789';
    const response = await fetch(`${h.tp.url}/password/${token}`, { headers: { 'x-request-id': 'access-password-link' } });
    await response.body?.cancel();
    const lines = await settled('access-password-link');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'request completed', req: { url: '/password/…' } });
    expect(h.tp.logs.join('\n')).not.toContain(token);
  });

  it('a path nobody serves: one line with its 404, and no query string', async () => {
    const response = await fetch(`${h.tp.url}/no/such/page?token=query-secret-404`, { headers: { 'x-request-id': 'access-404' } });
    expect(response.status).toBe(404);
    const lines = await settled('access-404');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'request completed', req: { url: '/no/such/page' }, res: { statusCode: 404 } });
    expect(h.tp.logs.join('\n')).not.toContain('query-secret-404');
  });

  it('logs a streamed answer once, with its status, when the stream ends', async () => {
    h.upstreams.openai.enqueue({ type: 'text', text: 'streamed words' });
    const stream = await h.openai().chat.completions.create(
      { model: 'openai:gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true },
      { headers: { 'x-request-id': 'access-stream' } },
    );
    for await (const _chunk of stream) void _chunk;
    const lines = await settled('access-stream');
    expect(lines.filter((line) => line.msg === 'request completed')).toHaveLength(1);
    expect(lines.find((line) => line.msg === 'request completed')).toMatchObject({ req: { method: 'POST' }, res: { statusCode: 200 } });
  });
});
