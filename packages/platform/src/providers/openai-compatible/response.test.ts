import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ChatCompletionRequest } from '../openai-chat.js';
import { parseOpenAIError } from './errors.js';
import { parseChatResponse } from './response.js';

const fixture = (name: string) => readFileSync(new URL(`../../../test/fixtures/openai/${name}`, import.meta.url), 'utf8');
const request: ChatCompletionRequest = { model: 'requested-model', messages: [{ role: 'user', content: 'Hi' }] };

describe('non-streaming responses', () => {
  it('OpenAI tool call response: kept as is, cached tokens and fingerprint kept', () => {
    const out = parseChatResponse(JSON.parse(fixture('chat-completion-tool-calls.json')), request);
    expect(out).toEqual({
      id: 'chatcmpl-BYQmbFBNlZtUKKZnCmbYKqzYDgHKp',
      object: 'chat.completion',
      created: 1747851733,
      model: 'gpt-4o-mini-2024-07-18',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            refusal: null,
            tool_calls: [{ id: 'call_Tq1VfVXzWWWzEb6Ne1a8Jwzh', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris, France"}' } }],
          },
          finish_reason: 'tool_calls',
          logprobs: null,
        },
      ],
      usage: {
        prompt_tokens: 82,
        completion_tokens: 17,
        total_tokens: 99,
        prompt_tokens_details: { cached_tokens: 64 },
        completion_tokens_details: { reasoning_tokens: 0 },
      },
      system_fingerprint: 'fp_54eb4bd693',
    });
  });

  it('fills what minimal servers leave out: id, object, created, model, total', () => {
    // A llama.cpp / older Ollama style answer.
    const out = parseChatResponse(
      { choices: [{ message: { role: 'assistant', content: 'Hi!' }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 2 } },
      request,
    );
    expect(out.id).toMatch(/^chatcmpl-/);
    expect(out.object).toBe('chat.completion');
    expect(out.created).toBeGreaterThan(1_700_000_000);
    expect(out.model).toBe('requested-model');
    expect(out.choices[0]).toEqual({ index: 0, message: { role: 'assistant', content: 'Hi!' }, finish_reason: 'stop', logprobs: null });
    expect(out.usage).toEqual({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
  });

  it('o-series reasoning tokens are kept', () => {
    const out = parseChatResponse(
      {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1,
        model: 'o3-mini-2025-01-31',
        choices: [{ index: 0, message: { role: 'assistant', content: '42' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 20, completion_tokens: 900, total_tokens: 920, completion_tokens_details: { reasoning_tokens: 832 } },
      },
      request,
    );
    expect(out.usage?.completion_tokens_details).toEqual({ reasoning_tokens: 832 });
  });

  it('DeepSeek cache hits become cached_tokens', () => {
    const out = parseChatResponse(
      {
        id: 'x',
        object: 'chat.completion',
        created: 1,
        model: 'deepseek-chat',
        choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 100, completion_tokens: 2, total_tokens: 102, prompt_cache_hit_tokens: 64, prompt_cache_miss_tokens: 36 },
      },
      request,
    );
    expect(out.usage?.prompt_tokens_details).toEqual({ cached_tokens: 64 });
  });

  it('Mistral reasoning content arrays keep only the answer text', () => {
    const out = parseChatResponse(
      {
        id: 'x',
        object: 'chat.completion',
        created: 1,
        model: 'magistral-small-latest',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: [{ type: 'thinking', thinking: [{ type: 'text', text: 'hmm' }] }, { type: 'text', text: 'Answer' }] },
            finish_reason: 'stop',
          },
        ],
      },
      request,
    );
    expect(out.choices[0]?.message.content).toBe('Answer');
  });

  it('tool arguments sent as an object (Ollama) become a JSON string', () => {
    const out = parseChatResponse(
      {
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: '', tool_calls: [{ id: 'call_x', function: { name: 'f', arguments: { city: 'Oslo' } } }] },
            finish_reason: 'stop',
          },
        ],
      },
      request,
    );
    expect(out.choices[0]?.message.tool_calls).toEqual([{ id: 'call_x', type: 'function', function: { name: 'f', arguments: '{"city":"Oslo"}' } }]);
    expect(out.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it.each([
    ['stop', 'stop'],
    ['length', 'length'],
    ['tool_calls', 'tool_calls'],
    ['content_filter', 'content_filter'],
    ['function_call', 'tool_calls'],
    ['model_length', 'length'],
    ['eos', 'stop'],
  ])('finish_reason %s → %s', (given, expected) => {
    const out = parseChatResponse({ choices: [{ index: 0, message: { role: 'assistant', content: 'x' }, finish_reason: given }] }, request);
    expect(out.choices[0]?.finish_reason).toBe(expected);
  });

  it('a body without choices is refused', () => {
    expect(() => parseChatResponse({ object: 'error' }, request)).toThrow(/choices/);
  });
});

describe('error bodies', () => {
  it.each([
    [401, { error: { message: 'Incorrect API key provided: sk-abc*****wxyz.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }, { message: 'Incorrect API key provided: sk-abc*****wxyz.', type: 'invalid_request_error' }],
    [429, { error: { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit_exceeded' } }, { message: 'Rate limit reached', type: 'requests' }],
    [404, { error: { message: 'model "llama9" not found, try pulling it first', type: 'api_error', param: null, code: null } }, { message: 'model "llama9" not found, try pulling it first', type: 'api_error' }],
    [400, { error: { code: 'DeploymentNotFound', message: 'The API deployment for this resource does not exist.' } }, { message: 'The API deployment for this resource does not exist.', type: 'DeploymentNotFound' }],
    [422, { object: 'error', message: 'Extra inputs are not permitted', type: 'invalid_request_message_error', param: null, code: null }, { message: 'Extra inputs are not permitted', type: 'invalid_request_message_error' }],
    [400, { detail: 'Invalid model' }, { message: 'Invalid model' }],
    [500, { error: 'model crashed' }, { message: 'model crashed' }],
    [502, '<html>Bad Gateway</html>', { message: '<html>Bad Gateway</html>' }],
    [503, undefined, { message: 'upstream answered HTTP 503' }],
  ])('%i %j', (status, body, expected) => {
    expect(parseOpenAIError(status, body)).toEqual(expected);
  });
});
