import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ChatCompletionRequest } from '../openai-chat.js';
import { parseGeminiError } from './errors.js';
import { geminiAdapter } from './index.js';
import { parseGenerateContentResponse } from './response.js';

const fixture = (name: string) => readFileSync(new URL(`../../../test/fixtures/gemini/${name}`, import.meta.url), 'utf8');
const request: ChatCompletionRequest = { model: 'gemini-2.0-flash', messages: [{ role: 'user', content: 'Hi' }] };

describe('GenerateContentResponse → ChatCompletion', () => {
  it('text with thinking: completion tokens include thoughts, reasoning and cached tokens kept', () => {
    const out = parseGenerateContentResponse(JSON.parse(fixture('generate-content-thinking.json')), request);
    expect(out).toMatchObject({
      id: 'chatcmpl-qrqraJ7hNMO2nvgPt8qxoAk',
      object: 'chat.completion',
      model: 'gemini-2.5-flash',
      choices: [{ index: 0, message: { role: 'assistant', content: 'The answer is 42.' }, finish_reason: 'stop', logprobs: null }],
      usage: {
        prompt_tokens: 12,
        completion_tokens: 406,
        total_tokens: 418,
        prompt_tokens_details: { cached_tokens: 8 },
        completion_tokens_details: { reasoning_tokens: 400 },
      },
    });
    expect(out.created).toBeGreaterThan(1_700_000_000);
  });

  it('parallel function calls → tool_calls with call_<n>_<random> ids and JSON-string arguments', () => {
    const out = parseGenerateContentResponse(JSON.parse(fixture('generate-content-function-calls.json')), request);
    const again = parseGenerateContentResponse(JSON.parse(fixture('generate-content-function-calls.json')), request);
    // Ids never repeat across answers: UIs key tool calls on them.
    expect(again.choices[0]!.message.tool_calls![0]!.id).not.toBe(out.choices[0]!.message.tool_calls![0]!.id);
    expect(out.choices[0]).toEqual({
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: expect.stringMatching(/^call_0_[0-9a-f]{16}$/), type: 'function', function: { name: 'get_current_temperature', arguments: '{"location":"Paris"}' } },
          { id: expect.stringMatching(/^call_1_[0-9a-f]{16}$/), type: 'function', function: { name: 'get_current_temperature', arguments: '{"location":"London"}' } },
        ],
      },
      finish_reason: 'tool_calls',
      logprobs: null,
    });
    expect(out.usage).toEqual({ prompt_tokens: 70, completion_tokens: 28, total_tokens: 98 });
  });

  it.each([
    ['STOP', 'stop'],
    ['MAX_TOKENS', 'length'],
    ['SAFETY', 'content_filter'],
    ['RECITATION', 'content_filter'],
    ['BLOCKLIST', 'content_filter'],
    ['PROHIBITED_CONTENT', 'content_filter'],
    ['SPII', 'content_filter'],
    ['OTHER', 'stop'],
    ['MALFORMED_FUNCTION_CALL', 'stop'],
  ])('finishReason %s → %s', (given, expected) => {
    const body = { candidates: [{ content: { parts: [{ text: 'x' }], role: 'model' }, finishReason: given, index: 0 }] };
    expect(parseGenerateContentResponse(body, request).choices[0]?.finish_reason).toBe(expected);
  });

  it('a SAFETY stop with no content at all still answers, with empty content', () => {
    const body = { candidates: [{ finishReason: 'SAFETY', index: 0, safetyRatings: [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true }] }] };
    expect(parseGenerateContentResponse(body, request).choices[0]).toMatchObject({ message: { content: '' }, finish_reason: 'content_filter' });
  });

  it('a blocked prompt (promptFeedback, no candidates) → content_filter', () => {
    const body = { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 5, totalTokenCount: 5 } };
    const out = parseGenerateContentResponse(body, request);
    expect(out.choices[0]).toMatchObject({ message: { content: null }, finish_reason: 'content_filter' });
    expect(out.usage).toEqual({ prompt_tokens: 5, completion_tokens: 0, total_tokens: 5 });
  });

  it('thought summary parts are not answer text', () => {
    const body = { candidates: [{ content: { parts: [{ text: 'Let me think', thought: true }, { text: 'Yes.' }], role: 'model' }, finishReason: 'STOP' }] };
    expect(parseGenerateContentResponse(body, request).choices[0]?.message.content).toBe('Yes.');
  });

  it('several candidates (n) → several choices', () => {
    const body = {
      candidates: [
        { content: { parts: [{ text: 'A' }], role: 'model' }, finishReason: 'STOP', index: 0 },
        { content: { parts: [{ text: 'B' }], role: 'model' }, finishReason: 'MAX_TOKENS', index: 1 },
      ],
    };
    expect(parseGenerateContentResponse(body, request).choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual([
      [0, 'A', 'stop'],
      [1, 'B', 'length'],
    ]);
  });
});

