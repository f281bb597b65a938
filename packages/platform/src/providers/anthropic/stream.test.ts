import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk, ChatCompletionRequest } from '../openai-chat.js';
import { UpstreamStreamError, type SseEvent } from '../provider-adapter.js';
import { createSseReader } from '../sse.js';
import { createAnthropicStreamTranslator } from './stream.js';

const request: ChatCompletionRequest = { model: 'claude-sonnet-4-5-20250929', messages: [{ role: 'user', content: 'Hi' }], stream: true };

function fixture(name: string): string {
  return readFileSync(new URL(`../../../test/fixtures/anthropic/${name}`, import.meta.url), 'utf8');
}

/** Feeds the recorded SSE text in small uneven slices, as a network would. */
function translate(sse: string, req: ChatCompletionRequest = request): ChatCompletionChunk[] {
  const events: SseEvent[] = [];
  const reader = createSseReader((event) => events.push(event));
  for (let i = 0; i < sse.length; i += 7) reader.feed(sse.slice(i, i + 7));
  const translator = createAnthropicStreamTranslator(req);
  const chunks = events.flatMap((event) => translator.push(event));
  return [...chunks, ...translator.end()];
}

function contentOf(chunks: ChatCompletionChunk[]): string {
  return chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
}

describe('Anthropic SSE → canonical chunks', () => {
  it('a text stream: role first, text deltas, finish, then one usage chunk with cache tokens', () => {
    const chunks = translate(fixture('stream-text.sse'));
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.every((chunk) => chunk.id === 'msg_01QC4g3HwBThD4BaNtBckFDJ' && chunk.object === 'chat.completion.chunk')).toBe(true);
    expect(contentOf(chunks)).toBe('Hello! How can I help?');
    const finish = chunks.filter((chunk) => chunk.choices[0]?.finish_reason);
    expect(finish.map((chunk) => chunk.choices[0]?.finish_reason)).toEqual(['stop']);
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toEqual({ prompt_tokens: 2052, completion_tokens: 15, total_tokens: 2067, prompt_tokens_details: { cached_tokens: 2000, cache_write_tokens: 40 } });
    expect(chunks.filter((chunk) => chunk.usage).length).toBe(1);
  });

  it('tool_use blocks: each gets its own tool-call index, id and name first, arguments reassemble intact', () => {
    const chunks = translate(fixture('stream-tool-use.sse'));
    expect(contentOf(chunks)).toBe("Okay, let's check the weather in both cities.");
    const deltas = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(deltas.filter((delta) => delta.id)).toEqual([
      { index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'get_weather', arguments: '' } },
      { index: 1, id: 'toolu_01NwWxUDN1tq4rmT7cSRYJ4o', type: 'function', function: { name: 'get_weather', arguments: '' } },
    ]);
    const args = (index: number) => deltas.filter((delta) => delta.index === index).map((delta) => delta.function?.arguments ?? '').join('');
    expect(JSON.parse(args(0))).toEqual({ location: 'San Francisco, CA', unit: 'fahrenheit' });
    expect(JSON.parse(args(1))).toEqual({ location: 'New York, NY', unit: 'é ☃ é' });
    expect(chunks.find((chunk) => chunk.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('tool_calls');
    expect(chunks.at(-1)?.usage).toEqual({ prompt_tokens: 472, completion_tokens: 89, total_tokens: 561, prompt_tokens_details: { cached_tokens: 0 } });
  });

  it('thinking and signature deltas are skipped; max_tokens → length; thinking tokens → reasoning_tokens', () => {
    const chunks = translate(fixture('stream-thinking.sse'));
    expect(contentOf(chunks)).toBe('27 * 453 = 12,231');
    expect(chunks.find((chunk) => chunk.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('length');
    expect(chunks.at(-1)?.usage?.completion_tokens_details).toEqual({ reasoning_tokens: 80 });
  });

  it('an in-stream error event throws UpstreamStreamError with its type', () => {
    const translator = createAnthropicStreamTranslator(request);
    const events: SseEvent[] = [];
    createSseReader((event) => events.push(event)).feed(fixture('stream-error.sse'));
    const seen: ChatCompletionChunk[] = [];
    let thrown: unknown;
    try {
      for (const event of events) seen.push(...translator.push(event));
    } catch (error) {
      thrown = error;
    }
    expect(contentOf(seen)).toBe('Partial');
    expect(thrown).toBeInstanceOf(UpstreamStreamError);
    expect(thrown).toMatchObject({ message: 'Overloaded', type: 'overloaded_error' });
  });

  it('a stream cut before message_stop still yields a usage chunk from end()', () => {
    const sse = fixture('stream-error.sse').split('event: error')[0] ?? '';
    const chunks = translate(sse);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 10, completion_tokens: 1 } });
  });

  it('json_object: the forced json_response tool streams as content and finishes with stop', () => {
    const sse = fixture('stream-tool-use.sse')
      .replaceAll('"name":"get_weather"', '"name":"json_response"')
      .split('event: content_block_start\ndata: {"type":"content_block_start","index":2')[0]!
      .concat(
        'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":20}}\n\n',
        'event: message_stop\ndata: {"type":"message_stop"}\n\n',
      );
    const chunks = translate(sse, { ...request, response_format: { type: 'json_object' } });
    const content = contentOf(chunks);
    expect(content.startsWith("Okay, let's check the weather in both cities.")).toBe(true);
    expect(JSON.parse(content.slice("Okay, let's check the weather in both cities.".length))).toEqual({ location: 'San Francisco, CA', unit: 'fahrenheit' });
    expect(chunks.some((chunk) => chunk.choices[0]?.delta.tool_calls)).toBe(false);
    expect(chunks.find((chunk) => chunk.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('every stop_reason maps to its finish_reason', () => {
    const table: Array<[string, string]> = [
      ['end_turn', 'stop'],
      ['stop_sequence', 'stop'],
      ['max_tokens', 'length'],
      ['tool_use', 'tool_calls'],
      ['refusal', 'content_filter'],
    ];
    for (const [stop, finish] of table) {
      const sse = fixture('stream-text.sse').replace('"stop_reason":"end_turn"', `"stop_reason":"${stop}"`);
      expect(translate(sse).find((chunk) => chunk.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe(finish);
    }
  });

  it('is translated event by event: a text delta yields its chunk immediately', () => {
    const translator = createAnthropicStreamTranslator(request);
    translator.push({ event: 'message_start', data: '{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}}' });
    translator.push({ event: 'content_block_start', data: '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}' });
    expect(translator.push({ event: 'ping', data: '{"type": "ping"}' })).toEqual([]);
    const out = translator.push({ event: 'content_block_delta', data: '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}' });
    expect(out.map((chunk) => chunk.choices[0]?.delta.content)).toEqual(['Hi']);
  });
});
