import { describe, expect, it } from 'vitest';
import type { ChatCompletion, ChatCompletionRequest } from '../openai-chat.js';
import { fromAnthropicResponse } from './response.js';

const request: ChatCompletionRequest = { model: 'claude-sonnet-4-5-20250929', messages: [{ role: 'user', content: 'Hi' }] };

// Bodies shaped as in Anthropic's Messages API reference and tool-use guide.
const textMessage = {
  id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5-20250929',
  content: [{ type: 'text', text: 'Hi! My name is Claude.' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 2095, output_tokens: 503 },
};

describe('Anthropic Message → canonical ChatCompletion', () => {
  it('a text answer', () => {
    const completion = fromAnthropicResponse(textMessage, request);
    expect(completion).toEqual({
      id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
      object: 'chat.completion',
      created: expect.any(Number),
      model: 'claude-sonnet-4-5-20250929',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi! My name is Claude.', refusal: null }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: 2095, completion_tokens: 503, total_tokens: 2598, prompt_tokens_details: { cached_tokens: 0 } },
    } satisfies ChatCompletion);
  });

  it('text then tool_use blocks: content plus tool_calls with JSON arguments', () => {
    const completion = fromAnthropicResponse(
      {
        ...textMessage,
        content: [
          { type: 'text', text: "I'll check the weather." },
          { type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', input: { location: 'San Francisco, CA', unit: 'celsius' } },
        ],
        stop_reason: 'tool_use',
      },
      request,
    );
    expect(completion.choices[0]).toEqual({
      index: 0,
      message: {
        role: 'assistant',
        content: "I'll check the weather.",
        refusal: null,
        tool_calls: [
          { id: 'toolu_01A09q90qw90lq917835lq9', type: 'function', function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}' } },
        ],
      },
      finish_reason: 'tool_calls',
      logprobs: null,
    });
  });

  it('tool_use only: content is null', () => {
    const completion = fromAnthropicResponse(
      { ...textMessage, content: [{ type: 'tool_use', id: 'toolu_1', name: 'f', input: {} }], stop_reason: 'tool_use' },
      request,
    );
    expect(completion.choices[0]?.message.content).toBeNull();
    expect(completion.choices[0]?.message.tool_calls?.[0]?.function.arguments).toBe('{}');
  });

  it('thinking blocks are skipped; thinking tokens become reasoning_tokens', () => {
    const completion = fromAnthropicResponse(
      {
        ...textMessage,
        content: [
          { type: 'thinking', thinking: 'Let me analyze this step by step...', signature: 'WaUjzkypQ2mUEVM36O2T...' },
          { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4a...' },
          { type: 'text', text: 'Based on my analysis...' },
        ],
        usage: { input_tokens: 10, output_tokens: 100, output_tokens_details: { thinking_tokens: 60 } },
      },
      request,
    );
    expect(completion.choices[0]?.message.content).toBe('Based on my analysis...');
    expect(completion.usage?.completion_tokens_details).toEqual({ reasoning_tokens: 60 });
  });

  it('usage counts cache reads and writes as prompt tokens, cache reads as cached, cache writes named apart', () => {
    const completion = fromAnthropicResponse(
      { ...textMessage, usage: { input_tokens: 21, cache_creation_input_tokens: 188086, cache_read_input_tokens: 0, output_tokens: 393 } },
      request,
    );
    expect(completion.usage).toEqual({ prompt_tokens: 188107, completion_tokens: 393, total_tokens: 188500, prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 188086 } });
    const cached = fromAnthropicResponse(
      { ...textMessage, usage: { input_tokens: 21, cache_creation_input_tokens: 0, cache_read_input_tokens: 188086, output_tokens: 393 } },
      request,
    );
    expect(cached.usage).toEqual({ prompt_tokens: 188107, completion_tokens: 393, total_tokens: 188500, prompt_tokens_details: { cached_tokens: 188086 } });
  });

  const finishes: Array<[string, string]> = [
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['pause_turn', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
  ];
  for (const [stop, finish] of finishes) {
    it(`stop_reason ${stop} → finish_reason ${finish}`, () => {
      expect(fromAnthropicResponse({ ...textMessage, stop_reason: stop }, request).choices[0]?.finish_reason).toBe(finish);
    });
  }

  it('the forced json_response tool of json_object comes back as JSON text with finish stop', () => {
    const completion = fromAnthropicResponse(
      {
        ...textMessage,
        content: [{ type: 'tool_use', id: 'toolu_1', name: 'json_response', input: { name: 'Jane Doe', plan: 'Enterprise' } }],
        stop_reason: 'tool_use',
      },
      { ...request, response_format: { type: 'json_object' } },
    );
    expect(completion.choices[0]).toMatchObject({
      message: { role: 'assistant', content: '{"name":"Jane Doe","plan":"Enterprise"}' },
      finish_reason: 'stop',
    });
    expect(completion.choices[0]?.message.tool_calls).toBeUndefined();
  });
});
