// GET …/v1/models in Anthropic's list shape (issue 4 §3 on the Anthropic wire): the same
// `provider:model` ids as the OpenAI list, paginated with Anthropic's id cursors, so the Anthropic
// SDK's `client.models.list()` works; the token as Bearer or x-api-key.

import { AuthenticationError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANTHROPIC_MOCK_MODELS } from '../upstreams/anthropic-upstream.js';
import { OPENAI_MOCK_MODELS } from '../upstreams/openai-upstream.js';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';
import { waitForUsage } from './support/usage-records.js';

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
  await h.addKey('openai');
  await h.addKey('anthropic');
});
afterAll(() => h?.close());

const expectedIds = () =>
  [...OPENAI_MOCK_MODELS.map((m) => `openai:${m}`), ...ANTHROPIC_MOCK_MODELS.map((m) => `anthropic:${m.id}`)].sort();

describe('Anthropic-format model list', () => {
  it('the Anthropic SDK lists every reachable provider:model, with and without a proxy id', async () => {
    for (const proxyId of [h.tp.defaultProxyId, null]) {
      const ids: string[] = [];
      for await (const model of h.anthropic(undefined, proxyId).models.list()) {
        expect(model).toEqual({ type: 'model', id: expect.any(String), display_name: expect.any(String), created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
        ids.push(model.id);
      }
      expect(ids).toEqual(expectedIds());
    }
  });

  it('is the same set of ids as the OpenAI list', async () => {
    const openai = (await h.openai().models.list()).data.map((m) => m.id);
    const anthropic: string[] = [];
    for await (const model of h.anthropic().models.list()) anthropic.push(model.id);
    expect(anthropic).toEqual(openai);
  });

  it('pages with limit, after_id and before_id; the SDK follows has_more', async () => {
    const all = expectedIds();
    const first = await h.anthropic().models.list({ limit: 2 });
    expect(first.data.map((m) => m.id)).toEqual(all.slice(0, 2));
    expect(first.has_more).toBe(true);
    expect(first.first_id).toBe(all[0]);
    expect(first.last_id).toBe(all[1]);

    const second = await first.getNextPage();
    expect(second.data.map((m) => m.id)).toEqual(all.slice(2, 4));

    const paged: string[] = [];
    for await (const model of h.anthropic().models.list({ limit: 2 })) paged.push(model.id);
    expect(paged).toEqual(all);

    const before = await h.anthropic().models.list({ before_id: all[3]!, limit: 2 });
    expect(before.data.map((m) => m.id)).toEqual(all.slice(1, 3));
    expect(before.has_more).toBe(true);
  });

  it('x-api-key works, a wrong token is a 401 in Anthropic’s shape', async () => {
    const res = await fetch(`${h.baseURL()}/v1/models`, { headers: { 'x-api-key': h.adminToken, 'anthropic-version': '2023-06-01' } });
    expect(res.status).toBe(200);
    const body: any = await res.json();
    expect(body).toMatchObject({ has_more: false, first_id: expectedIds()[0], last_id: expectedIds().at(-1) });
    expect(body.data).toHaveLength(expectedIds().length);

    const error = await h.anthropic('not-a-token').models.list().catch((e) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect(error.headers.get('www-authenticate')).toMatch(/^Bearer resource_metadata=/);
  });

  it('a bad limit is a 400 in Anthropic’s shape', async () => {
    for (const query of ['limit=0', 'limit=abc', 'limit=1001', 'limit=1&limit=2', 'after_id=a&before_id=b']) {
      const res = await fetch(`${h.baseURL()}/v1/models?${query}`, { headers: { authorization: `Bearer ${h.adminToken}` } });
      expect(res.status, query).toBe(400);
      expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    }
  });

  it('is metered as an anthropic_models call', async () => {
    const requestId = `anthropic-models-${Date.now()}`;
    await h.anthropic().models.list({}, { headers: { 'x-request-id': requestId } });
    const [row] = await waitForUsage(h.tp, requestId);
    expect(row).toMatchObject({ endpoint: 'models', inbound_format: 'anthropic_models', outcome: 'ok', status: 200 });
  });
});
