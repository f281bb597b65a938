import { describe, expect, it } from 'vitest';
import type { ChatCompletionRequest } from '../openai-chat.js';
import { UnsupportedParameterError } from '../provider-adapter.js';
import { geminiAdapter } from './index.js';
import { buildGenerateContentBody, SKIP_THOUGHT_SIGNATURE } from './request.js';

const base: ChatCompletionRequest = { model: 'gemini-2.0-flash', messages: [{ role: 'user', content: 'Hi' }] };
const target = { baseUrl: '', apiKey: 'AIza-test' };

describe('where a Gemini call goes', () => {
  it.each([
    [false, 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent'],
    [true, 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse'],
  ])('stream=%s → %s, key in x-goog-api-key only', (stream, url) => {
    const built = geminiAdapter.chat.buildRequest({ ...base, stream }, target);
    expect(built.url).toBe(url);
    expect(built.headers['x-goog-api-key']).toBe('AIza-test');
    expect(built.url).not.toContain('key=');
    expect(built.headers.authorization).toBeUndefined();
  });

  it.each([
    ['http://127.0.0.1:9999', 'gemini-2.0-flash', 'http://127.0.0.1:9999/v1beta/models/gemini-2.0-flash:generateContent'],
    ['https://proxy.example/v1beta/', 'gemini-2.0-flash', 'https://proxy.example/v1beta/models/gemini-2.0-flash:generateContent'],
    ['', 'models/gemini-2.5-pro', 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:generateContent'],
  ])('base %s, model %s', (baseUrl, model, url) => {
    expect(geminiAdapter.chat.buildRequest({ ...base, model }, { baseUrl, apiKey: 'k' }).url).toBe(url);
  });
});

describe('messages → contents', () => {
  it('system and developer → systemInstruction; user/assistant → user/model', () => {
    const body = buildGenerateContentBody({
      ...base,
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Bonjour' },
        { role: 'user', content: [{ type: 'text', text: 'Again' }] },
      ],
    });
    expect(body).toEqual({
      systemInstruction: { parts: [{ text: 'You are terse.' }, { text: 'Answer in French.' }] },
      contents: [
        { role: 'user', parts: [{ text: 'Hello' }] },
        { role: 'model', parts: [{ text: 'Bonjour' }] },
        { role: 'user', parts: [{ text: 'Again' }] },
      ],
    });
  });

  it.each([
    ['data URL → inlineData', 'data:image/png;base64,iVBORw0KGgo=', { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } }],
    ['https .jpg → fileData', 'https://example.com/cat.JPG', { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/cat.JPG' } }],
    ['https .webp with query → fileData', 'https://example.com/a.webp?x=1', { fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/a.webp?x=1' } }],
  ])('image %s', (_name, url, part) => {
    const body = buildGenerateContentBody({ ...base, messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url } }] }] });
    expect(body.contents[0]?.parts).toEqual([{ text: 'What is this?' }, part]);
  });

  it.each([
    ['https without a known extension', 'https://example.com/image?id=3'],
    ['plain http', 'http://example.com/a.png'],
  ])('image %s is refused, naming the part', (_name, url) => {
    const call = () => buildGenerateContentBody({ ...base, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }] });
    expect(call).toThrow(UnsupportedParameterError);
    expect(() => call()).toThrow(expect.objectContaining({ param: 'messages[0].content[0].image_url' }));
  });

  it('assistant tool calls → functionCall parts; tool results → functionResponse with the recovered NAME', () => {
    const body = buildGenerateContentBody({
      ...base,
      messages: [
        { role: 'user', content: 'Weather in Paris and London?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_a', content: '{"temp":21}' },
        { role: 'tool', tool_call_id: 'call_b', content: [{ type: 'text', text: '14:00' }] },
        { role: 'user', content: 'Thanks' },
      ],
    });
    expect(body.contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Paris and London?' }] },
      {
        role: 'model',
        parts: [
          { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: SKIP_THOUGHT_SIGNATURE },
          { functionCall: { name: 'get_time', args: {} } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { temp: 21 } } },
          { functionResponse: { name: 'get_time', response: { result: '14:00' } } },
        ],
      },
      { role: 'user', parts: [{ text: 'Thanks' }] },
    ]);
  });

  it('a tool result whose id no assistant call carries is refused', () => {
    expect(() => buildGenerateContentBody({ ...base, messages: [{ role: 'tool', tool_call_id: 'call_zz', content: 'x' }] })).toThrow(
      expect.objectContaining({ param: 'messages[0].tool_call_id' }),
    );
  });

  it('tool call arguments that are not a JSON object are refused', () => {
    const messages: ChatCompletionRequest['messages'] = [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '[1,2]' } }] }];
    expect(() => buildGenerateContentBody({ ...base, messages })).toThrow(expect.objectContaining({ param: 'messages[0].tool_calls[0].function.arguments' }));
  });
});

