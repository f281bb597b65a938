// Paths under /v1/model-router that no route serves (issue 4 §7: errors always in the route's
// wire format): a 404 in OpenAI's shape, or Anthropic's for Anthropic-SDK-looking calls; a known
// path with the wrong method is a 405 with Allow. Keyward's other paths keep their own 404.

import Anthropic, { NotFoundError as AnthropicNotFoundError } from '@anthropic-ai/sdk';
import { NotFoundError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
  await h.addKey('openai');
});
afterAll(() => h?.close());

const call = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
  fetch(`${h.tp.url}${path}`, { method, headers: { authorization: `Bearer ${h.adminToken}`, ...headers }, ...(body ? { body } : {}) });

const openAINotFound = (body: any) => {
  expect(body).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', code: 'not_found', param: null } });
};

describe('unknown paths under /v1/model-router', () => {
  const bases = () => [`/v1/model-router/${h.tp.defaultProxyId}`, '/v1/model-router'];

  it('get an OpenAI-shaped 404, with and without a proxy id', async () => {
    for (const base of bases()) {
      for (const path of ['/completions', '/chat/complete', '/audio/speech', '/models/openai:gpt-4o-mini/x', '']) {
        const res = await call('POST', `${base}${path}`, { 'content-type': 'application/json' }, '{}');
        expect(res.status, `${base}${path}`).toBe(404);
        const body: any = await res.json();
        openAINotFound(body);
        expect(body.error.message).toContain('/chat/completions');
      }
    }
  });

  it('the OpenAI SDK raises its NotFoundError with the router’s message', async () => {
    const error = await h.openai().completions.create({ model: 'openai:gpt-4o-mini', prompt: 'hi' }).catch((e) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.status).toBe(404);
    expect(error.message).toContain('Invalid URL');
  });

  it('Anthropic-looking paths (…/v1/…) and Anthropic SDK calls get Anthropic’s shape', async () => {
    for (const base of bases()) {
      const res = await call('POST', `${base}/v1/complete`, { 'content-type': 'application/json' }, '{}');
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ type: 'error', error: { type: 'not_found_error', message: expect.any(String) }, request_id: expect.any(String) });
    }
    const res = await call('GET', '/v1/model-router/files', { 'anthropic-version': '2023-06-01' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.type).toBe('not_found_error');

    const client = h.anthropic();
    const error = await client.messages.batches.list().catch((e) => e);
    expect(error).toBeInstanceOf(AnthropicNotFoundError);
    expect(error.error).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
  });

  it('a known path with the wrong method is a 405 with Allow, in that route’s shape', async () => {
    for (const base of bases()) {
      const get = await call('GET', `${base}/chat/completions`);
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
      const body: any = await get.json();
      expect(body.error).toMatchObject({ type: 'invalid_request_error', code: 'method_not_allowed', param: null });

      const post = await call('POST', `${base}/models`, { 'content-type': 'application/json' }, '{}');
      expect(post.status).toBe(405);
      expect(post.headers.get('allow')).toBe('GET');

      const messages = await call('GET', `${base}/v1/messages`, { 'anthropic-version': '2023-06-01' });
      expect(messages.status).toBe(405);
      expect(await messages.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    }
  });

  it('an unknown path is answered before authentication, and never as a 500', async () => {
    const res = await fetch(`${h.tp.url}/v1/model-router/nothing/here`, { method: 'DELETE' });
    expect(res.status).toBe(404);
    openAINotFound(await res.json());
  });

  it('other Keyward paths keep Fastify’s own 404', async () => {
    for (const path of ['/v1/nothing', '/api/nothing-here', '/v1/model-routerx/chat/completions']) {
      const res = await fetch(`${h.tp.url}${path}`);
      expect(res.status, path).toBe(404);
      const body: any = await res.json();
      expect(body.error?.code).not.toBe('not_found');
      expect(body.statusCode).toBe(404);
    }
  });
});
