// Round trips through the local Gemini upstream with a plain fetch: what the router will do.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVALID_GEMINI_MOCK_KEY, startGeminiUpstream } from '../../../test/upstreams/gemini-upstream.js';
import type { MockUpstream } from '../../../test/upstreams/mock-upstream.js';
import type { ChatCompletionChunk, ChatCompletionRequest } from '../openai-chat.js';
import type { UpstreamRequest, UpstreamTarget } from '../provider-adapter.js';
import { createSseReader } from '../sse.js';
import { geminiAdapter } from './index.js';

async function send(request: UpstreamRequest): Promise<Response> {
  const init: RequestInit = { method: request.method, headers: request.headers };
  if (request.body !== undefined) init.body = JSON.stringify(request.body);
  return fetch(request.url, init);
}

async function complete(request: ChatCompletionRequest, target: UpstreamTarget) {
  const res = await send(geminiAdapter.chat.buildRequest(request, target));
  const body: unknown = await res.json();
  if (!res.ok) return { status: res.status, error: geminiAdapter.parseError(res.status, body) };
  return { status: res.status, completion: geminiAdapter.chat.parseResponse(body, request) };
}

async function stream(request: ChatCompletionRequest, target: UpstreamTarget): Promise<ChatCompletionChunk[]> {
  const res = await send(geminiAdapter.chat.buildRequest({ ...request, stream: true }, target));
  expect(res.status).toBe(200);
  const translator = geminiAdapter.chat.createStreamTranslator(request);
  const chunks: ChatCompletionChunk[] = [];
  const reader = createSseReader((event) => chunks.push(...translator.push(event)));
  const decoder = new TextDecoder();
  for await (const bytes of res.body!) reader.feed(decoder.decode(bytes as Uint8Array, { stream: true }));
  chunks.push(...translator.end());
  return chunks;
}

const hello: ChatCompletionRequest = { model: 'gemini-2.0-flash', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }] };

