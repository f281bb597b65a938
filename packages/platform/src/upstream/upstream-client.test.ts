import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamClient, UpstreamFailure } from './upstream-client.js';

let server: Server;
let origin: string;
const seen: Array<{ method: string; url: string; contentType: string | undefined; body: string }> = [];
const client = new UpstreamClient({ connectMs: 2_000, idleMs: 2_000 });

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, contentType: req.headers['content-type'], body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await client.close();
  server.close();
});

describe('UpstreamClient.send', () => {
  it('sends to the URL’s path and query, the same URL again and again (parsed once)', async () => {
    for (let i = 0; i < 3; i++) {
      const answer = await client.send({ method: 'POST', url: `${origin}/openai/deployments/d1/chat/completions?api-version=2024-10-21`, headers: {}, body: { n: i } }, new AbortController().signal);
      expect(answer.status).toBe(200);
      expect(await answer.body.text()).toBe('{"ok":true}');
    }
    const other = await client.send({ method: 'GET', url: `${origin}/v1/models`, headers: {} }, new AbortController().signal);
    await other.body.dump();
    expect(seen.map((request) => request.url)).toEqual([
      '/openai/deployments/d1/chat/completions?api-version=2024-10-21',
      '/openai/deployments/d1/chat/completions?api-version=2024-10-21',
      '/openai/deployments/d1/chat/completions?api-version=2024-10-21',
      '/v1/models',
    ]);
    expect(seen[2]).toMatchObject({ method: 'POST', contentType: 'application/json', body: '{"n":2}' });
    expect(seen[3]).toMatchObject({ method: 'GET', body: '' });
  });

  it('refuses a URL that is not http(s) as a connection failure, without a network call', async () => {
    const before = seen.length;
    const error = await client.send({ method: 'GET', url: 'ftp://127.0.0.1/models', headers: {} }, new AbortController().signal).then(() => undefined, (e) => e);
    expect(error).toBeInstanceOf(UpstreamFailure);
    expect(error.kind).toBe('connection');
    expect(seen.length).toBe(before);
  });
});
