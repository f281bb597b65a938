// Provider misbehaviour is never Keyward's 500 (issue 8 §6): every malformed, non-JSON or wrongly
// shaped answer or stream, from every adapter and the Anthropic passthrough, is a 502
// `upstream_bad_response` that fails over to the next key while nothing has been sent, and is
// metered `upstream_error`; no answer, log line or usage row carries the key.

import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { APIError as AnthropicAPIError } from '@anthropic-ai/sdk';
import { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_STREAM_EVENT_CHARS } from '../../src/providers/sse.js';
import type { MockReply, RecordedRequest } from '../upstreams/mock-upstream.js';
import { startRouterHarness, type MockProvider, type RouterHarness } from './support/router-harness.js';
import { waitForUsage } from './support/usage-records.js';

const KEYS: Record<MockProvider, [string, string]> = {
  openai: ['sk-proj-Malformed1stKeyAbCdEfGhIjKlMnOpQrStUv', 'sk-proj-Malformed2ndKeyZyXwVuTsRqPoNmLkJiHgFe'],
  anthropic: ['sk-ant-api03-Malformed1stKeyQwErTyUiOpAsDfGhJk', 'sk-ant-api03-Malformed2ndKeyZxCvBnMlKjHgFdSaPo'],
  gemini: ['AIzaSyMalformed1stKeyA1b2C3d4E5f6G7h8I9j0', 'AIzaSyMalformed2ndKeyK1l2M3n4O5p6Q7r8S9t0'],
};
const MODELS: Record<MockProvider, string> = { openai: 'openai:gpt-4o-mini', anthropic: 'anthropic:claude-sonnet-4-5', gemini: 'gemini:gemini-2.0-flash' };

/** The key a mock saw on a request, whichever header that provider reads it from. */
function keyOf(request: RecordedRequest): string {
  const h = request.headers;
  return String(h['x-api-key'] ?? h['x-goog-api-key'] ?? String(h.authorization ?? '').replace(/^Bearer /, ''));
}

const raw = (body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }): MockReply => ({ type: 'raw', body, headers });
const json = (value: unknown) => raw(JSON.stringify(value));
const sse = (text: string) => raw(text, { 'content-type': 'text/event-stream' });

/**
 * Counts that are numbers but no token count: what a call is billed by and its limits settle with,
 * so refused like a count sent as a string (a fractional one once made the call's cost throw after
 * the answer was sent, and the call went unmetered).
 */
function badCounts(reply: (usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number }) => MockReply): Record<string, MockReply> {
  return {
    'a fractional token count': reply({ prompt_tokens: 10.5, completion_tokens: 5, total_tokens: 15.5 }),
    'a negative token count': reply({ prompt_tokens: 10, completion_tokens: -5, total_tokens: 5 }),
    'a token count past 500 million': reply({ prompt_tokens: 3_000_000_000, completion_tokens: 5, total_tokens: 3_000_000_005 }),
  };
}

/** Malformed whatever the provider: not JSON, cut, empty, compressed garbage. */
const COMMON: Record<string, MockReply> = {
  'wrong content-type': raw('OK', { 'content-type': 'text/plain' }),
  'HTML error page with 200': raw('<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>', { 'content-type': 'text/html' }),
  'truncated JSON': raw('{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assist'),
  'empty body': raw(''),
  'gzip garbage': raw(Buffer.concat([gzipSync('{"choices":[]}').subarray(0, 12), Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff])]), { 'content-type': 'application/json', 'content-encoding': 'gzip' }),
  'JSON null': json(null),
};

