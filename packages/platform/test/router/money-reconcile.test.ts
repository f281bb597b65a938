// Limits and prices reach a running router within seconds even when their change notice never
// arrives (another instance's change_log row lost, or this instance's reload failing once): the
// router reads both tables again every LIMITS_RECONCILE_INTERVAL_MS, as revocations are reconciled.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setLimit } from '../../src/limits/spending-limits.js';
import { LIMITS_RECONCILE_INTERVAL_MS } from '../../src/router/index.js';
import { setModelPrice } from '../../src/usage/model-prices.js';
import { testEngine } from '../support/test-platform.js';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';
import { waitForUsage } from './support/usage-records.js';

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
  await h.addKey('openai');
}, 60_000);
afterAll(() => h?.close());

/** The write as another instance makes it, its notice lost on the way. */
const noticeLost = () => ({ db: h.tp.platform.ctx.db, changes: { publish: async () => undefined } }) as never;

let calls = 0;
async function chat(): Promise<{ status: number; requestId: string }> {
  const requestId = `reconcile-${++calls}`;
  const response = await fetch(`${h.baseURL()}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify({ model: 'openai:gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  });
  await response.arrayBuffer();
  return { status: response.status, requestId };
}

/** Calls until `done` holds or the reconcile interval (and a poll's margin) has passed twice. */
async function within<T>(attempt: () => Promise<T>, done: (value: T) => boolean): Promise<{ value: T; afterMs: number }> {
  const started = Date.now();
  for (;;) {
    const value = await attempt();
    const afterMs = Date.now() - started;
    if (done(value) || afterMs > 2 * LIMITS_RECONCILE_INTERVAL_MS + 2000) return { value, afterMs };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe(`limits and prices whose change notice was lost (${testEngine()})`, () => {
  it('a price set elsewhere prices the calls here within seconds', async () => {
    const first = await chat();
    expect(first.status).toBe(200);
    await setModelPrice(noticeLost(), { provider: 'openai', model: 'gpt-4o-mini', inputUsdPerMtok: '1000', outputUsdPerMtok: '1000' });
    const { value, afterMs } = await within(
      async () => {
        const call = await chat();
        const [row] = await waitForUsage(h.tp, call.requestId);
        return { row, expected: ((row?.input_tokens ?? 0) + (row?.output_tokens ?? 0)) * 1_000_000 };
      },
      ({ row, expected }) => Number(row?.cost_nano_usd) === expected,
    );
    expect(Number(value.row?.cost_nano_usd)).toBe(value.expected);
    expect(afterMs).toBeLessThan(LIMITS_RECONCILE_INTERVAL_MS + 3000);
  }, 30_000);

  it('a rate limit set elsewhere refuses the calls here within seconds', async () => {
    await setLimit(noticeLost(), { organizationId: h.orgId, scope: 'org', requestsPerMinute: 1 });
    const { value, afterMs } = await within(chat, (call) => call.status === 429);
    expect(value.status).toBe(429);
    expect(afterMs).toBeLessThan(LIMITS_RECONCILE_INTERVAL_MS + 3000);
  }, 30_000);
});
