import { describe, expect, it } from 'vitest';
import type { ChatCompletion } from '../../../providers/openai-chat.js';
import { InvalidToolArgumentsError } from './errors.js';
import { chatCompletionToAnthropicMessage } from './response.js';

// An OpenAI Chat Completions response, as in OpenAI's API reference.
const completion: ChatCompletion = {
  id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
  object: 'chat.completion',
  created: 1741569952,
  model: 'gpt-4o-2024-08-06',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! How can I assist you today?', refusal: null }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 19, completion_tokens: 10, total_tokens: 29, prompt_tokens_details: { cached_tokens: 0 } },
};

describe('canonical ChatCompletion → Anthropic Message', () => {
  it('a text answer, echoing the model the caller asked for', () => {
    expect(chatCompletionToAnthropicMessage(completion, 'openai:gpt-4o')).toEqual({
      id: 'msg_chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
      type: 'message',
      role: 'assistant',
      model: 'openai:gpt-4o',
      content: [{ type: 'text', text: 'Hello! How can I assist you today?' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 19, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 10 },
    });
  });

  it('tool calls become tool_use blocks with parsed input', () => {
    const message = chatCompletionToAnthropicMessage(
      {
        ...completion,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: null,
              tool_calls: [
                { id: 'call_abc123', type: 'function', function: { name: 'get_current_weather', arguments: '{\n"location": "Boston, MA"\n}' } },
                { id: 'call_def456', type: 'function', function: { name: 'get_time', arguments: '' } },
              ],
            },
            finish_reason: 'tool_calls',
            logprobs: null,
          },
        ],
      },
      'openai:gpt-4o',
    );
    expect(message.content).toEqual([
      { type: 'tool_use', id: 'call_abc123', name: 'get_current_weather', input: { location: 'Boston, MA' } },
      { type: 'tool_use', id: 'call_def456', name: 'get_time', input: {} },
    ]);
    expect(message.stop_reason).toBe('tool_use');
  });

  it('cached prompt tokens are reported apart from input_tokens', () => {
    const message = chatCompletionToAnthropicMessage(
      { ...completion, usage: { prompt_tokens: 2006, completion_tokens: 300, total_tokens: 2306, prompt_tokens_details: { cached_tokens: 1920 } } },
      'm',
    );
    expect(message.usage).toEqual({ input_tokens: 86, cache_creation_input_tokens: 0, cache_read_input_tokens: 1920, output_tokens: 300 });
  });

  const finishes: Array<[ChatCompletion['choices'][number]['finish_reason'], string]> = [
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['tool_calls', 'tool_use'],
    ['content_filter', 'refusal'],
  ];
  for (const [finish, stop] of finishes) {
    it(`finish_reason ${finish} → stop_reason ${stop}`, () => {
      const choice = { ...completion.choices[0]!, finish_reason: finish };
      expect(chatCompletionToAnthropicMessage({ ...completion, choices: [choice] }, 'm').stop_reason).toBe(stop);
    });
  }

  it('a refusal is shown as text', () => {
    const choice = { index: 0, message: { role: 'assistant' as const, content: null, refusal: "I'm sorry, I can't help with that." }, finish_reason: 'content_filter' as const, logprobs: null };
    expect(chatCompletionToAnthropicMessage({ ...completion, choices: [choice] }, 'm').content).toEqual([{ type: 'text', text: "I'm sorry, I can't help with that." }]);
  });

  it('tool arguments that are not a JSON object are an error, not a guess', () => {
    const choice = {
      index: 0,
      message: { role: 'assistant' as const, content: null, tool_calls: [{ id: 'c', type: 'function' as const, function: { name: 'f', arguments: '{"a":' } }] },
      finish_reason: 'tool_calls' as const,
      logprobs: null,
    };
    expect(() => chatCompletionToAnthropicMessage({ ...completion, choices: [choice] }, 'm')).toThrow(InvalidToolArgumentsError);
  });
});
