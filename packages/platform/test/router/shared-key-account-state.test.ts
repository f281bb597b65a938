// Shared keys do not open shared provider accounts (issue 8 §7). Features that reach state kept
// under the provider account — Files API files, code-execution containers, custom skills, the MCP
// connector, Gemini Files URIs — are refused on org and team keys with a 400 that says why, before
// any upstream call, and forwarded untouched on a personal key.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';

let h: RouterHarness;
const tokens: Record<'org' | 'team' | 'personal', string> = { org: '', team: '', personal: '' };
beforeAll(async () => {
  h = await startRouterHarness();
  const tess = await h.addUser('tess@example.com');
  const paul = await h.addUser('paul@example.com');
  const team = await h.addTeam('Shared', [tess.id]);
  for (const provider of ['anthropic', 'gemini', 'openai']) {
    await h.addKey(provider);
    await h.addKey(provider, { scope: 'team', teamId: team });
    await h.addKey(provider, { scope: 'personal', userId: paul.id });
  }
  tokens.org = h.adminToken; // the admin is in no team and has no personal key
  tokens.team = await h.tokenFor(tess);
  tokens.personal = await h.tokenFor(paul);
});
afterAll(() => h?.close());

const MODEL = 'anthropic:claude-sonnet-4-5';
const hi = { type: 'text', text: 'What is in it?' };
const fileImage = { type: 'image', source: { type: 'file', file_id: 'file_011CNha8iCJcU1wXNR6q4V8w' } };
const fileDocument = { type: 'document', source: { type: 'file', file_id: 'file_011CPMxVD3fHLUhvTqtsQA5w' } };

/** Each refused feature: the native Messages body, and the `param` the 400 must name. */
const ANTHROPIC_CASES: Array<{ name: string; body: Record<string, unknown>; param: string; reason: RegExp }> = [
  { name: 'an image from the Files API', body: { messages: [{ role: 'user', content: [fileImage, hi] }] }, param: 'messages[0].content[0].source.file_id', reason: /Files API/ },
  { name: 'a document from the Files API', body: { messages: [{ role: 'user', content: [hi, fileDocument] }] }, param: 'messages[0].content[1].source.file_id', reason: /Files API/ },
  {
    name: 'a Files API document inside a tool result',
    body: {
      tools: [{ name: 'fetch', input_schema: { type: 'object' } }],
      messages: [
        { role: 'user', content: 'read it' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'fetch', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [fileDocument] }] },
      ],
    },
    param: 'messages[2].content[0].content[0].source.file_id',
    reason: /Files API/,
  },
  {
    name: 'a container_upload block',
    body: { messages: [{ role: 'user', content: [hi, { type: 'container_upload', file_id: 'file_011CNha8iCJcU1wXNR6q4V8w' }] }], tools: [{ type: 'code_execution_20250825', name: 'code_execution' }] },
    param: 'messages[0].content[1].file_id',
    reason: /Files API/,
  },
  { name: 'an existing container by id', body: { container: 'container_011CNha8iCJcU1wXNR6q4V8w', messages: [{ role: 'user', content: 'go on' }] }, param: 'container', reason: /container/ },
  { name: 'an existing container as {id}', body: { container: { id: 'container_011CNha8iCJcU1wXNR6q4V8w' }, messages: [{ role: 'user', content: 'go on' }] }, param: 'container.id', reason: /container/ },
  {
    name: 'a custom skill',
    body: { container: { skills: [{ type: 'anthropic', skill_id: 'pptx', version: 'latest' }, { type: 'custom', skill_id: 'skill_01AbCdEfGhIjKlMnOpQrStUv', version: 'latest' }] }, messages: [{ role: 'user', content: 'hi' }] },
    param: 'container.skills[1]',
    reason: /custom skill/,
  },
  {
    name: 'the MCP connector',
    body: { mcp_servers: [{ type: 'url', url: 'https://mcp.example.com/sse', name: 'example', authorization_token: 'tok' }], messages: [{ role: 'user', content: 'hi' }] },
    param: 'mcp_servers',
    reason: /MCP connector/,
  },
];

