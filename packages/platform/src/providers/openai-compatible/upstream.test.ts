// Round trips through the local OpenAI upstream with a plain fetch: what the router will do.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVALID_OPENAI_MOCK_KEY, startOpenAIUpstream } from '../../../test/upstreams/openai-upstream.js';
import type { MockUpstream } from '../../../test/upstreams/mock-upstream.js';
import type { ChatCompletionChunk, ChatCompletionRequest } from '../openai-chat.js';
import { UpstreamStreamError, type ProviderAdapter, type UpstreamRequest, type UpstreamTarget } from '../provider-adapter.js';
import { createSseReader } from '../sse.js';
import { openAICompatibleAdapters } from './index.js';

const adapter = (id: string): ProviderAdapter => openAICompatibleAdapters.find((a) => a.id === id)!;

async function send(request: UpstreamRequest): Promise<Response> {
  const init: RequestInit = { method: request.method, headers: request.headers };
  if (request.body !== undefined) init.body = JSON.stringify(request.body);
  return fetch(request.url, init);
}

async function complete(provider: ProviderAdapter, request: ChatCompletionRequest, target: UpstreamTarget) {
  const res = await send(provider.chat.buildRequest(request, target));
  const body: unknown = await res.json();
  if (!res.ok) return { status: res.status, headers: res.headers, error: provider.parseError(res.status, body) };
  return { status: res.status, headers: res.headers, completion: provider.chat.parseResponse(body, request) };
}

async function stream(provider: ProviderAdapter, request: ChatCompletionRequest, target: UpstreamTarget): Promise<ChatCompletionChunk[]> {
  const res = await send(provider.chat.buildRequest({ ...request, stream: true }, target));
  expect(res.status).toBe(200);
  const translator = provider.chat.createStreamTranslator(request);
  const chunks: ChatCompletionChunk[] = [];
  const reader = createSseReader((event) => chunks.push(...translator.push(event)));
  const decoder = new TextDecoder();
  for await (const bytes of res.body!) reader.feed(decoder.decode(bytes as Uint8Array, { stream: true }));
  chunks.push(...translator.end());
  return chunks;
}

const hello: ChatCompletionRequest = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] };

