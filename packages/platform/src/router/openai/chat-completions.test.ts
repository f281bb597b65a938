import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk } from '../../providers/openai-chat.js';
import { encodeOpenAIChunk, openAIChunkEncoder } from './chat-completions.js';

const chunk = (over: Partial<ChatCompletionChunk>): ChatCompletionChunk => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1_700_000_000,
  model: 'openai:gpt-4o-mini',
  choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }],
  ...over,
});

const STREAM: ChatCompletionChunk[] = [
  chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }),
  chunk({ choices: [{ index: 0, delta: { content: 'd\u00e9j\u00e0 "vu" \\ \u2028 \ud83d\ude00 </script>' }, finish_reason: null }] }),
  chunk({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] }, finish_reason: null }] }),
  // A provider that changes the model name (or id) mid-stream gets a new head.
  chunk({ model: 'openai:gpt-4o-mini-2024-07-18', id: 'chatcmpl-"2"' }),
  chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] }),
  chunk({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8, completion_tokens_details: { reasoning_tokens: 1 } } }),
];

describe('the OpenAI stream encoder', () => {
  for (const includeUsage of [false, true]) {
    it(`writes the same bytes as serialising each whole chunk (include_usage ${includeUsage})`, () => {
      const encode = openAIChunkEncoder(includeUsage);
      for (const c of STREAM) expect(encode(c)).toBe(encodeOpenAIChunk(c, includeUsage));
      expect(encode(STREAM.at(-1)!)).toBe(includeUsage ? encodeOpenAIChunk(STREAM.at(-1)!, true) : '');
    });
  }

  it('leaves out a field that is missing, as JSON.stringify does', () => {
    const odd = { ...chunk({}), created: undefined } as unknown as ChatCompletionChunk;
    expect(openAIChunkEncoder(false)(odd)).toBe(encodeOpenAIChunk(odd, false));
    expect(openAIChunkEncoder(false)(odd)).not.toContain('created');
  });
});