function anthropicCall(token: string, body: Record<string, unknown>) {
  return fetch(`${h.baseURL()}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': token, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, max_tokens: 50, ...body }),
  });
}

describe('the Anthropic passthrough with a shared key', () => {
  for (const scope of ['org', 'team'] as const) {
    for (const c of ANTHROPIC_CASES) {
      it(`refuses ${c.name} on ${scope === 'org' ? 'an org' : 'a team'} key, saying why, without calling Anthropic`, async () => {
        const before = h.upstreams.anthropic.requests.length;
        const res = await anthropicCall(tokens[scope], c.body);
        const body: any = await res.json();
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
        expect(body.error.message).toContain(`'${c.param}'`);
        expect(body.error.message).toContain(scope === 'org' ? 'an organization' : 'a team');
        expect(body.error.message).toMatch(c.reason);
        expect(body.error.message).toContain('personal key');
        expect(h.upstreams.anthropic.requests.length).toBe(before);
      });
    }
  }

  it('forwards what reaches no shared state: Anthropic’s own skills in a new container', async () => {
    const container = { skills: [{ type: 'anthropic', skill_id: 'pptx', version: 'latest' }] };
    const res = await anthropicCall(tokens.org, { container, messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'code_execution_20250825', name: 'code_execution' }] });
    expect(res.status).toBe(200);
    expect(h.upstreams.anthropic.requests.at(-1)!.body.container).toEqual(container);
  });
});

describe('the Anthropic passthrough with a personal key', () => {
  for (const c of ANTHROPIC_CASES) {
    it(`forwards ${c.name} untouched`, async () => {
      const res = await anthropicCall(tokens.personal, c.body);
      expect(res.status).toBe(200);
      const sent = h.upstreams.anthropic.requests.at(-1)!.body;
      expect(sent).toEqual({ model: 'claude-sonnet-4-5', max_tokens: 50, ...c.body });
    });
  }
});

describe('translated routes', () => {
  it('refuse container and mcp_servers by name for any other provider, whatever the key', async () => {
    for (const extra of [{ container: 'container_1' }, { mcp_servers: [{ type: 'url', url: 'https://mcp.example.com', name: 'x' }] }]) {
      const before = h.upstreams.openai.requests.length;
      const res = await fetch(`${h.baseURL()}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': tokens.personal, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'openai:gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], ...extra }),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.message).toContain(Object.keys(extra)[0]);
      expect(h.upstreams.openai.requests.length).toBe(before);
    }
  });

  it('Gemini: a Files API URI is refused on org and team keys and forwarded on a personal key', async () => {
    const uri = 'https://generativelanguage.googleapis.com/v1beta/files/abc123.png';
    const body = { model: 'gemini:gemini-2.0-flash', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image_url', image_url: { url: uri } }] }] };
    const send = (token: string) =>
      fetch(`${h.baseURL()}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (const scope of ['org', 'team'] as const) {
      const before = h.upstreams.gemini.requests.length;
      const res = await send(tokens[scope]);
      const answer: any = await res.json();
      expect(res.status).toBe(400);
      expect(answer.error).toMatchObject({ type: 'invalid_request_error', code: 'shared_key_account_state', param: 'messages[0].content[1].image_url.url' });
      expect(answer.error.message).toMatch(/Files API/);
      expect(h.upstreams.gemini.requests.length).toBe(before);
    }
    const res = await send(tokens.personal);
    expect(res.status).toBe(200);
    expect(JSON.stringify(h.upstreams.gemini.requests.at(-1)!.body)).toContain(uri);
  });

  it('OpenAI wire: stored objects, conversations, file ids and vector stores are not forwarded at all, even on a personal key', async () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['/responses', { model: 'openai:gpt-4o-mini', input: 'hi', previous_response_id: 'resp_1' }, 'previous_response_id'],
      ['/responses', { model: 'openai:gpt-4o-mini', input: 'hi', conversation: 'conv_1' }, 'conversation'],
      ['/responses', { model: 'openai:gpt-4o-mini', input: 'hi', store: true }, 'store'],
      ['/responses', { model: 'openai:gpt-4o-mini', input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file-1' }] }] }, 'input[0].content[0]'],
      ['/responses', { model: 'openai:gpt-4o-mini', input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1' }] }] }, 'input[0].content[0].image_url'],
      ['/responses', { model: 'openai:gpt-4o-mini', input: 'hi', tools: [{ type: 'file_search', vector_store_ids: ['vs_1'] }] }, 'tools[0].type'],
      ['/chat/completions', { model: 'openai:gpt-4o-mini', messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-1' } }] }] }, 'messages[0].content[0]'],
    ];
    for (const [path, body, param] of cases) {
      const before = h.upstreams.openai.requests.length;
      const res = await fetch(`${h.baseURL()}${path}`, { method: 'POST', headers: { authorization: `Bearer ${tokens.personal}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const answer: any = await res.json();
      expect(res.status, `${path} ${param}: ${JSON.stringify(answer)}`).toBe(400);
      expect(answer.error.message, param).toContain(param);
      expect(h.upstreams.openai.requests.length).toBe(before);
    }
  });
});
