// The admin sees who used what: router calls, then `keyward usage summary` on the same database.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSince } from '../../src/cli/commands/usage.js';
import { runKeyward } from '../support/cli.js';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
  await h.addKey('openai');
});
afterAll(() => h?.close());

const cliEnv = () => ({ KEYWARD_DATA_DIR: h.tp.config.dataDir, DATABASE_URL: h.tp.config.databaseUrl ?? '' });

describe('keyward usage summary', () => {
  it('sums calls and tokens per user, app and model, failures counted', async () => {
    const openai = h.openai();
    h.upstreams.openai.enqueue({ type: 'text', text: 'one', usage: { input: 10, output: 3 } }, { type: 'text', text: 'two', usage: { input: 7, output: 2 } });
    await openai.chat.completions.create({ model: 'openai:gpt-4o-mini', messages: [{ role: 'user', content: 'a' }] });
    await openai.chat.completions.create({ model: 'openai:gpt-4o-mini', messages: [{ role: 'user', content: 'b' }] });
    h.upstreams.openai.enqueue({ type: 'error', status: 503 });
    await openai.chat.completions.create({ model: 'openai:gpt-4o-mini', messages: [{ role: 'user', content: 'c' }] }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 1500)); // the sink flushes about once a second

    const r = await runKeyward(['usage', 'summary', '--since', '1h', '--json'], cliEnv());
    expect(r.code).toBe(0);
    const row = r.json.rows.find((x: { model: string }) => x.model === 'gpt-4o-mini');
    expect(row).toMatchObject({ user: h.tp.admin.email, provider: 'openai', calls: 3, failed: 1, inputTokens: 17, outputTokens: 5 });
    expect(row.clientId).toBeTruthy();

    const text = await runKeyward(['usage', 'summary'], cliEnv());
    expect(text.stdout).toContain(`${h.tp.admin.email}`);
    expect(text.stdout).toMatch(/3 calls \(1 failed\)\s+17 in \/ 5 out/);
  }, 60_000);

  it('refuses a malformed --since', async () => {
    const r = await runKeyward(['usage', 'summary', '--since', 'yesterday-ish', '--json'], cliEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--since takes a duration/);
  });

  it('reads durations and dates', () => {
    const now = Date.UTC(2026, 10, 28, 12);
    expect(parseSince('24h', now)).toBe(now - 86_400_000);
    expect(parseSince('30m', now)).toBe(now - 1_800_000);
    expect(parseSince('2026-11-01', now)).toBe(Date.UTC(2026, 10, 1));
  });
});
