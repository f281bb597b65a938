// `npm run bench`: what the Model Router adds on top of the provider. Three processes, so the
// numbers measure routing and not a shared event loop:
//   - upstream-server.ts: a local OpenAI-compatible upstream that answers at once (child);
//   - this process: Keyward (embedded SQLite in a temp dir), serving only while measuring;
//   - load-generator.ts: sends the same chat completions to the upstream directly and through
//     the router, at concurrency 1 and 64, streaming and not (child).
// Prints the added p50/p99 latency as a markdown table. Bounded: a few thousand requests, well
// under two minutes. All three processes share the machine's cores (printed with the table).

import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPrimaryOrganization } from '../src/accounts/organizations.js';
import { loadConfig } from '../src/config.js';
import { addProviderKey } from '../src/keys/provider-keys.js';
import { createConfidentialClient } from '../src/oauth/clients.js';
import { startPlatform } from '../src/platform.js';
import { findDefaultLlmProxy } from '../src/proxies/llm-proxies.js';
import type { BenchJob, BenchResult, BenchScenario } from './load-generator.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Bounds the whole run: a stuck child must not hang `npm run bench`. */
const DEADLINE_MS = 110_000;

const SCENARIOS: BenchScenario[] = [
  { concurrency: 1, stream: false, total: 1000, warmup: 300 },
  { concurrency: 1, stream: true, total: 1000, warmup: 300 },
  { concurrency: 64, stream: false, total: 4000, warmup: 500 },
  { concurrency: 64, stream: true, total: 4000, warmup: 500 },
];

/** Forks a bench script (this process's `--import tsx` is inherited) and waits for its first message. */
function forkScript(name: string): { child: ChildProcess; firstMessage: Promise<any> } {
  const child = fork(join(here, name), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const firstMessage = new Promise<any>((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`${name} exited (code ${code}) before answering`)));
    child.once('error', reject);
  });
  return { child, firstMessage };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function main() {
  const deadline = setTimeout(() => {
    console.error(`bench: still running after ${DEADLINE_MS / 1000} s; giving up`);
    process.exit(1);
  }, DEADLINE_MS);
  deadline.unref();
  const children: ChildProcess[] = [];
  const dataDir = await mkdtemp(join(tmpdir(), 'keyward-bench-'));
  try {
    const upstream = forkScript('upstream-server.ts');
    children.push(upstream.child);
    const { port } = (await upstream.firstMessage) as { port: number };
    const upstreamUrl = `http://127.0.0.1:${port}`;

    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      KEYWARD_DATA_DIR: dataDir,
      KEYWARD_ADMIN_EMAIL: 'bench@example.com',
      KEYWARD_ADMIN_PASSWORD: 'a long bench password 123',
      KEYWARD_LOG_LEVEL: process.env.KEYWARD_LOG_LEVEL ?? 'warn',
    });
    const platform = await startPlatform(config);
    try {
      const address = await platform.app.listen({ port: 0, host: '127.0.0.1' });
      const ctx = platform.ctx;
      const org = (await findPrimaryOrganization(ctx.db))!;
      const proxy = (await findDefaultLlmProxy(ctx.db))!;
      const providerKey = 'sk-bench-0123456789abcdef';
      await addProviderKey(ctx.db, ctx.box, { organizationId: org.id, provider: 'openai', apiKey: providerKey, baseUrl: `${upstreamUrl}/v1`, scope: 'org' });
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

      const job: BenchJob = {
        direct: { origin: upstreamUrl, path: '/v1/chat/completions', headers: { authorization: `Bearer ${providerKey}` }, model: 'gpt-4o-mini' },
        routed: { origin: address, path: `/v1/model-router/${proxy.id}/chat/completions`, headers: { authorization: `Bearer ${token}` }, model: 'openai:gpt-4o-mini' },
        scenarios: SCENARIOS,
      };
      const started = Date.now();
      const load = forkScript('load-generator.ts');
      children.push(load.child);
      load.child.send(job);
      const answer = (await load.firstMessage) as { results?: BenchResult[]; error?: string };
      if (!answer.results) throw new Error(`load generator failed: ${answer.error}`);

      const f = (n: number) => n.toFixed(2);
      const cpu = cpus();
      console.log(
        `\nModel Router added latency — ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, Node ${process.version}, SQLite, log level ${config.logLevel}, ` +
          `load generator, platform and upstream in 3 processes, ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
      );
      console.log('| concurrency | stream | requests | direct p50 / p99 (ms) | via router p50 / p99 (ms) | added p50 (ms) | added p99 (ms) |');
      console.log('|---|---|---|---|---|---|---|');
      for (const { scenario: s, direct: d, routed: r } of answer.results) {
        console.log(
          `| ${s.concurrency} | ${s.stream ? 'yes' : 'no'} | ${s.total} | ${f(percentile(d, 50))} / ${f(percentile(d, 99))} | ${f(percentile(r, 50))} / ${f(percentile(r, 99))} | **${f(percentile(r, 50) - percentile(d, 50))}** | **${f(percentile(r, 99) - percentile(d, 99))}** |`,
        );
      }
      console.log('\nStreaming latency is measured to the end of the stream (all chunks read). "direct" is the load generator calling the upstream process itself.');
    } finally {
      await platform.close();
    }
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
    await rm(dataDir, { recursive: true, force: true });
    clearTimeout(deadline);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
