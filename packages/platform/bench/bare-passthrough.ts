// The limit any Node gateway is measured against: an `http` server that forwards every request
// to the bench upstream through an undici pool — no auth, no parsing, no metering — in its own
// process (forked by router-overhead.ts). Sends `{ port }` to its parent when listening.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: bare-passthrough.ts UPSTREAM_ORIGIN');
// The same connection ceiling as the router's upstream client, so both gateways queue alike.
const pool = new Pool(upstream, { connections: 256, pipelining: 1, keepAliveTimeout: 60_000 });

const server = createServer((req, res) => {
  const { host: _host, connection: _connection, ...headers } = req.headers;
  pool
    .request({ method: req.method as 'POST', path: req.url!, headers, body: req })
    .then(async (answer) => {
      res.writeHead(answer.statusCode, { 'content-type': String(answer.headers['content-type'] ?? 'application/octet-stream') });
      await pipeline(answer.body, res);
    })
    .catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
});
server.keepAliveTimeout = 60_000;
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('disconnect', () => process.exit(0));