describe('tools and tool_choice', () => {
  const tools: ChatCompletionRequest['tools'] = [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Current weather',
        parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: ['string', 'null'], enum: ['c', 'f', null] } }, required: ['city'], additionalProperties: false },
        strict: true,
      },
    },
    { type: 'function', function: { name: 'now' } },
  ];

  it('tools → functionDeclarations with the JSON Schema kept whole in parametersJsonSchema', () => {
    expect(buildGenerateContentBody({ ...base, tools }).tools).toEqual([
      {
        functionDeclarations: [
          { name: 'get_weather', description: 'Current weather', parametersJsonSchema: tools[0]!.function.parameters },
          { name: 'now' },
        ],
      },
    ]);
  });

  it.each([
    ['auto', { mode: 'AUTO' }],
    ['none', { mode: 'NONE' }],
    ['required', { mode: 'ANY' }],
    [{ type: 'function', function: { name: 'now' } }, { mode: 'ANY', allowedFunctionNames: ['now'] }],
  ] as const)('tool_choice %j → %j', (choice, config) => {
    expect(buildGenerateContentBody({ ...base, tools, tool_choice: choice }).toolConfig).toEqual({ functionCallingConfig: config });
  });
});

describe('generationConfig', () => {
  it.each<[string, Partial<ChatCompletionRequest>, Record<string, unknown>]>([
    ['max_tokens', { max_tokens: 256 }, { maxOutputTokens: 256 }],
    ['max_completion_tokens wins', { max_tokens: 256, max_completion_tokens: 100 }, { maxOutputTokens: 100 }],
    ['temperature, top_p', { temperature: 0.3, top_p: 0.9 }, { temperature: 0.3, topP: 0.9 }],
    ['stop string', { stop: 'END' }, { stopSequences: ['END'] }],
    ['stop list', { stop: ['a', 'b'] }, { stopSequences: ['a', 'b'] }],
    ['n', { n: 2 }, { candidateCount: 2 }],
    ['seed and penalties', { seed: 42, presence_penalty: 0.5, frequency_penalty: -0.5 }, { seed: 42, presencePenalty: 0.5, frequencyPenalty: -0.5 }],
    ['json_object', { response_format: { type: 'json_object' } }, { responseMimeType: 'application/json' }],
    [
      'json_schema',
      { response_format: { type: 'json_schema', json_schema: { name: 'r', schema: { type: 'object', properties: { a: { type: 'integer' } } } } } },
      { responseMimeType: 'application/json', responseJsonSchema: { type: 'object', properties: { a: { type: 'integer' } } } },
    ],
    ['reasoning_effort on 2.5 → budget', { model: 'gemini-2.5-flash', reasoning_effort: 'medium' }, { thinkingConfig: { thinkingBudget: 8192 } }],
    ['reasoning_effort on 3 → level', { model: 'gemini-3-pro-preview', reasoning_effort: 'low' }, { thinkingConfig: { thinkingLevel: 'low' } }],
  ])('%s', (_name, fields, config) => {
    expect(buildGenerateContentBody({ ...base, ...fields }).generationConfig).toEqual(config);
  });

  it('nothing to configure → no generationConfig; text format, n=1, user and metadata add nothing', () => {
    const body = buildGenerateContentBody({ ...base, n: 1, response_format: { type: 'text' }, user: 'u1', metadata: { a: 'b' }, temperature: null });
    expect(body.generationConfig).toBeUndefined();
  });

  it.each<[string, Partial<ChatCompletionRequest>]>([
    ['logprobs', { logprobs: true }],
    ['top_logprobs', { top_logprobs: 3 }],
    ['logit_bias', { logit_bias: { '123': 5 } }],
  ])('refuses %s by name', (param, fields) => {
    expect(() => buildGenerateContentBody({ ...base, ...fields })).toThrow(expect.objectContaining({ name: 'UnsupportedParameterError', param }));
  });
});
