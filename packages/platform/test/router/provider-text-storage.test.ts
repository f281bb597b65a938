// Text a provider sends is kept in the call's usage record (its error message). PostgreSQL's text
// cannot hold U+0000: an error message holding one made the usage batch fail there, and no usage
// was written behind it. Now the record is stored on both engines, the character replaced, and
// the calls after it are metered as usual.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';
import { waitForUsage } from './support/usage-records.js';

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
  await h.addKey('openai');
});
afterAll(() => h?.close());

async function call() {
  const requestId = randomUUID();
  const response = await fetch(`${h.baseURL()}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${h.adminToken}`, 'x-request-id': requestId },
    body: JSON.stringify({ model: 'openai:gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  });
  const body = (await response.json()) as { error?: { message: string } };
  return { status: response.status, body, rows: await waitForUsage(h.tp, requestId) };
}

it('an error message holding U+0000 is metered, and so is the call after it', async () => {
  h.upstreams.openai.enqueue({ type: 'error', status: 400, message: 'bad \u0000 request' });
  const refused = await call();
  expect(refused.status).toBe(400);
  expect(refused.body.error?.message).toContain('bad \u0000 request');
  expect(refused.rows).toHaveLength(1);
  expect(refused.rows[0]!.error_message).toContain('bad \ufffd request');

  const next = await call();
  expect(next.status).toBe(200);
  expect(next.rows).toHaveLength(1);
  expect(next.rows[0]!.outcome).toBe('ok');
});
