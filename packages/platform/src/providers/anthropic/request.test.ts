import { describe, expect, it } from 'vitest';
import type { ChatCompletionRequest } from '../openai-chat.js';
import { UnsupportedParameterError } from '../provider-adapter.js';
import { DEFAULT_MAX_TOKENS } from './api.js';
import { anthropicAdapter } from './index.js';
import { toAnthropicRequest } from './request.js';

const model = 'claude-sonnet-4-5-20250929';
const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Get the current weather in a given location',
    parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
  },
};

describe('canonical request → Anthropic Messages request', () => {
  const cases: Array<{ name: string; request: ChatCompletionRequest; expected: Record<string, unknown> }> = [
    {
      name: 'a plain user turn gets the default max_tokens',
      request: { model, messages: [{ role: 'user', content: 'Hello, Claude' }] },
      expected: { model, max_tokens: DEFAULT_MAX_TOKENS, messages: [{ role: 'user', content: 'Hello, Claude' }] },
    },
    {
      name: 'system and developer messages become the top-level system, in order',
      request: {
        model,
        max_tokens: 1024,
        messages: [
          { role: 'system', content: 'You are a pirate.' },
          { role: 'user', content: 'Hi' },
          { role: 'developer', content: [{ type: 'text', text: 'Answer in one line.' }] },
        ],
      },
      expected: {
        model,
        max_tokens: 1024,
        system: [
          { type: 'text', text: 'You are a pirate.' },
          { type: 'text', text: 'Answer in one line.' },
        ],
        messages: [{ role: 'user', content: 'Hi' }],
      },
    },
    {
      name: 'one system message stays a string; max_completion_tokens wins over max_tokens',
      request: { model, max_tokens: 10, max_completion_tokens: 20, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'system', content: '' }, { role: 'user', content: 'Hi' }] },
      expected: { model, max_tokens: 20, system: 'Be brief.', messages: [{ role: 'user', content: 'Hi' }] },
    },
    {
      name: 'data: URLs become base64 sources and https URLs url sources',
      request: {
        model,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in these images?' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              { type: 'image_url', image_url: { url: 'https://upload.wikimedia.org/ant.jpg', detail: 'high' } },
            ],
          },
        ],
      },
      expected: {
        model,
        max_tokens: DEFAULT_MAX_TOKENS,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in these images?' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
              { type: 'image', source: { type: 'url', url: 'https://upload.wikimedia.org/ant.jpg' } },
            ],
          },
        ],
      },
    },
    {
      name: 'a tool round trip: tool_calls → tool_use, consecutive tool results merge into one user turn with the next user text',
      request: {
        model,
        messages: [
          { role: 'user', content: 'Weather in SF and NYC?' },
          {
            role: 'assistant',
            content: '',
            tool_calls: [
              { id: 'toolu_01A', type: 'function', function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA"}' } },
              { id: 'toolu_01B', type: 'function', function: { name: 'get_weather', arguments: '{"location":"New York, NY"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'toolu_01A', content: '15 degrees' },
          { role: 'tool', tool_call_id: 'toolu_01B', content: [{ type: 'text', text: '22 degrees' }] },
          { role: 'user', content: 'Which is warmer?' },
        ],
        tools: [weatherTool],
      },
      expected: {
        model,
        max_tokens: DEFAULT_MAX_TOKENS,
        messages: [
          { role: 'user', content: 'Weather in SF and NYC?' },
          {
            role: 'assistant',
            content: [
              { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { location: 'San Francisco, CA' } },
              { type: 'tool_use', id: 'toolu_01B', name: 'get_weather', input: { location: 'New York, NY' } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'toolu_01A', content: '15 degrees' },
              { type: 'tool_result', tool_use_id: 'toolu_01B', content: [{ type: 'text', text: '22 degrees' }] },
              { type: 'text', text: 'Which is warmer?' },
            ],
          },
        ],
        tools: [
          {
            name: 'get_weather',
            description: 'Get the current weather in a given location',
            input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
          },
        ],
      },
    },
    {
      name: 'consecutive user messages merge; assistant refusal is replayed as text',
      request: {
        model,
        messages: [
          { role: 'user', content: 'one' },
          { role: 'user', content: 'two' },
          { role: 'assistant', content: null, refusal: 'I cannot help with that.' },
        ],
      },
      expected: {
        model,
        max_tokens: DEFAULT_MAX_TOKENS,
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }] },
          { role: 'assistant', content: 'I cannot help with that.' },
        ],
      },
    },
    {
      name: 'sampling, stop, user and stream',
      request: { model, messages: [{ role: 'user', content: 'Hi' }], temperature: 0.2, top_p: 0.9, stop: 'END', user: 'user-42', stream: true, stream_options: { include_usage: true } },
      expected: {
        model,
        max_tokens: DEFAULT_MAX_TOKENS,
        messages: [{ role: 'user', content: 'Hi' }],
        temperature: 0.2,
        top_p: 0.9,
        stop_sequences: ['END'],
        metadata: { user_id: 'user-42' },
        stream: true,
      },
    },
    {
      name: 'temperature 1 is the top of Anthropic’s range and passes',
      request: { model, messages: [{ role: 'user', content: 'Hi' }], temperature: 1, stop: ['a', 'b'], n: 1, seed: null, presence_penalty: 0 },
      expected: { model, max_tokens: DEFAULT_MAX_TOKENS, messages: [{ role: 'user', content: 'Hi' }], temperature: 1, stop_sequences: ['a', 'b'] },
    },
  ];
  for (const { name, request, expected } of cases) {
    it(name, () => expect(toAnthropicRequest(request)).toEqual(expected));
  }
});

