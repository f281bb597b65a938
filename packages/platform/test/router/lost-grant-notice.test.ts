// A grant revoked elsewhere whose notice was lost: the revocation reconcile finds it, and the
// running calls of that grant are ended like a new call is refused.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REVOCATION_RECONCILE_INTERVAL_MS } from '../../src/oauth/index.js';
import { userTokens } from '../support/oauth-client.js';
import { testEngine } from '../support/test-platform.js';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
  await h.addKey('openai');
}, 60_000);
afterAll(() => h?.close());

const BOUND_MS = REVOCATION_RECONCILE_INTERVAL_MS + 2000;

describe(`a running call of a grant revoked elsewhere, notice lost (${testEngine()})`, () => {
  it('is ended within seconds', async () => {
    const tokens = await userTokens(h.tp);
    await h.tp.platform.ctx.changes.poll();
    h.upstreams.openai.enqueue({ type: 'stall_after_first_chunk', text: 'First piece and then nothing at all' });
    const response = await fetch(`${h.baseURL()}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai:gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value, { stream: true });
    const started = Date.now();
    const now = Date.now();
    // What revokeGrant writes, without its change_log row.
    const gid = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()).gid as string;
    await h.tp.platform.ctx.db.insertInto('oauth_revoked_grants').values({ grant_id: gid, revoked_at: now, keep_until: now + 3_600_000 }).execute();
    const deadline = setTimeout(() => void reader.cancel(), BOUND_MS + 5000);
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    clearTimeout(deadline);
    expect(text).toContain('"error"');
    expect(Date.now() - started).toBeLessThan(BOUND_MS);
  }, 30_000);
});
