import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk, ChatCompletionRequest } from '../openai-chat.js';
import { UpstreamStreamError } from '../provider-adapter.js';
import { createSseReader } from '../sse.js';
import { createGeminiStreamTranslator } from './stream.js';

const fixture = (name: string) => readFileSync(new URL(`../../../test/fixtures/gemini/${name}`, import.meta.url), 'utf8');
const request: ChatCompletionRequest = { model: 'gemini-2.0-flash', messages: [{ role: 'user', content: 'Hi' }], stream: true };

function replay(sse: string, slice = 41): ChatCompletionChunk[] {
  const translator = createGeminiStreamTranslator(request);
  const chunks: ChatCompletionChunk[] = [];
  const reader = createSseReader((event) => chunks.push(...translator.push(event)));
  for (let i = 0; i < sse.length; i += slice) reader.feed(sse.slice(i, i + slice));
  chunks.push(...translator.end());
  return chunks;
}

describe('Gemini SSE stream → canonical chunks', () => {
  it('text deltas, role first, finish on the last, then one usage chunk', () => {
    const chunks = replay(fixture('stream-text.sse'));
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? null)).toEqual(['The', ' sky is blue because of Rayleigh', ' scattering.', null, null]);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks[1]?.choices[0]?.delta.role).toBeUndefined();
    expect(chunks.at(-2)?.choices[0]).toEqual({ index: 0, delta: {}, finish_reason: 'stop' });
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 8, completion_tokens: 9, total_tokens: 17 } });
    for (const chunk of chunks) expect(chunk).toMatchObject({ id: 'chatcmpl-uL6raNWuE9ud1dkPlYGjsA0', object: 'chat.completion.chunk', model: 'gemini-2.0-flash' });
  });

  it('whole function calls → one delta per call with its index, arguments intact, finish tool_calls', () => {
    const chunks = replay(fixture('stream-function-calls.sse'), 13);
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls).toEqual([
      { index: 0, id: expect.stringMatching(/^call_0_/), type: 'function', function: { name: 'get_current_temperature', arguments: '{"location":"Paris"}' } },
      { index: 1, id: expect.stringMatching(/^call_1_/), type: 'function', function: { name: 'get_current_temperature', arguments: '{"location":"London, \\"UK\\""}' } },
    ]);
    expect(JSON.parse(calls[1]!.function!.arguments!)).toEqual({ location: 'London, "UK"' });
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: 'Checking both cities.' });
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('tool_calls');
    expect(chunks.at(-1)?.usage).toEqual({ prompt_tokens: 70, completion_tokens: 32, total_tokens: 102 });
  });

  it('MAX_TOKENS and SAFETY finish reasons', () => {
    const event = (reason: string) => `data: {"candidates":[{"content":{"parts":[{"text":"x"}],"role":"model"},"finishReason":"${reason}","index":0}]}\r\n\r\n`;
    expect(replay(event('MAX_TOKENS')).at(-1)?.choices[0]?.finish_reason).toBe('length');
    expect(replay(event('SAFETY')).at(-1)?.choices[0]?.finish_reason).toBe('content_filter');
  });

  it('a final event with empty text carries the finish reason itself', () => {
    const chunks = replay('data: {"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"index":0}]}\r\n\r\ndata: {"candidates":[{"content":{"parts":[{"text":""}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1,"totalTokenCount":4}}\r\n\r\n');
    expect(chunks.map((c) => [c.choices[0]?.delta.content, c.choices[0]?.finish_reason])).toEqual([
      ['Hi', null],
      ['', 'stop'],
      [undefined, undefined],
    ]);
  });

  it('thinking stream: thoughts counted into completion tokens of the usage chunk', () => {
    const chunks = replay('data: {"candidates":[{"content":{"parts":[{"text":"42"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":2,"thoughtsTokenCount":50,"totalTokenCount":62}}\r\n\r\n');
    expect(chunks.at(-1)?.usage).toEqual({ prompt_tokens: 10, completion_tokens: 52, total_tokens: 62, completion_tokens_details: { reasoning_tokens: 50 } });
  });

  it('an error event mid-stream → UpstreamStreamError with the Google status', () => {
    const sse = fixture('stream-text.sse').split('\r\n\r\n')[0] + '\r\n\r\ndata: {"error": {"code": 500,"message": "An internal error has occurred.","status": "INTERNAL"}}\r\n\r\n';
    expect(() => replay(sse)).toThrow(expect.objectContaining({ name: 'UpstreamStreamError', message: 'An internal error has occurred.', type: 'INTERNAL' }));
    expect(() => replay(sse)).toThrow(UpstreamStreamError);
  });
});
