// A non-streamed call that never reached its provider (no connection was made) is not charged
// the whole reservation: the provider never saw it, so it cannot be billing an answer.

import { lookup as dnsLookup } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostLookup } from '../../src/upstream/internal-address.js';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';
import { keywardCli, propagate } from './support/money-support.js';

/** A host whose address lookup never answers: the connection is never made. */
const BLACKHOLE = 'blackhole.test';
const lookup = ((hostname: string, options: unknown, callback: unknown) => {
  if (hostname === BLACKHOLE) return;
  return (dnsLookup as (...args: unknown[]) => void)(hostname, options, callback);
}) as unknown as HostLookup;

let h: RouterHarness;
const MODEL = 'openai:budget-model';
beforeAll(async () => {
  h = await startRouterHarness({ KEYWARD_UPSTREAM_CONNECT_TIMEOUT_MS: '1500' }, { lookupHost: lookup });
  await h.addKey('openai', { baseUrl: `http://${BLACKHOLE}:9/v1` });
  await keyward('price', 'set', '--provider', 'openai', '--model', 'budget-model', '--input-usd-per-mtok', '1000', '--output-usd-per-mtok', '10000');
}, 60_000);
afterAll(() => h?.close());

const keyward = keywardCli(() => h);
let users = 0;
async function limitedUser() {
  const user = await h.addUser(`unsent-${++users}-${Date.now()}@example.com`);
  const { id } = await keyward('limit', 'set', '--scope', 'user', '--user', user.email, '--usd', '5', '--period', 'total');
  await propagate();
  return { openai: h.openai(await h.tokenFor(user)), id };
}
async function spentUsd(id: string): Promise<number> {
  const list = await keyward('limit', 'list');
  return list.limits.find((l: { id: string }) => l.id === id).spentUsd;
}

describe('a non-streamed call whose provider was never reached', () => {
  it('connect timeout: not charged the $1 reserved for 100 output tokens', async () => {
    const { openai, id } = await limitedUser();
    const result = await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 100 }).catch((e: { status?: number }) => e.status);
    expect(result).toBe(504);
    await propagate();
    expect(await spentUsd(id)).toBeLessThan(0.2);
  }, 30_000);

  it('client gone while connecting: not charged the $1 reserved for 100 output tokens', async () => {
    const { openai, id } = await limitedUser();
    const controller = new AbortController();
    const call = openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 100 }, { signal: controller.signal }).catch(() => 'aborted');
    await new Promise((r) => setTimeout(r, 300));
    controller.abort();
    expect(await call).toBe('aborted');
    await new Promise((r) => setTimeout(r, 300));
    await propagate();
    expect(await spentUsd(id)).toBeLessThan(0.2);
  }, 30_000);
});
