import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk } from '../../../providers/openai-chat.js';
import { createSseReader } from '../../../providers/sse.js';
import { createAnthropicStreamEncoder, encodeAnthropicStreamError } from './stream.js';

const base = { id: 'chatcmpl-123', object: 'chat.completion.chunk' as const, created: 1694268190, model: 'gpt-4o-mini' };
const delta = (d: ChatCompletionChunk['choices'][number]['delta'], finish: ChatCompletionChunk['choices'][number]['finish_reason'] = null): ChatCompletionChunk => ({
  ...base,
  choices: [{ index: 0, delta: d, finish_reason: finish, logprobs: null }],
});
const usageChunk: ChatCompletionChunk = {
  ...base,
  choices: [],
  usage: { prompt_tokens: 120, completion_tokens: 30, total_tokens: 150, prompt_tokens_details: { cached_tokens: 100 } },
};

// OpenAI's streamed tool-call shape: id and name first, arguments in fragments, two parallel calls.
const toolStream: ChatCompletionChunk[] = [
  delta({ role: 'assistant', content: '' }),
  delta({ content: 'Let me ' }),
  delta({ content: 'check.' }),
  delta({ tool_calls: [{ index: 0, id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
  delta({ tool_calls: [{ index: 0, function: { arguments: '{"lo' } }] }),
  delta({ tool_calls: [{ index: 0, function: { arguments: 'cation": "Paris, ' } }] }),
  delta({ tool_calls: [{ index: 0, function: { arguments: 'France"}' } }] }),
  delta({ tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{"tz":' } }] }),
  delta({ tool_calls: [{ index: 1, function: { arguments: ' "Europe/Paris"}' } }] }),
  delta({}, 'tool_calls'),
  usageChunk,
];

function encode(chunks: ChatCompletionChunk[]): string {
  const encoder = createAnthropicStreamEncoder({ model: 'openai:gpt-4o-mini' });
  return chunks.map((chunk) => encoder.push(chunk)).join('') + encoder.end();
}

function events(sse: string): Array<{ event?: string; data: Record<string, unknown> }> {
  const out: Array<{ event?: string; data: Record<string, unknown> }> = [];
  createSseReader((event) => out.push({ event: event.event, data: JSON.parse(event.data) as Record<string, unknown> })).feed(sse);
  return out;
}

/** The official SDK accumulates our SSE into a Message exactly as it would from api.anthropic.com. */
async function sdkFinalMessage(sse: string) {
  const client = new Anthropic({
    apiKey: 'kw-token',
    baseURL: 'http://keyward.invalid',
    maxRetries: 0,
    fetch: async () => new Response(sse, { status: 200, headers: { 'content-type': 'text/event-stream' } }),
  });
  return client.messages.stream({ model: 'openai:gpt-4o-mini', max_tokens: 100, messages: [{ role: 'user', content: 'Weather?' }] }).finalMessage();
}

describe('canonical chunks → Anthropic SSE', () => {
  it('event names match the type in data, and the order is the documented one', () => {
    const out = events(encode(toolStream));
    expect(out.every((e) => e.event === e.data.type)).toBe(true);
    expect(out.map((e) => e.event)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(out[2]?.data).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    expect(out[6]?.data).toEqual({
      type: 'content_block_start',
      index: 1,
      content_block: { type: 'tool_use', id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', name: 'get_weather', input: {} },
    });
    expect(out[7]?.data).toEqual({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"lo' } });
    expect(out.at(-2)?.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { input_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 100, output_tokens: 30 },
    });
  });

  it('the official SDK reassembles text and both tool calls intact, with usage', async () => {
    const message = await sdkFinalMessage(encode(toolStream));
    expect(message.model).toBe('openai:gpt-4o-mini');
    expect(message.id).toBe('msg_chatcmpl-123');
    expect(message.content).toEqual([
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_use', id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', name: 'get_weather', input: { location: 'Paris, France' } },
      { type: 'tool_use', id: 'call_2', name: 'get_time', input: { tz: 'Europe/Paris' } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage).toMatchObject({ input_tokens: 20, cache_read_input_tokens: 100, output_tokens: 30 });
  });

  const finishes: Array<[ChatCompletionChunk['choices'][number]['finish_reason'], string]> = [
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['tool_calls', 'tool_use'],
    ['content_filter', 'refusal'],
  ];
  for (const [finish, stop] of finishes) {
    it(`finish_reason ${finish} → stop_reason ${stop}`, async () => {
      const message = await sdkFinalMessage(encode([delta({ role: 'assistant', content: '' }), delta({ content: 'Hi' }), delta({}, finish), usageChunk]));
      expect(message.stop_reason).toBe(stop);
      expect(message.content).toEqual([{ type: 'text', text: 'Hi' }]);
    });
  }

  it('without a usage chunk, end() still closes the message', async () => {
    const sse = encode([delta({ content: 'Hello' }), delta({}, 'stop')]);
    expect(events(sse).map((e) => e.event).slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    const message = await sdkFinalMessage(sse);
    expect(message.usage.output_tokens).toBe(0);
  });

  it('message_delta waits for the usage chunk that follows the finish chunk', () => {
    const encoder = createAnthropicStreamEncoder({ model: 'm' });
    encoder.push(delta({ content: 'Hi' }));
    expect(encoder.push(delta({}, 'stop'))).not.toContain('message_delta');
    const closing = encoder.push(usageChunk);
    expect(closing).toContain('event: message_delta');
    expect(closing).toContain('event: message_stop');
    expect(encoder.end()).toBe('');
  });

  it('an empty upstream stream is still a well-formed message', async () => {
    const message = await sdkFinalMessage(encode([]));
    expect(message.content).toEqual([]);
    expect(message.stop_reason).toBe('end_turn');
  });

  it('encodes an in-stream error event the SDK raises', async () => {
    const encoder = createAnthropicStreamEncoder({ model: 'm' });
    const sse = encoder.push(delta({ content: 'Partial' })) + encodeAnthropicStreamError('overloaded_error', 'Overloaded');
    expect(sse.endsWith('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n')).toBe(true);
    await expect(sdkFinalMessage(sse)).rejects.toThrow(/Overloaded/);
  });
});
