// Round trips through the local Anthropic upstream with a plain fetch, exactly as the router will
// call it; and the official Anthropic SDK against the same upstream, to prove its wire is real.

import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropicUpstream } from '../../../test/upstreams/anthropic-upstream.js';
import type { MockUpstream } from '../../../test/upstreams/mock-upstream.js';
import type { ChatCompletionChunk, ChatCompletionRequest } from '../openai-chat.js';
import { type UpstreamRequest, type UpstreamTarget, UpstreamStreamError } from '../provider-adapter.js';
import { createSseReader } from '../sse.js';
import { anthropicAdapter } from './index.js';

let upstream: MockUpstream;
let target: UpstreamTarget;
beforeAll(async () => {
  upstream = await startAnthropicUpstream();
  target = { baseUrl: upstream.baseUrl, apiKey: 'sk-ant-test' };
});
afterAll(() => upstream.close());

const model = 'claude-sonnet-4-5-20250929';
const ask = (extra: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest => ({ model, messages: [{ role: 'user', content: 'Hi' }], ...extra });

function send(request: UpstreamRequest): Promise<Response> {
  const init: RequestInit = { method: request.method, headers: request.headers };
  if (request.body !== undefined) init.body = JSON.stringify(request.body);
  return fetch(request.url, init);
}

async function streamChunks(request: ChatCompletionRequest): Promise<ChatCompletionChunk[]> {
  const response = await send(anthropicAdapter.chat.buildRequest(request, target));
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const translator = anthropicAdapter.chat.createStreamTranslator(request);
  const chunks: ChatCompletionChunk[] = [];
  const reader = createSseReader((event) => chunks.push(...translator.push(event)));
  const decoder = new TextDecoder();
  for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) reader.feed(decoder.decode(bytes, { stream: true }));
  return [...chunks, ...translator.end()];
}

