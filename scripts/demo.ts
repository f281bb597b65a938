// `npm run demo`: the whole flow offline. Starts Keyward (its own data dir, .demo/), a local
// OpenAI-compatible demo model, a demo user with an org key pointing at that model, and the
// example app with LLM_PROXY_ID filled in. Ctrl-C stops everything.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadConfig } from '../packages/platform/src/config.js';
import { requirePrimaryOrganization } from '../packages/platform/src/accounts/organizations.js';
import { addProviderKey, listProviderKeys } from '../packages/platform/src/keys/provider-keys.js';
import { loggerOptions } from '../packages/platform/src/logger.js';
import { startPlatform } from '../packages/platform/src/platform.js';
import { findDefaultLlmProxy } from '../packages/platform/src/proxies/llm-proxies.js';
import { DEMO_MODEL_ID, startDemoModelServer } from './demo-model-server.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const exampleDir = `${root}examples/model-router-user-oauth`;

export const DEMO_USER = { email: 'demo@keyward.local', password: 'try-keyward-offline' };
export const DEMO_PROVIDER = 'openai-compatible';

export interface DemoOptions {
  keywardPort?: number;
  modelPort?: number;
  appPort?: number;
  dataDir?: string;
  /** PostgreSQL instead of the embedded SQLite (the end-to-end test runs on both). */
  databaseUrl?: string | undefined;
  /** Where the platform's JSON logs go (the terminal stays readable). */
  logFile?: string;
}

export interface RunningDemo {
  keywardUrl: string;
  appUrl: string;
  proxyId: string;
  model: string;
  stop(): Promise<void>;
}

export async function startDemo(options: DemoOptions = {}): Promise<RunningDemo> {
  const keywardPort = options.keywardPort ?? 9000;
  const modelPort = options.modelPort ?? 9091;
  const appPort = options.appPort ?? 5174;
  const dataDir = options.dataDir ?? `${root}.demo/data`;
  const logFile = options.logFile ?? `${root}.demo/keyward.log`;
  await mkdir(dataDir, { recursive: true });

  const model = await startDemoModelServer({ port: modelPort });
  const config = loadConfig({
    PORT: String(keywardPort),
    HOST: '127.0.0.1',
    KEYWARD_DATA_DIR: dataDir,
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    KEYWARD_ADMIN_EMAIL: DEMO_USER.email,
    KEYWARD_ADMIN_PASSWORD: DEMO_USER.password,
  });
  const platform = await startPlatform(config, pino(loggerOptions('info'), createWriteStream(logFile, { flags: 'a' })));
  let app: ChildProcess | undefined;
  try {
    await platform.app.listen({ port: keywardPort, host: '127.0.0.1' });
    const { db, box, changes } = platform.ctx;
    const org = await requirePrimaryOrganization(db);
    const baseUrl = `${model.url}/v1`;
    const keys = await listProviderKeys(db, org.id);
    if (!keys.some((k) => k.provider === DEMO_PROVIDER && k.base_url === baseUrl && k.scope === 'org')) {
      const key = await addProviderKey(db, box, { organizationId: org.id, provider: DEMO_PROVIDER, apiKey: '', baseUrl, scope: 'org', primary: true });
      await changes.publish('provider_key', key.id);
    }
    const proxy = await findDefaultLlmProxy(db);
    const modelId = `${DEMO_PROVIDER}:${DEMO_MODEL_ID}`;
    const appUrl = `http://localhost:${appPort}`;

    app = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: exampleDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        KEYWARD_BASE_URL: config.publicUrl,
        APP_BASE_URL: appUrl,
        LLM_PROXY_ID: proxy!.id,
        MODEL: modelId,
        PORT: String(appPort),
      },
    });
    const started = new Promise<void>((resolve, reject) => {
      let output = '';
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (/example app/i.test(output)) resolve();
      };
      app!.stdout!.on('data', onData);
      app!.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      app!.once('exit', (code) => reject(new Error(`the example app exited (${code}):\n${output}`)));
    });
    await started;

    let stopped = false;
    return {
      keywardUrl: config.publicUrl,
      appUrl,
      proxyId: proxy!.id,
      model: modelId,
      async stop() {
        if (stopped) return;
        stopped = true;
        const exited = new Promise((resolve) => (app!.exitCode !== null ? resolve(undefined) : app!.once('exit', resolve)));
        app!.kill('SIGTERM');
        await exited;
        await platform.close();
        await model.close();
      },
    };
  } catch (error) {
    app?.kill('SIGTERM');
    await platform.close();
    await model.close();
    throw error;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const demo = await startDemo();
    process.stdout.write(
      `\n  Keyward offline demo is running.\n\n` +
        `  Open the example app:   ${demo.appUrl}\n` +
        `  Sign in to Keyward as:  ${DEMO_USER.email}\n` +
        `  with the password:      ${DEMO_USER.password}\n\n` +
        `  Keyward:                ${demo.keywardUrl}  (logs in .demo/keyward.log)\n` +
        `  LLM proxy:              ${demo.proxyId}\n` +
        `  Model:                  ${demo.model}  (a local demo model: its answers say so)\n\n` +
        `  Press Ctrl-C to stop.\n\n`,
    );
    const stop = () => void demo.stop().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } catch (error) {
    const message = (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? `a port is taken: ${(error as Error).message}` : (error as Error).message;
    process.stderr.write(`demo: could not start: ${message}\n`);
    process.exit(1);
  }
}