/** JSON of the wrong shape, in each provider's own wire. */
const WRONG_SHAPE: Record<MockProvider, Record<string, MockReply>> = {
  openai: {
    'choices not an array': json({ id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: { 0: { message: { role: 'assistant', content: 'hi' } } } }),
    'null message': json({ id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: null, finish_reason: 'stop' }] }),
    'numbers as strings': json({ id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: '10', completion_tokens: '5', total_tokens: '15' } }),
    ...badCounts((usage) => json({ id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage })),
    'content a number': json({ id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 42 }, finish_reason: 'stop' }] }),
  },
  anthropic: {
    'content not an array': json({ id: 'msg_1', type: 'message', role: 'assistant', model: 'claude', content: 'hi', stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1 } }),
    'null content block': json({ id: 'msg_1', type: 'message', role: 'assistant', model: 'claude', content: [null], stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1 } }),
    'numbers as strings': json({ id: 'msg_1', type: 'message', role: 'assistant', model: 'claude', content: [{ type: 'text', text: 'hi' }], stop_reason: 'end_turn', usage: { input_tokens: '10', output_tokens: '5' } }),
    'not a message': json({ type: 'completion', completion: 'hi' }),
    ...badCounts(({ prompt_tokens, completion_tokens }) =>
      json({ id: 'msg_1', type: 'message', role: 'assistant', model: 'claude', content: [{ type: 'text', text: 'hi' }], stop_reason: 'end_turn', usage: { input_tokens: prompt_tokens, output_tokens: completion_tokens } }),
    ),
  },
  gemini: {
    'candidates not an array': json({ candidates: { text: 'hi' }, usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 1 } }),
    'null candidate': json({ candidates: [null] }),
    'numbers as strings': json({ candidates: [{ content: { role: 'model', parts: [{ text: 'hi' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: '10', candidatesTokenCount: '5' } }),
    'parts not an array': json({ candidates: [{ content: { role: 'model', parts: 'hi' }, finishReason: 'STOP' }] }),
    ...badCounts(({ prompt_tokens, completion_tokens }) =>
      json({ candidates: [{ content: { role: 'model', parts: [{ text: 'hi' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: prompt_tokens, candidatesTokenCount: completion_tokens } }),
    ),
  },
};

/** Streams that are not streams, or whose events are garbage, from the very first event. */
const STREAMS: Record<MockProvider, Record<string, MockReply>> = {
  openai: {
    'SSE with garbage data lines': sse('data: this is not json\n\ndata: [DONE]\n\n'),
    'SSE event of the wrong shape': sse('data: {"id":"c","object":"chat.completion.chunk","choices":"none"}\n\ndata: [DONE]\n\n'),
    'SSE event that is a number': sse('data: 42\n\n'),
    ...badCounts((usage) =>
      sse(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage })}\n\ndata: [DONE]\n\n`),
    ),
  },
  anthropic: {
    'SSE with garbage data lines': sse('event: message_start\ndata: this is not json\n\n'),
    'SSE event of the wrong shape': sse('event: message_start\ndata: {"type":"message_start"}\n\n'),
    'SSE usage as strings': sse('event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"c","content":[],"usage":{"input_tokens":"9","output_tokens":"1"}}}\n\n'),
    ...badCounts(({ prompt_tokens, completion_tokens }) =>
      sse(`event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: 'm', type: 'message', role: 'assistant', model: 'c', content: [], usage: { input_tokens: prompt_tokens, output_tokens: completion_tokens } } })}\n\n`),
    ),
  },
  gemini: {
    'SSE with garbage data lines': sse('data: <html>oops</html>\n\n'),
    'SSE event of the wrong shape': sse('data: {"candidates": 5}\n\n'),
    'SSE event that is a string': sse('data: "hello"\n\n'),
    ...badCounts(({ prompt_tokens, completion_tokens }) =>
      sse(`data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: 'hi' }] } }], usageMetadata: { promptTokenCount: prompt_tokens, candidatesTokenCount: completion_tokens } })}\n\n`),
    ),
  },
};
const STREAM_COMMON: Record<string, MockReply> = {
  'HTML error page with 200': COMMON['HTML error page with 200']!,
  'JSON instead of a stream': json({ id: 'c', object: 'chat.completion', choices: [] }),
  'empty body': sse(''),
  'gzip garbage': raw(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef]), { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' }),
};

let h: RouterHarness;
const keyIds = {} as Record<MockProvider, [string, string]>;
beforeAll(async () => {
  h = await startRouterHarness();
  for (const provider of ['openai', 'anthropic', 'gemini'] as const) {
    keyIds[provider] = [await h.addKey(provider, { apiKey: KEYS[provider][0], primary: true }), await h.addKey(provider, { apiKey: KEYS[provider][1] })];
  }
});
afterAll(() => h?.close());

/** Neither key, in any case or without its prefix, in what the caller, the logs or the usage rows got. */
function expectNoKey(...texts: string[]): void {
  const haystack = [...texts, h.tp.logs.join('\n')].join('\n').toLowerCase();
  for (const key of Object.values(KEYS).flat()) {
    expect(haystack).not.toContain(key.toLowerCase());
    expect(haystack).not.toContain(key.slice(-20).toLowerCase());
  }
}

type Wire = 'openai' | 'anthropic' | 'responses';

/** Usage rows are written in batches about once a second: every call's row is checked once, at the end. */
const metered: Array<{ name: string; requestId: string; outcome: string; status: number; keyId: string }> = [];

/** One call through the official SDK of `wire`; returns the status, error code and request id. */
async function call(wire: Wire, provider: MockProvider, stream: boolean): Promise<{ status: number; code: string | null; body: string; requestId: string }> {
  const requestId = randomUUID();
  const options = { headers: { 'x-request-id': requestId } };
  const model = MODELS[provider];
  try {
    let body: unknown;
    if (wire === 'openai') {
      const request = { model, messages: [{ role: 'user' as const, content: 'hi' }] };
      if (stream) {
        let text = '';
        for await (const chunk of await h.openai().chat.completions.create({ ...request, stream: true }, options)) text += chunk.choices[0]?.delta.content ?? '';
        body = text;
      } else body = await h.openai().chat.completions.create(request, options);
    } else if (wire === 'responses') {
      if (stream) {
        let text = '';
        for await (const event of await h.openai().responses.create({ model, input: 'hi', stream: true }, options)) if (event.type === 'response.output_text.delta') text += event.delta;
        body = text;
      } else body = await h.openai().responses.create({ model, input: 'hi' }, options);
    } else {
      const request = { model, max_tokens: 20, messages: [{ role: 'user' as const, content: 'hi' }] };
      body = stream ? await h.anthropic().messages.stream(request, options).finalMessage() : await h.anthropic().messages.create(request, options);
    }
    return { status: 200, code: null, body: JSON.stringify(body), requestId };
  } catch (error) {
    if (error instanceof APIError) return { status: error.status ?? 0, code: (error.code as string | null) ?? null, body: `${error.message} ${JSON.stringify(error.error)}`, requestId };
    if (error instanceof AnthropicAPIError) {
      return { status: error.status ?? 0, code: (error.error as { error?: { type?: string } })?.error?.type ?? null, body: `${error.message} ${JSON.stringify(error.error)}`, requestId };
    }
    throw error;
  }
}

async function expectFailover(wire: Wire, provider: MockProvider, stream: boolean, reply: MockReply) {
  const mock = h.upstreams[provider];
  const seen = mock.requests.length;
  mock.enqueue(reply, { type: 'text', text: 'Second key answered.' });
  const result = await call(wire, provider, stream);
  expect(result.status, result.body).toBe(200);
  expect(result.body).toContain('Second key answered.');
  const requests = mock.requests.slice(seen);
  expect(requests.map(keyOf)).toEqual(KEYS[provider]);
  expectNoKey(result.body);
  metered.push({ name: `${provider} ${wire} ${stream ? 'stream' : 'answer'}: failover`, requestId: result.requestId, outcome: 'ok', status: 200, keyId: keyIds[provider][1] });
}

async function expectBadResponse(wire: Wire, provider: MockProvider, stream: boolean, reply: MockReply) {
  const mock = h.upstreams[provider];
  const seen = mock.requests.length;
  mock.enqueue(reply, reply);
  const result = await call(wire, provider, stream);
  expect(result.status, result.body).toBe(502);
  // The Anthropic wire names the type (api_error); the OpenAI wire carries Keyward's code.
  if (wire === 'anthropic') expect(result.code).toBe('api_error');
  else expect(result.code).toBe('upstream_bad_response');
  expect(mock.requests.length - seen).toBe(2);
  expectNoKey(result.body);
  metered.push({ name: `${provider} ${wire} ${stream ? 'stream' : 'answer'}: every key failing`, requestId: result.requestId, outcome: 'upstream_error', status: 502, keyId: keyIds[provider][1] });
}

for (const provider of ['openai', 'anthropic', 'gemini'] as const) {
  // Anthropic models are reached natively through the passthrough on the Anthropic wire, and translated on the OpenAI wire.
  const wires: Wire[] = ['openai', 'anthropic'];
  describe(`${provider}: a malformed answer is a 502 upstream_bad_response`, () => {
    for (const [name, reply] of Object.entries({ ...COMMON, ...WRONG_SHAPE[provider] })) {
      for (const wire of wires) {
        it(`${wire} wire, ${name}: fails over to the second key`, () => expectFailover(wire, provider, false, reply));
        it(`${wire} wire, ${name}: with every key failing, 502 metered upstream_error`, () => expectBadResponse(wire, provider, false, reply));
      }
    }
  });

  describe(`${provider}: a malformed stream is a 502 upstream_bad_response before anything was sent`, () => {
    for (const [name, reply] of Object.entries({ ...STREAM_COMMON, ...STREAMS[provider] })) {
      for (const wire of wires) {
        it(`${wire} wire, ${name}: fails over to the second key`, () => expectFailover(wire, provider, true, reply));
        it(`${wire} wire, ${name}: with every key failing, 502 metered upstream_error`, () => expectBadResponse(wire, provider, true, reply));
      }
    }
  });
}

describe('a stream event that never ends is a malformed answer: the next key answers', () => {
  const endless: MockReply = { type: 'sse_endless_line', head: 'data: {"id":"', bytes: MAX_STREAM_EVENT_CHARS + 2 ** 20 };
  it('openai, OpenAI wire', () => expectFailover('openai', 'openai', true, endless));
  it('anthropic, Anthropic wire (passthrough)', () => expectFailover('anthropic', 'anthropic', true, endless));
  it('gemini, Anthropic wire', () => expectFailover('anthropic', 'gemini', true, endless));
});

describe('the Responses route', () => {
  for (const provider of ['openai', 'gemini'] as const) {
    it(`${provider}: a wrongly shaped answer fails over, then is a 502`, async () => {
      const [name, reply] = Object.entries(WRONG_SHAPE[provider])[0]!;
      expect(name).toBeTruthy();
      await expectFailover('responses', provider, false, reply);
      await expectBadResponse('responses', provider, false, reply);
    });
    it(`${provider}: a garbage stream fails over, then is a 502`, async () => {
      const reply = STREAMS[provider]['SSE with garbage data lines']!;
      await expectFailover('responses', provider, true, reply);
      await expectBadResponse('responses', provider, true, reply);
    });
  }
});

describe('embeddings', () => {
  const EMBEDDINGS: Record<'openai' | 'gemini', Record<string, MockReply>> = {
    openai: {
      'HTML error page with 200': COMMON['HTML error page with 200']!,
      'truncated JSON': raw('{"object":"list","data":[{"object":"embedding","embedding":[0.1,'),
      'data not an array': json({ object: 'list', data: { embedding: [0.1] }, model: 'm', usage: { prompt_tokens: 1, total_tokens: 1 } }),
      'numbers as strings': json({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: ['0.1', '0.2'] }], model: 'm', usage: { prompt_tokens: 1, total_tokens: 1 } }),
      'empty body': raw(''),
    },
    gemini: {
      'HTML error page with 200': COMMON['HTML error page with 200']!,
      'no embedding': json({ embedding: null }),
      'values as strings': json({ embedding: { values: ['0.1', '0.2'] } }),
      'empty body': raw(''),
    },
  };
  const model = { openai: 'openai:text-embedding-3-small', gemini: 'gemini:text-embedding-004' };
  for (const provider of ['openai', 'gemini'] as const) {
    for (const [name, reply] of Object.entries(EMBEDDINGS[provider])) {
      it(`${provider}, ${name}: fails over, then is a 502 metered upstream_error`, async () => {
        const mock = h.upstreams[provider];
        let seen = mock.requests.length;
        mock.enqueue(reply);
        const ok = await h.openai().embeddings.create({ model: model[provider], input: 'hello', encoding_format: 'float' });
        expect(ok.data[0]?.embedding.length).toBeGreaterThan(0);
        expect(mock.requests.slice(seen).map(keyOf)).toEqual(KEYS[provider]);

        seen = mock.requests.length;
        mock.enqueue(reply, reply);
        const requestId = randomUUID();
        const error = await h.openai().embeddings.create({ model: model[provider], input: 'hello' }, { headers: { 'x-request-id': requestId } }).catch((e) => e);
        expect(error).toBeInstanceOf(APIError);
        expect(error.status).toBe(502);
        expect(error.code).toBe('upstream_bad_response');
        expect(mock.requests.length - seen).toBe(2);
        expectNoKey(JSON.stringify(error.error));
        metered.push({ name: `${provider} embeddings, ${name}`, requestId, outcome: 'upstream_error', status: 502, keyId: keyIds[provider][1] });
      });
    }
  }
});

describe('model lists', () => {
  it('a garbage model list is not a 500: the listing falls back, and the log keeps no key', async () => {
    // First listing of this file: nothing cached yet.
    h.upstreams.openai.enqueue(raw(`<html>${KEYS.openai[0]}</html>`, { 'content-type': 'text/html' }));
    h.upstreams.gemini.enqueue(json({ models: 'none' }));
    h.upstreams.anthropic.enqueue(raw('{"data": [', { 'content-type': 'application/json' }));
    const list = await h.openai().models.list();
    expect(Array.isArray(list.data)).toBe(true);
    expectNoKey(JSON.stringify(list.data));
  });
});

describe('metering', () => {
  it('every call above left one usage row: ok on the second key after failover, upstream_error with a 502 otherwise; none holds a key', async () => {
    expect(metered.length).toBeGreaterThan(100);
    const last = metered.at(-1)!;
    await waitForUsage(h.tp, last.requestId);
    const rows = await h.tp.platform.ctx.db.selectFrom('usage_records').selectAll().execute();
    const byRequest = new Map(rows.map((row) => [row.request_id, row]));
    for (const expected of metered) {
      const row = byRequest.get(expected.requestId);
      expect(row, expected.name).toBeDefined();
      expect({ outcome: row!.outcome, status: row!.status, keyId: row!.key_id }, expected.name).toEqual({ outcome: expected.outcome, status: expected.status, keyId: expected.keyId });
    }
    expectNoKey(JSON.stringify(rows));
  });

  it('usage ids are time-ordered (UUIDv7): in id order, the rows are in the order they were made', async () => {
    const rows = await h.tp.platform.ctx.db.selectFrom('usage_records').select(['id', 'created_at']).execute();
    expect(rows.length).toBeGreaterThan(100);
    for (const row of rows) expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const byId = [...rows].sort((a, b) => (a.id < b.id ? -1 : 1)).map((row) => row.created_at);
    expect(byId).toEqual([...byId].sort((a, b) => a - b));
  });
});