describe('errors and model list', () => {
  it.each([
    [400, { error: { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }] } }, { message: 'API key not valid. Please pass a valid API key.', type: 'INVALID_ARGUMENT' }],
    [429, { error: { code: 429, message: 'You exceeded your current quota.', status: 'RESOURCE_EXHAUSTED' } }, { message: 'You exceeded your current quota.', type: 'RESOURCE_EXHAUSTED' }],
    [503, [{ error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } }], { message: 'The model is overloaded. Please try again later.', type: 'UNAVAILABLE' }],
    [502, 'Bad Gateway', { message: 'Bad Gateway' }],
    [500, null, { message: 'Gemini answered HTTP 500' }],
  ])('%i %j', (status, body, expected) => {
    expect(geminiAdapter.parseError(status, body)).toEqual(expected);
  });

  it('GET /v1beta/models: prefix stripped, chat and embedding models', () => {
    expect(geminiAdapter.models?.parseResponse(JSON.parse(fixture('models.json')))).toEqual(['gemini-2.0-flash', 'text-embedding-004', 'gemini-2.5-pro']);
    expect(geminiAdapter.models?.buildRequest({ baseUrl: '', apiKey: 'k' })).toEqual({
      method: 'GET',
      url: 'https://generativelanguage.googleapis.com/v1beta/models?pageSize=1000',
      headers: { 'x-goog-api-key': 'k' },
    });
  });
});

describe('embeddings', () => {
  const embeddings = geminiAdapter.embeddings!;
  const target = { baseUrl: '', apiKey: 'k' };

  it('one string → embedContent', () => {
    expect(embeddings.buildRequest({ model: 'text-embedding-004', input: 'hello', dimensions: 256 }, target)).toMatchObject({
      url: 'https://generativelanguage.googleapis.com/v1beta/models/text-embedding-004:embedContent',
      body: { model: 'models/text-embedding-004', content: { parts: [{ text: 'hello' }] }, outputDimensionality: 256 },
    });
  });

  it('a list → batchEmbedContents', () => {
    expect(embeddings.buildRequest({ model: 'text-embedding-004', input: ['a', 'b'] }, target)).toMatchObject({
      url: 'https://generativelanguage.googleapis.com/v1beta/models/text-embedding-004:batchEmbedContents',
      body: { requests: [{ model: 'models/text-embedding-004', content: { parts: [{ text: 'a' }] } }, { model: 'models/text-embedding-004', content: { parts: [{ text: 'b' }] } }] },
    });
  });

  it('token arrays are refused', () => {
    expect(() => embeddings.buildRequest({ model: 'm', input: [1, 2, 3] }, target)).toThrow(expect.objectContaining({ param: 'input' }));
  });

  it('responses → OpenAI list, base64 when asked', () => {
    expect(embeddings.parseResponse({ embedding: { values: [0.5, -1] } }, { model: 'm', input: 'x' })).toEqual({
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: [0.5, -1] }],
      model: 'm',
      usage: { prompt_tokens: 0, total_tokens: 0 },
    });
    const b64 = embeddings.parseResponse({ embeddings: [{ values: [0.5] }, { values: [1] }] }, { model: 'm', input: ['x', 'y'], encoding_format: 'base64' });
    expect(b64.data.map((d) => d.embedding)).toEqual([Buffer.from(new Float32Array([0.5]).buffer).toString('base64'), Buffer.from(new Float32Array([1]).buffer).toString('base64')]);
  });
});
