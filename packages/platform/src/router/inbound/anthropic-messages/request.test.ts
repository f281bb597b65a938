import { describe, expect, it } from 'vitest';
import type { AnthropicMessagesRequest } from '../../../providers/anthropic/wire.js';
import type { ChatCompletionRequest } from '../../../providers/openai-chat.js';
import { UnsupportedParameterError } from '../../../providers/provider-adapter.js';
import { anthropicToChatRequest } from './request.js';

const model = 'openai:gpt-4o';

describe('Anthropic Messages request → canonical request', () => {
  const cases: Array<{ name: string; body: Record<string, unknown>; expected: ChatCompletionRequest }> = [
    {
      name: 'the README example: model kept exactly as sent',
      body: { model, max_tokens: 1024, messages: [{ role: 'user', content: 'Hello, Claude' }] },
      expected: { model, max_tokens: 1024, messages: [{ role: 'user', content: 'Hello, Claude' }] },
    },
    {
      name: 'system string, sampling, stop_sequences, metadata.user_id, stream with usage',
      body: {
        model,
        max_tokens: 256,
        system: 'You are a helpful assistant.',
        messages: [{ role: 'user', content: 'Hi' }],
        temperature: 0.5,
        top_p: 0.9,
        stop_sequences: ['\n\nHuman:'],
        metadata: { user_id: '13803d75-b4b5-4c3e-b2a2-6f21399b021b' },
        stream: true,
        service_tier: 'auto',
      },
      expected: {
        model,
        max_tokens: 256,
        messages: [
          { role: 'system', content: 'You are a helpful assistant.' },
          { role: 'user', content: 'Hi' },
        ],
        temperature: 0.5,
        top_p: 0.9,
        stop: ['\n\nHuman:'],
        user: '13803d75-b4b5-4c3e-b2a2-6f21399b021b',
        stream: true,
        stream_options: { include_usage: true },
      },
    },
    {
      name: 'system blocks with cache_control, and base64 and url images',
      body: {
        model,
        max_tokens: 100,
        system: [{ type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } }],
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQSkZJRg==' } },
              { type: 'image', source: { type: 'url', url: 'https://upload.wikimedia.org/ant.jpg' } },
              { type: 'text', text: 'Describe these images.' },
            ],
          },
        ],
      },
      expected: {
        model,
        max_tokens: 100,
        messages: [
          { role: 'system', content: [{ type: 'text', text: 'You are terse.' }] },
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQSkZJRg==' } },
              { type: 'image_url', image_url: { url: 'https://upload.wikimedia.org/ant.jpg' } },
              { type: 'text', text: 'Describe these images.' },
            ],
          },
        ],
      },
    },
    {
      name: 'the tool-use guide conversation: tool_use → tool_calls, tool_result → tool messages before the user text',
      body: {
        model,
        max_tokens: 1024,
        tools: [
          {
            name: 'get_weather',
            description: 'Get the current weather in a given location',
            input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
          },
        ],
        tool_choice: { type: 'any', disable_parallel_tool_use: true },
        messages: [
          { role: 'user', content: 'What is the weather like in San Francisco?' },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'I should call the tool.', signature: 'EqQB…' },
              { type: 'text', text: "I'll check the current weather in San Francisco for you." },
              { type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', input: { location: 'San Francisco, CA' } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'toolu_01A09q90qw90lq917835lq9', content: '15 degrees' },
              { type: 'tool_result', tool_use_id: 'toolu_02', content: [{ type: 'text', text: 'error: timeout' }], is_error: true },
              { type: 'text', text: 'Thanks!' },
            ],
          },
        ],
      },
      expected: {
        model,
        max_tokens: 1024,
        messages: [
          { role: 'user', content: 'What is the weather like in San Francisco?' },
          {
            role: 'assistant',
            content: "I'll check the current weather in San Francisco for you.",
            tool_calls: [{ id: 'toolu_01A09q90qw90lq917835lq9', type: 'function', function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA"}' } }],
          },
          { role: 'tool', tool_call_id: 'toolu_01A09q90qw90lq917835lq9', content: '15 degrees' },
          { role: 'tool', tool_call_id: 'toolu_02', content: [{ type: 'text', text: 'error: timeout' }] },
          { role: 'user', content: [{ type: 'text', text: 'Thanks!' }] },
        ],
        tools: [
          {
            type: 'function',
            function: {
              name: 'get_weather',
              description: 'Get the current weather in a given location',
              parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
            },
          },
        ],
        tool_choice: 'required',
        parallel_tool_calls: false,
      },
    },
    {
      name: 'assistant turn with only a tool call has null content; structured output and effort',
      body: {
        model,
        max_tokens: 64,
        output_config: { effort: 'medium', format: { type: 'json_schema', schema: { type: 'object', properties: { a: { type: 'string' } } } } },
        messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'f', input: {} }] }],
      },
      expected: {
        model,
        max_tokens: 64,
        messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '{}' } }] }],
        response_format: { type: 'json_schema', json_schema: { name: 'output', schema: { type: 'object', properties: { a: { type: 'string' } } }, strict: true } },
        reasoning_effort: 'medium',
      },
    },
  ];
  for (const { name, body, expected } of cases) {
    it(name, () => expect(anthropicToChatRequest(body as unknown as AnthropicMessagesRequest)).toEqual(expected));
  }

  const choices: Array<[unknown, unknown]> = [
    [{ type: 'auto' }, 'auto'],
    [{ type: 'any' }, 'required'],
    [{ type: 'none' }, 'none'],
    [{ type: 'tool', name: 'get_weather' }, { type: 'function', function: { name: 'get_weather' } }],
  ];
  for (const [choice, expected] of choices) {
    it(`tool_choice ${JSON.stringify(choice)}`, () => {
      const body = { model, max_tokens: 1, messages: [{ role: 'user', content: 'x' }], tools: [{ name: 'get_weather', input_schema: { type: 'object' } }], tool_choice: choice };
      const request = anthropicToChatRequest(body as unknown as AnthropicMessagesRequest);
      expect(request.tool_choice).toEqual(expected);
      expect(request).not.toHaveProperty('parallel_tool_calls');
    });
  }
});

