import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk, ChatCompletionRequest } from '../openai-chat.js';
import { MalformedUpstreamResponse, UpstreamStreamError } from '../provider-adapter.js';
import { createSseReader } from '../sse.js';
import { createChatStreamTranslator } from './stream.js';

const fixture = (name: string) => readFileSync(new URL(`../../../test/fixtures/openai/${name}`, import.meta.url), 'utf8');
const request: ChatCompletionRequest = { model: 'requested', messages: [{ role: 'user', content: 'Hi' }], stream: true };

/** Feeds SSE text through the real reader in small slices, like network reads. */
function replay(sse: string, slice = 37): ChatCompletionChunk[] {
  const translator = createChatStreamTranslator(request);
  const chunks: ChatCompletionChunk[] = [];
  const reader = createSseReader((event) => chunks.push(...translator.push(event)));
  for (let i = 0; i < sse.length; i += slice) reader.feed(sse.slice(i, i + slice));
  chunks.push(...translator.end());
  return chunks;
}

function reassemble(chunks: ChatCompletionChunk[]) {
  const calls: Record<number, { id?: string; name: string; arguments: string }> = {};
  let text = '';
  for (const chunk of chunks) {
    for (const choice of chunk.choices) {
      text += choice.delta.content ?? '';
      for (const call of choice.delta.tool_calls ?? []) {
        const entry = (calls[call.index] ??= { name: '', arguments: '' });
        if (call.id) entry.id = call.id;
        entry.name += call.function?.name ?? '';
        entry.arguments += call.function?.arguments ?? '';
      }
    }
  }
  return { text, calls: Object.values(calls) };
}

describe('OpenAI stream → canonical chunks', () => {
  it('tool-call argument fragments reassemble intact; usage comes last with empty choices', () => {
    const chunks = replay(fixture('stream-tool-calls.sse'));
    expect(reassemble(chunks).calls).toEqual([{ id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', name: 'get_weather', arguments: '{"location":"Paris, France"}' }]);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('tool_calls');
    expect(chunks.at(-1)).toEqual({
      id: 'chatcmpl-BYQo9a',
      object: 'chat.completion.chunk',
      created: 1747851829,
      model: 'gpt-4o-mini-2024-07-18',
      choices: [],
      usage: { prompt_tokens: 82, completion_tokens: 17, total_tokens: 99, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
    });
    expect(chunks.filter((c) => c.usage)).toHaveLength(1);
    for (const chunk of chunks) expect(chunk).toMatchObject({ object: 'chat.completion.chunk', id: 'chatcmpl-BYQo9a' });
  });

  it('Azure: the prompt-filter chunk with no choices and no model is skipped', () => {
    const chunks = replay(fixture('stream-azure-text.sse'));
    expect(chunks[0]).toMatchObject({ id: 'chatcmpl-AzureX1', model: 'gpt-4o-mini-2024-07-18', choices: [{ delta: { role: 'assistant', content: '' } }] });
    expect(reassemble(chunks).text).toBe('Hello');
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 });
  });

  it('Mistral: usage on the last content chunk is split into its own final chunk', () => {
    const chunks = replay(fixture('stream-mistral-text.sse'));
    expect(reassemble(chunks).text).toBe('Bonjour!');
    const last = chunks.at(-1)!;
    const beforeLast = chunks.at(-2)!;
    expect(beforeLast.choices[0]?.finish_reason).toBe('stop');
    expect(beforeLast.usage).toBeUndefined();
    expect(last).toMatchObject({ choices: [], usage: { prompt_tokens: 8, completion_tokens: 3, total_tokens: 11 } });
  });

  it('a stream that ends without [DONE] still gets its usage chunk from end()', () => {
    const sse = fixture('stream-mistral-text.sse').replace('data: [DONE]\n\n', '');
    expect(replay(sse).at(-1)?.usage).toMatchObject({ total_tokens: 11 });
  });

  it('a stream without usage produces no usage chunk', () => {
    const chunks = replay('data: {"id":"a","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n');
    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.usage).toBeUndefined();
  });

  it('chunks missing object/created/id are filled, and keep one id across the stream', () => {
    const chunks = replay('data: {"choices":[{"delta":{"content":"a"}}]}\n\ndata: {"choices":[{"delta":{"content":"b"},"finish_reason":"length"}]}\n\n');
    expect(chunks).toHaveLength(2);
    expect(chunks[0]?.id).toBe(chunks[1]?.id);
    expect(chunks[0]).toMatchObject({ object: 'chat.completion.chunk', model: 'requested', choices: [{ index: 0, finish_reason: null }] });
    expect(chunks[1]?.choices[0]?.finish_reason).toBe('length');
  });

  it.each([
    ['OpenAI error envelope', 'data: {"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}\n\n', 'The server had an error while processing your request.', 'server_error'],
    ['string error (Ollama)', 'data: {"error":"model runner has unexpectedly stopped"}\n\n', 'model runner has unexpectedly stopped', undefined],
    ['SSE error event', 'event: error\ndata: {"error":{"message":"overloaded","type":"overloaded_error"}}\n\n', 'overloaded', 'overloaded_error'],
  ])('in-stream %s → UpstreamStreamError', (_name, sse, message, type) => {
    const before = 'data: {"id":"a","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"par"},"finish_reason":null}]}\n\n';
    let thrown: unknown;
    try {
      replay(before + sse);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UpstreamStreamError);
    expect((thrown as UpstreamStreamError).message).toBe(message);
    expect((thrown as UpstreamStreamError).type).toBe(type);
  });

  it('a data line that is not JSON is a malformed answer, not a crash', () => {
    expect(() => replay('data: {"choices": [\n\n')).toThrow(MalformedUpstreamResponse);
  });
});
