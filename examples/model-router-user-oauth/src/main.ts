// Start: read settings (.env, then real environment variables on top), then listen.
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfigFromEnvironment } from './config.js';
import { createApp } from './server.js';

const appDir = fileURLToPath(new URL('..', import.meta.url));

let config;
try {
  config = loadConfigFromEnvironment(`${appDir}.env`);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const app = createApp(config, { clientStoreFile: `${appDir}.keyward-client.json` });
app.server.on('error', (error: NodeJS.ErrnoException) => {
  console.error(error.code === 'EADDRINUSE' ? `Port ${config.port} is taken. Set PORT (and APP_BASE_URL) to a free one.` : error);
  process.exit(1);
});
app.server.listen(config.port, () => {
  console.log(`Model Router example app: ${config.appBaseUrl.origin}`);
  console.log(`  Keyward:      ${config.keywardBaseUrl.href}`);
  console.log(`  Redirect URI: ${config.redirectUri}`);
  console.log(`  LLM proxy:    ${config.llmProxyId}, default model ${config.model}`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => void app.close().then(() => process.exit(0)));
}