describe('Gemini round trips through the mock upstream', () => {
  let upstream: MockUpstream;
  let target: UpstreamTarget;
  beforeAll(async () => {
    upstream = await startGeminiUpstream();
    target = { baseUrl: upstream.baseUrl, apiKey: 'AIza-test' };
  });
  afterAll(() => upstream.close());

  it('generateContent: text and usage with thoughts', async () => {
    upstream.enqueue({ type: 'text', text: 'Hello!', usage: { input: 9, output: 2, reasoning: 20, cached: 3 } });
    const out = await complete({ ...hello, max_tokens: 64 }, target);
    expect(out.completion).toMatchObject({
      choices: [{ message: { content: 'Hello!' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 9, completion_tokens: 22, total_tokens: 31, prompt_tokens_details: { cached_tokens: 3 }, completion_tokens_details: { reasoning_tokens: 20 } },
    });
    const seen = upstream.requests.at(-1)!;
    expect(seen.path).toBe('/v1beta/models/gemini-2.0-flash:generateContent');
    expect(seen.headers['x-goog-api-key']).toBe('AIza-test');
    expect(seen.body).toEqual({
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
      generationConfig: { maxOutputTokens: 64 },
    });
  });

  it('streamGenerateContent?alt=sse: deltas then the usage chunk', async () => {
    upstream.enqueue({ type: 'text', text: 'A streamed Gemini answer', usage: { input: 5, output: 6 } });
    const chunks = await stream(hello, target);
    expect(upstream.requests.at(-1)!.path).toBe('/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse');
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('A streamed Gemini answer');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 } });
  });

  it('function calls, streamed and not, with call ids that map back to names next turn', async () => {
    const calls = [{ name: 'get_weather', arguments: '{"city":"Paris"}' }, { name: 'get_time', arguments: '{"tz":"CET"}' }];
    upstream.enqueue({ type: 'tool_calls', calls });
    const out = await complete({ ...hello, tools: [{ type: 'function', function: { name: 'get_weather' } }, { type: 'function', function: { name: 'get_time' } }] }, target);
    const toolCalls = out.completion!.choices[0]!.message.tool_calls!;
    expect(toolCalls.map((c) => [c.id, c.function.name, c.function.arguments])).toEqual([
      [expect.stringMatching(/^call_0_/), 'get_weather', '{"city":"Paris"}'],
      [expect.stringMatching(/^call_1_/), 'get_time', '{"tz":"CET"}'],
    ]);
    expect(out.completion!.choices[0]!.finish_reason).toBe('tool_calls');

    upstream.enqueue({ type: 'tool_calls', calls, text: 'Let me check.' });
    const chunks = await stream(hello, target);
    expect(chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).map((c) => [c.index, c.id, c.function?.arguments])).toEqual([
      [0, expect.stringMatching(/^call_0_/), '{"city":"Paris"}'],
      [1, expect.stringMatching(/^call_1_/), '{"tz":"CET"}'],
    ]);

    upstream.enqueue({ type: 'text', text: 'Sunny, 14:00.' });
    const next = await complete(
      {
        ...hello,
        messages: [
          ...hello.messages,
          { role: 'assistant', content: null, tool_calls: toolCalls },
          { role: 'tool', tool_call_id: toolCalls[1]!.id, content: '14:00' },
          { role: 'tool', tool_call_id: toolCalls[0]!.id, content: '{"sky":"sunny"}' },
        ],
      },
      target,
    );
    expect(next.completion?.choices[0]?.message.content).toBe('Sunny, 14:00.');
    const sent = upstream.requests.at(-1)!.body as { contents: Array<{ role: string; parts: Array<{ functionResponse?: { name: string } }> }> };
    expect(sent.contents.at(-1)!.parts.map((p) => p.functionResponse?.name)).toEqual(['get_time', 'get_weather']);
  });

  it('MAX_TOKENS → length', async () => {
    upstream.enqueue({ type: 'text', text: 'cut', finish: 'length' });
    expect((await complete(hello, target)).completion?.choices[0]?.finish_reason).toBe('length');
  });

  it('in-stream error → UpstreamStreamError', async () => {
    upstream.enqueue({ type: 'error_mid_stream', text: 'partial', message: 'backend died' });
    await expect(stream(hello, target)).rejects.toThrow(expect.objectContaining({ name: 'UpstreamStreamError', message: 'backend died', type: 'INTERNAL' }));
  });

  it.each([
    [429, 'RESOURCE_EXHAUSTED'],
    [503, 'UNAVAILABLE'],
  ])('%i → Google error envelope', async (status, type) => {
    upstream.enqueue({ type: 'error', status });
    const out = await complete(hello, target);
    expect(out.status).toBe(status);
    expect(out.error?.type).toBe(type);
  });

  it.each([
    ['missing key', '', 403, 'PERMISSION_DENIED'],
    ['wrong key', INVALID_GEMINI_MOCK_KEY, 400, 'INVALID_ARGUMENT'],
  ])('%s → %i %s', async (_name, apiKey, status, type) => {
    const out = await complete(hello, { ...target, apiKey });
    expect(out.status).toBe(status);
    expect(out.error?.type).toBe(type);
  });

  it('embeddings (single and batch) and the model list', async () => {
    const embeddings = geminiAdapter.embeddings!;
    for (const input of ['one', ['one', 'two']] as const) {
      const request = { model: 'text-embedding-004', input: input as string | string[], dimensions: 5 };
      const res = await send(embeddings.buildRequest(request, target));
      const out = embeddings.parseResponse(await res.json(), request);
      expect(out.data.map((d) => (d.embedding as number[]).length)).toEqual(Array.isArray(input) ? [5, 5] : [5]);
    }
    const models = geminiAdapter.models!;
    const list = models.parseResponse(await (await send(models.buildRequest(target))).json());
    expect(list).toEqual(['gemini-2.0-flash', 'gemini-2.5-pro', 'text-embedding-004', 'gemini-embedding-001']);
  });
});