describe('round trip through the Anthropic upstream', () => {
  it('non-streaming text, with usage including cache reads', async () => {
    upstream.enqueue({ type: 'text', text: 'Hello there.', usage: { input: 100, output: 7, cached: 60 } });
    const request = ask({ max_tokens: 50 });
    const response = await send(anthropicAdapter.chat.buildRequest(request, target));
    expect(response.status).toBe(200);
    const completion = anthropicAdapter.chat.parseResponse(await response.json(), request);
    expect(completion.choices[0]?.message.content).toBe('Hello there.');
    expect(completion.usage).toEqual({ prompt_tokens: 100, completion_tokens: 7, total_tokens: 107, prompt_tokens_details: { cached_tokens: 60 } });
    const seen = upstream.requests.at(-1)!;
    expect(seen.headers['x-api-key']).toBe('sk-ant-test');
    expect(seen.headers['anthropic-version']).toBe('2023-06-01');
    expect(seen.body).toEqual({ model, max_tokens: 50, messages: [{ role: 'user', content: 'Hi' }] });
  });

  it('streaming text with finish length', async () => {
    upstream.enqueue({ type: 'text', text: 'A longer answer that is cut', finish: 'length' });
    const chunks = await streamChunks(ask({ stream: true }));
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('A longer answer that is cut');
    expect(chunks.find((chunk) => chunk.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('length');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 25, completion_tokens: 12 } });
  });

  it('streaming parallel tool calls reassemble intact', async () => {
    const calls = [
      { id: 'toolu_1', name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}' },
      { id: 'toolu_2', name: 'get_time', arguments: '{"timezone":"America/New_York","format":"24h"}' },
    ];
    upstream.enqueue({ type: 'tool_calls', text: 'Checking.', calls });
    const chunks = await streamChunks(ask({ stream: true }));
    const deltas = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    for (const [index, call] of calls.entries()) {
      const mine = deltas.filter((delta) => delta.index === index);
      expect(mine[0]).toMatchObject({ id: call.id, function: { name: call.name } });
      expect(mine.map((delta) => delta.function?.arguments ?? '').join('')).toBe(call.arguments);
    }
    expect(chunks.find((chunk) => chunk.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('non-streaming tool calls', async () => {
    upstream.enqueue({ type: 'tool_calls', calls: [{ id: 'toolu_9', name: 'get_weather', arguments: '{"location":"Paris"}' }] });
    const request = ask();
    const completion = anthropicAdapter.chat.parseResponse(await (await send(anthropicAdapter.chat.buildRequest(request, target))).json(), request);
    expect(completion.choices[0]).toMatchObject({
      message: { content: null, tool_calls: [{ id: 'toolu_9', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }] },
      finish_reason: 'tool_calls',
    });
  });

  it('an error status comes back as Anthropic’s error body, with retry-after', async () => {
    upstream.enqueue({ type: 'error', status: 429, headers: { 'retry-after': '17' } });
    const response = await send(anthropicAdapter.chat.buildRequest(ask(), target));
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('17');
    const body = (await response.json()) as { error: { message: string } };
    expect(body).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' }, request_id: expect.stringMatching(/^req_/) });
    expect(anthropicAdapter.parseError(429, body)).toEqual({ type: 'rate_limit_error', message: body.error.message });
  });

  it('a missing key gets Anthropic’s real 401 body', async () => {
    const request = anthropicAdapter.chat.buildRequest(ask(), { ...target, apiKey: '' });
    delete request.headers['x-api-key'];
    const response = await send(request);
    expect(response.status).toBe(401);
    expect(anthropicAdapter.parseError(401, await response.json())).toEqual({ type: 'authentication_error', message: 'x-api-key header is required' });
  });

  it('an in-stream error event becomes UpstreamStreamError after the partial text', async () => {
    upstream.enqueue({ type: 'error_mid_stream', text: 'Half an answer', message: 'Overloaded' });
    await expect(streamChunks(ask({ stream: true }))).rejects.toBeInstanceOf(UpstreamStreamError);
  });

  it('a stalled stream sends its first text delta, then waits until the client leaves', async () => {
    upstream.enqueue({ type: 'stall_after_first_chunk', text: 'First piece and then nothing' });
    const controller = new AbortController();
    const upstreamRequest = anthropicAdapter.chat.buildRequest(ask({ stream: true }), target);
    const response = await fetch(upstreamRequest.url, { method: 'POST', headers: upstreamRequest.headers, body: JSON.stringify(upstreamRequest.body), signal: controller.signal });
    const translator = anthropicAdapter.chat.createStreamTranslator(ask({ stream: true }));
    const text: string[] = [];
    const reader = createSseReader((event) => text.push(...translator.push(event).map((chunk) => chunk.choices[0]?.delta.content ?? '')));
    const body = response.body!.getReader();
    while (!text.join('')) reader.feed(new TextDecoder().decode((await body.read()).value));
    expect(text.join('')).toBe('First piece and then nothing'.slice(0, 10));
    const aborted = upstream.waitForAbort();
    controller.abort();
    await aborted;
  });

  it('lists models', async () => {
    const response = await send(anthropicAdapter.models!.buildRequest(target));
    expect(upstream.requests.at(-1)?.path).toBe('/v1/models?limit=1000');
    expect(anthropicAdapter.models!.parseResponse(await response.json())).toEqual(['claude-sonnet-4-5-20250929', 'claude-haiku-4-5-20251001']);
  });
});

describe('parseError', () => {
  const cases: Array<[number, unknown, { message: string; type?: string }]> = [
    [400, { type: 'error', error: { type: 'invalid_request_error', message: 'messages: roles must alternate between "user" and "assistant"' }, request_id: 'req_1' }, { type: 'invalid_request_error', message: 'messages: roles must alternate between "user" and "assistant"' }],
    [529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, { type: 'overloaded_error', message: 'Overloaded' }],
    [413, '<html><body>413 Request Entity Too Large</body></html>', { message: 'Anthropic answered HTTP 413' }],
    [502, 'upstream connect error', { message: 'upstream connect error' }],
    [500, undefined, { message: 'Anthropic answered HTTP 500' }],
  ];
  for (const [status, body, expected] of cases) {
    it(`HTTP ${status}`, () => expect(anthropicAdapter.parseError(status, body)).toEqual(expected));
  }
});

describe('the official Anthropic SDK accepts the upstream’s wire', () => {
  const client = () => new Anthropic({ apiKey: 'sk-ant-test', baseURL: upstream.baseUrl, maxRetries: 0 });

  it('messages.create', async () => {
    upstream.enqueue({ type: 'text', text: 'From the SDK.' });
    const message = await client().messages.create({ model, max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] });
    expect(message.content).toEqual([{ type: 'text', text: 'From the SDK.' }]);
    expect(message.stop_reason).toBe('end_turn');
  });

  it('messages.stream with a tool call', async () => {
    upstream.enqueue({ type: 'tool_calls', text: 'Let me look.', calls: [{ id: 'toolu_7', name: 'get_weather', arguments: '{"location":"Oslo"}' }] });
    const final = await client().messages.stream({ model, max_tokens: 100, messages: [{ role: 'user', content: 'Weather?' }] }).finalMessage();
    expect(final.content).toEqual([
      { type: 'text', text: 'Let me look.' },
      { type: 'tool_use', id: 'toolu_7', name: 'get_weather', input: { location: 'Oslo' } },
    ]);
    expect(final.stop_reason).toBe('tool_use');
  });

  it('errors surface as the SDK’s typed errors', async () => {
    upstream.enqueue({ type: 'error', status: 529 });
    await expect(client().messages.create({ model, max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] })).rejects.toMatchObject({
      status: 529,
      error: { type: 'error', error: { type: 'overloaded_error' } },
    });
  });
});
