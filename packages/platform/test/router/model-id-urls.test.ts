// A model id cannot steer a provider key to another URL (issue 8 §2). Gemini model ids and Azure
// deployment names become URL path segments: anything the provider would not accept is a 400
// naming the model, in the route's own error shape, and the provider hears nothing.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';

let h: RouterHarness;
let patToken: string;
beforeAll(async () => {
  h = await startRouterHarness();
  await h.addKey('gemini');
  // A base URL with a path prefix, as a gateway in front of Azure would have.
  await h.addKey('azure', { baseUrl: `${h.upstreams.openai.baseUrl}/prefix` });
  const pat = await h.addUser('pat@example.com');
  await h.addKey('gemini', { scope: 'personal', userId: pat.id, baseUrl: `${h.upstreams.gemini.baseUrl}/prefix/v1beta` });
  await h.addKey('openai');
  await h.addKey('anthropic');
  patToken = await h.tokenFor(pat);
});
afterAll(() => h?.close());

const ROUTES = {
  'chat completions': { path: '/chat/completions', body: (model: string) => ({ model, messages: [{ role: 'user', content: 'hi' }] }) },
  embeddings: { path: '/embeddings', body: (model: string) => ({ model, input: 'hi' }) },
  responses: { path: '/responses', body: (model: string) => ({ model, input: 'hi' }) },
  'Anthropic messages': { path: '/v1/messages', body: (model: string) => ({ model, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }) },
} as const;

function send(route: keyof typeof ROUTES, model: string, token = h.adminToken) {
  const { path, body } = ROUTES[route];
  const auth: Record<string, string> = path === '/v1/messages' ? { 'x-api-key': token, 'anthropic-version': '2023-06-01' } : { authorization: `Bearer ${token}` };
  return fetch(`${h.baseURL()}${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body(model)) });
}

const upstreamCalls = () => h.upstreams.gemini.requests.length + h.upstreams.openai.requests.length + h.upstreams.anthropic.requests.length;

async function expectRefused(route: keyof typeof ROUTES, model: string, token?: string) {
  const before = upstreamCalls();
  const res = await send(route, model, token);
  const body: any = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(400);
  if (route === 'Anthropic messages') {
    expect(body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(body.error.message).toContain(`"${model}"`);
  } else {
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param: 'model', code: 'invalid_model' });
    expect(body.error.message).toContain(`"${model}"`);
  }
  expect(upstreamCalls()).toBe(before);
}

const HOSTILE_GEMINI = [
  '../../something',
  '..%2f..%2fsomething',
  '%2e%2e/%2e%2e/something',
  '.%2E/.%2E/something',
  '%2e%2e',
  'models/../../something',
  'models/..',
  '..',
  '.',
  'a/b',
  'a\\b',
  '..\\..\\something',
  'gemini-2.0-flash?alt=json',
  'gemini-2.0-flash#x',
  'gemini-2.0-flash:embedContent',
  'gemini-2.0-flash\u0000',
  ' gemini-2.0-flash',
].map((id) => `gemini:${id}`);

const HOSTILE_AZURE = ['..', '.', '../../x', '..%2fx', '%2E%2E', 'a/b', 'a\\b', 'x?api-version=1', 'x#y', 'x\n'].map((id) => `azure:${id}`);

describe('a Gemini model id that would leave the model path', () => {
  for (const route of Object.keys(ROUTES) as Array<keyof typeof ROUTES>) {
    it(`is refused on ${route} with a 400 naming it, and Gemini hears nothing`, async () => {
      for (const model of HOSTILE_GEMINI) await expectRefused(route, model);
    });
  }

  it('is refused too when the key’s base URL has a path prefix', async () => {
    for (const route of Object.keys(ROUTES) as Array<keyof typeof ROUTES>) {
      for (const model of ['gemini:../../../something', 'gemini:..', 'gemini:%2e%2e']) await expectRefused(route, model, patToken);
    }
  });
});

describe('an Azure deployment name that would leave the deployment path', () => {
  for (const route of Object.keys(ROUTES) as Array<keyof typeof ROUTES>) {
    it(`is refused on ${route} with a 400 naming it, and Azure hears nothing`, async () => {
      for (const model of HOSTILE_AZURE) await expectRefused(route, model);
    });
  }
});

// No provider's model id holds a control character, and PostgreSQL cannot store U+0000 in the
// usage record's model column: such an id is a 400 on every route, for every provider.
describe('a model id with a control character', () => {
  const CONTROL = ['openai:gpt-4o-mini\u0000', 'openai:gpt\u0000-4o', 'anthropic:claude-sonnet-4-5\u0000', 'openai:gpt-4o\n', 'openai:\u001bgpt', 'openai:gpt\u007f', 'gemini:gemini-2.0-flash\t'];
  for (const route of Object.keys(ROUTES) as Array<keyof typeof ROUTES>) {
    it(`is refused on ${route} with a 400 naming it, and no provider hears it`, async () => {
      for (const model of CONTROL) await expectRefused(route, model);
      // A plain id is served on the same route: the refusal is the character's alone.
      expect((await send(route, 'openai:gpt-4o-mini')).status).toBe(200);
    });
  }
});

// The id is kept in the usage record and labels the metrics: a caller cannot make it huge.
describe('a model id longer than 256 characters', () => {
  const atLimit = `openai:${'m'.repeat(256 - 'openai:'.length)}`;
  for (const route of Object.keys(ROUTES) as Array<keyof typeof ROUTES>) {
    it(`is refused on ${route} with a 400 that does not repeat it, and no provider hears it`, async () => {
      for (const model of [`${atLimit}m`, `openai:${'m'.repeat(5_000_000)}`]) {
        const before = upstreamCalls();
        const res = await send(route, model);
        const text = await res.text();
        expect(res.status, text.slice(0, 300)).toBe(400);
        expect(text).toContain(`characters long; no model id is longer than 256`);
        expect(text.length).toBeLessThan(1000);
        expect(upstreamCalls()).toBe(before);
      }
    });
  }

  it('an id of exactly 256 characters is served', async () => {
    const res = await send('chat completions', atLimit);
    expect(res.status).toBe(200);
    expect(h.upstreams.openai.requests.at(-1)!.body.model).toBe(atLimit.slice('openai:'.length));
  });
});

describe('valid ids still reach exactly their model', () => {
  it('Gemini names with dots, with or without models/', async () => {
    for (const [model, path] of [
      ['gemini:gemini-2.5-flash', '/v1beta/models/gemini-2.5-flash:generateContent'],
      ['gemini:models/gemini-2.0-flash', '/v1beta/models/gemini-2.0-flash:generateContent'],
    ] as const) {
      const res = await send('chat completions', model);
      expect(res.status).toBe(200);
      expect(h.upstreams.gemini.requests.at(-1)!.path).toBe(path);
    }
  });

  it('under a prefixed base URL, the call stays under the prefix', async () => {
    await send('chat completions', 'gemini:gemini-2.0-flash', patToken);
    expect(h.upstreams.gemini.requests.at(-1)!.path).toBe('/prefix/v1beta/models/gemini-2.0-flash:generateContent');
    await send('embeddings', 'gemini:text-embedding-004', patToken);
    expect(h.upstreams.gemini.requests.at(-1)!.path).toBe('/prefix/v1beta/models/text-embedding-004:embedContent');
    await send('chat completions', 'azure:my-gpt-4o.deployment_1');
    expect(h.upstreams.openai.requests.at(-1)!.path).toBe('/prefix/openai/deployments/my-gpt-4o.deployment_1/chat/completions?api-version=2024-10-21');
  });
});