describe('top_k and thinking', () => {
  it('are carried on the canonical request for the provider to map or refuse', () => {
    const request = anthropicToChatRequest({ model, max_tokens: 10, top_k: 5, thinking: { type: 'enabled', budget_tokens: 2048 }, messages: [{ role: 'user', content: 'Hi' }] } as unknown as AnthropicMessagesRequest);
    expect(request.top_k).toBe(5);
    expect(request.thinking_budget).toBe(2048);
  });
});

describe('what cannot be translated is refused by name', () => {
  const base = { model, max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] };
  const cases: Array<[string, Record<string, unknown>]> = [
    ['output_config.effort', { output_config: { effort: 'max' } }],
    ['tools[0]', { tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 5 }] }],
    ['messages[0].content[0].source', { messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'url', url: 'https://x/y.pdf' } }] }] }],
    ['messages[0].content[1].source', { messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }, { type: 'image', source: { type: 'file', file_id: 'file_011' } }] }] }],
    ['messages[0].content[0].content[0]', { messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'image', source: { type: 'url', url: 'https://x/y.png' } }] }] }] }],
    ['messages[0].content[0]', { messages: [{ role: 'assistant', content: [{ type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} }] }] }],
  ];
  for (const [param, extra] of cases) {
    it(`${param} (${JSON.stringify(extra).slice(0, 60)})`, () => {
      let thrown: unknown;
      try {
        anthropicToChatRequest({ ...base, ...extra } as unknown as AnthropicMessagesRequest);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(UnsupportedParameterError);
      expect((thrown as UnsupportedParameterError).param).toBe(param);
      expect((thrown as Error).message).toContain(param);
    });
  }
  it('thinking disabled is accepted', () => {
    expect(() => anthropicToChatRequest({ ...base, thinking: { type: 'disabled' } } as unknown as AnthropicMessagesRequest)).not.toThrow();
  });
});