describe('OpenAI-compatible round trips through the mock upstream', () => {
  let upstream: MockUpstream;
  let openai: UpstreamTarget;
  beforeAll(async () => {
    upstream = await startOpenAIUpstream();
    openai = { baseUrl: `${upstream.baseUrl}/v1`, apiKey: 'sk-test' };
  });
  afterAll(() => upstream.close());

  it('non-streaming text with usage details', async () => {
    upstream.enqueue({ type: 'text', text: 'Hello there', usage: { input: 12, output: 3, cached: 4, reasoning: 1 } });
    const out = await complete(adapter('openai'), { ...hello, max_tokens: 50 }, openai);
    expect(out.completion).toMatchObject({
      object: 'chat.completion',
      choices: [{ message: { role: 'assistant', content: 'Hello there' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 1 } },
    });
    const seen = upstream.requests.at(-1)!;
    expect(seen.headers.authorization).toBe('Bearer sk-test');
    expect(seen.body).toEqual({ model: 'gpt-4o-mini', messages: hello.messages, max_completion_tokens: 50 });
  });

  it('streamed text: usage requested upstream even though the caller did not ask, delivered last', async () => {
    upstream.enqueue({ type: 'text', text: 'Streaming works fine', usage: { input: 7, output: 4 } });
    const chunks = await stream(adapter('openai'), hello, openai);
    expect(upstream.requests.at(-1)!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Streaming works fine');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 4, total_tokens: 11 } });
    expect(chunks.filter((c) => c.usage)).toHaveLength(1);
  });

  it('streamed tool calls reassemble from fragments', async () => {
    const args = '{"city":"Zürich","days":[1,2,3],"note":"a \\"quoted\\" word"}';
    upstream.enqueue({ type: 'tool_calls', calls: [{ id: 'call_abc', name: 'forecast', arguments: args }, { name: 'now', arguments: '{}' }] });
    const chunks = await stream(adapter('openai'), hello, openai);
    const calls: Record<number, { id?: string; name: string; args: string }> = {};
    for (const call of chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])) {
      const entry = (calls[call.index] ??= { name: '', args: '' });
      if (call.id) entry.id = call.id;
      entry.name += call.function?.name ?? '';
      entry.args += call.function?.arguments ?? '';
    }
    expect(Object.values(calls)).toEqual([
      { id: 'call_abc', name: 'forecast', args },
      { id: 'call_mock1', name: 'now', args: '{}' },
    ]);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('finish length', async () => {
    upstream.enqueue({ type: 'text', text: 'cut', finish: 'length' });
    expect((await complete(adapter('openai'), hello, openai)).completion?.choices[0]?.finish_reason).toBe('length');
  });

  it('in-stream error → UpstreamStreamError', async () => {
    upstream.enqueue({ type: 'error_mid_stream', text: 'partial answer', message: 'boom' });
    await expect(stream(adapter('openai'), hello, openai)).rejects.toThrow(expect.objectContaining({ name: 'UpstreamStreamError', message: 'boom', type: 'server_error' }));
    expect(UpstreamStreamError).toBeDefined();
  });

  it('429 keeps retry-after and OpenAI’s error envelope', async () => {
    upstream.enqueue({ type: 'error', status: 429 });
    const out = await complete(adapter('openai'), hello, openai);
    expect(out.status).toBe(429);
    expect(out.headers.get('retry-after')).toBe('1');
    expect(out.error).toMatchObject({ type: 'requests' });
  });

  it.each([
    ['missing key', '', /didn't provide an API key/],
    ['wrong key', INVALID_OPENAI_MOCK_KEY, /Incorrect API key provided/],
  ])('%s → 401 with OpenAI’s body', async (_name, apiKey, message) => {
    const out = await complete(adapter('openai'), hello, { ...openai, apiKey });
    expect(out.status).toBe(401);
    expect(out.error?.message).toMatch(message);
  });

  it('azure deployment URL with api-key header and api-version', async () => {
    upstream.enqueue({ type: 'text', text: 'from azure' });
    const out = await complete(adapter('azure'), { ...hello, model: 'my-deployment' }, { baseUrl: upstream.baseUrl, apiKey: 'az', options: { apiVersion: '2024-10-21' } });
    expect(out.completion?.choices[0]?.message.content).toBe('from azure');
    const seen = upstream.requests.at(-1)!;
    expect(seen.path).toBe('/openai/deployments/my-deployment/chat/completions?api-version=2024-10-21');
    expect(seen.headers['api-key']).toBe('az');
  });

  it('azure v1 endpoint', async () => {
    upstream.enqueue({ type: 'text', text: 'v1' });
    const out = await complete(adapter('azure'), hello, { baseUrl: `${upstream.baseUrl}/openai/v1`, apiKey: 'az' });
    expect(out.completion?.choices[0]?.message.content).toBe('v1');
    expect(upstream.requests.at(-1)!.path).toBe('/openai/v1/chat/completions');
  });

  it('embeddings and models', async () => {
    const provider = adapter('openai');
    const embedRequest = { model: 'text-embedding-3-small', input: ['a', 'bb'], dimensions: 4 };
    const res = await send(provider.embeddings!.buildRequest(embedRequest, openai));
    const embeddings = provider.embeddings!.parseResponse(await res.json(), embedRequest);
    expect(embeddings.data.map((d) => [d.index, (d.embedding as number[]).length])).toEqual([
      [0, 4],
      [1, 4],
    ]);
    expect(embeddings.usage.prompt_tokens).toBeGreaterThan(0);
    const models = provider.models!.parseResponse(await (await send(provider.models!.buildRequest(openai))).json());
    expect(models).toContain('gpt-4o-mini');
  });

  it('a keyless local preset (vllm) talks to the same wire', async () => {
    upstream.enqueue({ type: 'text', text: 'local' });
    const out = await complete(adapter('vllm'), hello, { baseUrl: `${upstream.baseUrl}/v1`, apiKey: 'token' });
    expect(out.completion?.choices[0]?.message.content).toBe('local');
  });
});