describe('tool_choice and parallel_tool_calls', () => {
  const base = { model, messages: [{ role: 'user' as const, content: 'Hi' }], tools: [weatherTool] };
  const cases: Array<[string, Partial<ChatCompletionRequest>, unknown]> = [
    ['auto', { tool_choice: 'auto' }, { type: 'auto' }],
    ['none', { tool_choice: 'none' }, { type: 'none' }],
    ['required → any', { tool_choice: 'required' }, { type: 'any' }],
    ['function → tool', { tool_choice: { type: 'function', function: { name: 'get_weather' } } }, { type: 'tool', name: 'get_weather' }],
    ['parallel_tool_calls false alone', { parallel_tool_calls: false }, { type: 'auto', disable_parallel_tool_use: true }],
    ['required + parallel false', { tool_choice: 'required', parallel_tool_calls: false }, { type: 'any', disable_parallel_tool_use: true }],
    ['absent', {}, undefined],
  ];
  for (const [name, extra, expected] of cases) {
    it(name, () => expect(toAnthropicRequest({ ...base, ...extra }).tool_choice).toEqual(expected));
  }
  it('strict function tools stay strict', () => {
    const tool = { type: 'function' as const, function: { ...weatherTool.function, strict: true } };
    expect(toAnthropicRequest({ ...base, tools: [tool] }).tools?.[0]?.strict).toBe(true);
  });
});

describe('response_format and reasoning_effort', () => {
  const base = { model, messages: [{ role: 'user' as const, content: 'Extract the contact.' }] };
  const schema = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'], additionalProperties: false };
  it('json_schema uses native structured outputs', () => {
    const body = toAnthropicRequest({ ...base, response_format: { type: 'json_schema', json_schema: { name: 'contact', schema, strict: true } } });
    expect(body.output_config).toEqual({ format: { type: 'json_schema', schema } });
    expect(body.tools).toBeUndefined();
  });
  it('json_object is a forced json_response tool', () => {
    const body = toAnthropicRequest({ ...base, response_format: { type: 'json_object' } });
    expect(body.tools).toEqual([{ name: 'json_response', description: 'Respond with a JSON object.', input_schema: { type: 'object' } }]);
    expect(body.tool_choice).toEqual({ type: 'tool', name: 'json_response' });
  });
  it('text is the default and adds nothing', () => {
    expect(toAnthropicRequest({ ...base, response_format: { type: 'text' } })).not.toHaveProperty('output_config');
  });
  const efforts: Array<[ChatCompletionRequest['reasoning_effort'], string]> = [
    ['minimal', 'low'],
    ['low', 'low'],
    ['medium', 'medium'],
    ['high', 'high'],
  ];
  for (const [effort, expected] of efforts) {
    it(`reasoning_effort ${effort} → output_config.effort ${expected}`, () => {
      expect(toAnthropicRequest({ ...base, reasoning_effort: effort }).output_config).toEqual({ effort: expected });
    });
  }
});

describe('fields Anthropic cannot honour are refused by name', () => {
  const base = { model, messages: [{ role: 'user' as const, content: 'Hi' }] };
  const cases: Array<[string, Record<string, unknown>]> = [
    ['n', { n: 2 }],
    ['logprobs', { logprobs: true }],
    ['top_logprobs', { top_logprobs: 3 }],
    ['logit_bias', { logit_bias: { '50256': -100 } }],
    ['presence_penalty', { presence_penalty: 0.5 }],
    ['frequency_penalty', { frequency_penalty: -0.5 }],
    ['seed', { seed: 42 }],
    ['temperature', { temperature: 1.5 }],
    ['store', { store: true }],
    ['audio', { audio: { voice: 'alloy', format: 'mp3' } }],
    ['modalities', { modalities: ['text', 'audio'] }],
    ['prediction', { prediction: { type: 'content', content: 'x' } }],
    ['web_search_options', { web_search_options: {} }],
    ['functions', { functions: [{ name: 'f' }] }],
    ['function_call', { function_call: 'auto' }],
    ['response_format', { response_format: { type: 'json_object' }, tools: [weatherTool] }],
    ['response_format.json_schema.schema', { response_format: { type: 'json_schema', json_schema: { name: 'x' } } }],
    [
      'messages[1].tool_calls[0].function.arguments',
      { messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{"a":' } }] }] },
    ],
    [
      'messages[0].tool_calls[0].function.arguments',
      { messages: [{ role: 'assistant', tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '[1,2]' } }] }] },
    ],
    ['messages[0].content[0].image_url.url', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }] }] }],
  ];
  for (const [param, extra] of cases) {
    it(param, () => {
      const request = { ...base, ...extra } as unknown as ChatCompletionRequest;
      let thrown: unknown;
      try {
        toAnthropicRequest(request);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(UnsupportedParameterError);
      expect((thrown as UnsupportedParameterError).param).toBe(param);
      expect((thrown as Error).message).toContain(param);
    });
  }
  it('temperature above 1 is refused, never clamped', () => {
    expect(() => toAnthropicRequest({ ...base, temperature: 2 })).toThrow(/0 to 1; got 2/);
  });
});

describe('the upstream HTTP request', () => {
  it('posts to /v1/messages with the key, version and content type', () => {
    const upstream = anthropicAdapter.chat.buildRequest({ model, messages: [{ role: 'user', content: 'Hi' }] }, { baseUrl: 'https://api.anthropic.com', apiKey: 'sk-ant-test' });
    expect(upstream).toMatchObject({
      method: 'POST',
      url: 'https://api.anthropic.com/v1/messages',
      headers: { 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    });
    expect(anthropicAdapter.defaultBaseUrl).toBe('https://api.anthropic.com');
  });
});
