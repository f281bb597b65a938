// `npm run bench`: what the Model Router adds on top of the provider. Starts Keyward (embedded
// SQLite in a temp dir) and a local OpenAI-compatible upstream that answers at once, then sends
// the same chat completions to the upstream directly and through the router, at concurrency 1
// and 64, streaming and not, and prints the added p50/p99 latency as a markdown table.
// Bounded: a few thousand requests, well under two minutes.

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { findPrimaryOrganization } from '../src/accounts/organizations.js';
import { loadConfig } from '../src/config.js';
import { addProviderKey } from '../src/keys/provider-keys.js';
import { createConfidentialClient } from '../src/oauth/clients.js';
import { startPlatform } from '../src/platform.js';
import { findDefaultLlmProxy } from '../src/router/llm-proxies.js';

const ANSWER = 'The quick brown fox jumps over the lazy dog.';
const WORDS = ANSWER.split(' ');

function upstreamHandler(req: IncomingMessage, res: ServerResponse) {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { stream?: boolean; model?: string };
    const base = { id: 'chatcmpl-bench', created: 1_700_000_000, model: body.model ?? 'bench-model' };
    const usage = { prompt_tokens: 12, completion_tokens: WORDS.length, total_tokens: 12 + WORDS.length };
    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: ANSWER }, finish_reason: 'stop', logprobs: null }], usage }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunk = (delta: object, finish: string | null = null) =>
      `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    res.write(chunk({ role: 'assistant', content: '' }));
    for (const word of WORDS) res.write(chunk({ content: `${word} ` }));
    res.write(chunk({}, 'stop'));
    res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [], usage })}\n\n`);
    res.end('data: [DONE]\n\n');
  });
}

interface Target {
  pool: Pool;
  path: string;
  headers: Record<string, string>;
  model: string;
}

async function once(target: Target, stream: boolean): Promise<number> {
  const started = performance.now();
  const { statusCode, body } = await target.pool.request({
    method: 'POST',
    path: target.path,
    headers: { 'content-type': 'application/json', ...target.headers },
    body: JSON.stringify({ model: target.model, messages: [{ role: 'user', content: 'Say the pangram.' }], stream, ...(stream ? { stream_options: { include_usage: true } } : {}) }),
  });
  await body.text();
  if (statusCode !== 200) throw new Error(`HTTP ${statusCode}`);
  return performance.now() - started;
}

async function run(target: Target, stream: boolean, concurrency: number, total: number): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next += 1;
        latencies.push(await once(target, stream));
      }
    }),
  );
  return latencies.sort((a, b) => a - b);
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function main() {
  const upstream = createServer(upstreamHandler);
  upstream.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

  const dataDir = await mkdtemp(join(tmpdir(), 'keyward-bench-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    KEYWARD_DATA_DIR: dataDir,
    KEYWARD_ADMIN_EMAIL: 'bench@example.com',
    KEYWARD_ADMIN_PASSWORD: 'a long bench password 123',
    KEYWARD_LOG_LEVEL: process.env.KEYWARD_LOG_LEVEL ?? 'warn',
  });
  const platform = await startPlatform(config);
  const address = await platform.app.listen({ port: 0, host: '127.0.0.1' });
  const ctx = platform.ctx;
  const org = (await findPrimaryOrganization(ctx.db))!;
  const proxy = (await findDefaultLlmProxy(ctx.db))!;
  await addProviderKey(ctx.db, ctx.box, { organizationId: org.id, provider: 'openai', apiKey: 'sk-bench-0123456789abcdef', baseUrl: `${upstreamUrl}/v1`, scope: 'org' });
  const client = await createConfidentialClient(ctx, { name: 'bench', proxyIds: [proxy.id] });
  const tokenResponse = await fetch(`${address}/api/auth/oauth2/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'llm:proxy' }),
  });
  const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
  if (!token) throw new Error('could not get a client-credentials token');

  const direct: Target = { pool: new Pool(upstreamUrl, { connections: 128 }), path: '/v1/chat/completions', headers: { authorization: 'Bearer sk-bench-0123456789abcdef' }, model: 'gpt-4o-mini' };
  const routed: Target = { pool: new Pool(address, { connections: 128 }), path: `/v1/model-router/${proxy.id}/chat/completions`, headers: { authorization: `Bearer ${token}` }, model: 'openai:gpt-4o-mini' };

  const scenarios = [
    { concurrency: 1, stream: false, total: 400 },
    { concurrency: 1, stream: true, total: 400 },
    { concurrency: 64, stream: false, total: 2000 },
    { concurrency: 64, stream: true, total: 2000 },
  ];
  const rows: string[] = [];
  const started = Date.now();
  for (const s of scenarios) {
    // Warm both paths (connections, JIT, caches) before measuring.
    await run(direct, s.stream, s.concurrency, Math.min(200, s.total));
    await run(routed, s.stream, s.concurrency, Math.min(200, s.total));
    const d = await run(direct, s.stream, s.concurrency, s.total);
    const r = await run(routed, s.stream, s.concurrency, s.total);
    const f = (n: number) => n.toFixed(2);
    rows.push(
      `| ${s.concurrency} | ${s.stream ? 'yes' : 'no'} | ${s.total} | ${f(percentile(d, 50))} / ${f(percentile(d, 99))} | ${f(percentile(r, 50))} / ${f(percentile(r, 99))} | **${f(percentile(r, 50) - percentile(d, 50))}** | **${f(percentile(r, 99) - percentile(d, 99))}** |`,
    );
  }
  const cpu = cpus();
  console.log(`\nModel Router added latency — ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, Node ${process.version}, SQLite, log level ${config.logLevel}, ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  console.log('| concurrency | stream | requests | direct p50 / p99 (ms) | via router p50 / p99 (ms) | added p50 (ms) | added p99 (ms) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
  console.log('\nStreaming latency is measured to the end of the stream (all chunks read).');

  await direct.pool.close();
  await routed.pool.close();
  await platform.close();
  upstream.closeAllConnections();
  upstream.close();
  await rm(dataDir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
