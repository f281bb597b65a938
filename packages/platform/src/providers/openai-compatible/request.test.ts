import { describe, expect, it } from 'vitest';
import type { ChatCompletionRequest } from '../openai-chat.js';
import { UnsupportedParameterError, type UpstreamTarget } from '../provider-adapter.js';
import { openAICompatibleAdapters } from './index.js';
import { AZURE_DEFAULT_API_VERSION, OPENAI_COMPATIBLE_PRESETS, type PresetFeature } from './presets.js';

const adapter = (id: string) => {
  const found = openAICompatibleAdapters.find((a) => a.id === id);
  if (!found) throw new Error(id);
  return found;
};
const hello: ChatCompletionRequest = { model: 'm', messages: [{ role: 'user', content: 'Hi' }] };
const key = (baseUrl: string, apiKey = 'sk-test', options?: Record<string, string>): UpstreamTarget =>
  options ? { baseUrl, apiKey, options } : { baseUrl, apiKey };

describe('where each preset sends a chat completion', () => {
  it.each(OPENAI_COMPATIBLE_PRESETS.filter((p) => p.defaultBaseUrl))('$id: default base URL + /chat/completions, Bearer auth', (preset) => {
    const built = adapter(preset.id).chat.buildRequest(hello, key(''));
    expect(built.method).toBe('POST');
    expect(built.url).toBe(`${preset.defaultBaseUrl}/chat/completions`);
    expect(built.headers.authorization).toBe('Bearer sk-test');
  });

  it.each([
    ['resource endpoint', 'https://contoso.openai.azure.com', {}, `https://contoso.openai.azure.com/openai/deployments/my-gpt4o/chat/completions?api-version=${AZURE_DEFAULT_API_VERSION}`],
    ['endpoint with /openai', 'https://contoso.openai.azure.com/openai/', {}, `https://contoso.openai.azure.com/openai/deployments/my-gpt4o/chat/completions?api-version=${AZURE_DEFAULT_API_VERSION}`],
    ['apiVersion option', 'https://contoso.openai.azure.com', { apiVersion: '2025-04-01-preview' }, 'https://contoso.openai.azure.com/openai/deployments/my-gpt4o/chat/completions?api-version=2025-04-01-preview'],
    ['v1 API', 'https://contoso.openai.azure.com/openai/v1', {}, 'https://contoso.openai.azure.com/openai/v1/chat/completions'],
  ])('azure: %s', (_name, baseUrl, options, url) => {
    const built = adapter('azure').chat.buildRequest({ ...hello, model: 'my-gpt4o' }, key(baseUrl, 'azkey', options));
    expect(built.url).toBe(url);
    expect(built.headers['api-key']).toBe('azkey');
    expect(built.headers.authorization).toBeUndefined();
  });

  it('azure without a base URL on the key is a configuration error, not a silent call', () => {
    expect(() => adapter('azure').chat.buildRequest(hello, key(''))).toThrow(/base URL/);
  });

  it.each(['ollama', 'vllm'])('%s: works without a key, and sends no Authorization header', (id) => {
    expect(adapter(id).apiKeyRequired).toBe(false);
    const built = adapter(id).chat.buildRequest(hello, key('', ''));
    expect(built.headers.authorization).toBeUndefined();
  });

  it('a key base URL overrides the default, trailing slash or not', () => {
    expect(adapter('vllm').chat.buildRequest(hello, key('http://gpu-box:8000/v1/')).url).toBe('http://gpu-box:8000/v1/chat/completions');
  });
});

describe('request body: passthrough with the preset’s rules', () => {
  const body = (id: string, request: ChatCompletionRequest) => adapter(id).chat.buildRequest(request, key('')).body as Record<string, unknown>;

  it('always asks for usage when streaming, whatever the caller asked', () => {
    expect(body('openai', { ...hello, stream: true })).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(body('groq', { ...hello, stream: true, stream_options: { include_usage: false } }).stream_options).toEqual({ include_usage: true });
  });

  it('drops stream_options on a non-streaming call (OpenAI refuses it there)', () => {
    const out = body('openai', { ...hello, stream: false, stream_options: { include_usage: true } });
    expect(out.stream_options).toBeUndefined();
    expect(out.stream).toBeUndefined();
  });

  it('mistral: no stream_options (usage is always on its last chunk), seed is random_seed', () => {
    const out = body('mistral', { ...hello, stream: true, seed: 7 });
    expect(out.stream_options).toBeUndefined();
    expect(out).toMatchObject({ random_seed: 7 });
    expect(out.seed).toBeUndefined();
  });

  it.each([
    ['openai', { max_tokens: 100 }, { max_completion_tokens: 100 }],
    ['openai', { max_completion_tokens: 50, max_tokens: 100 }, { max_completion_tokens: 50 }],
    ['groq', { max_tokens: 100 }, { max_completion_tokens: 100 }],
    ['cerebras', { max_tokens: 100 }, { max_completion_tokens: 100 }],
    ['mistral', { max_completion_tokens: 100 }, { max_tokens: 100 }],
    ['ollama', { max_completion_tokens: 100 }, { max_tokens: 100 }],
    ['azure', { max_tokens: 100 }, { max_tokens: 100 }],
    ['azure', { max_completion_tokens: 100 }, { max_completion_tokens: 100 }],
  ] as const)('%s: %j → %j', (id, given, expected) => {
    const target = id === 'azure' ? key('https://contoso.openai.azure.com') : key('');
    const out = adapter(id).chat.buildRequest({ ...hello, ...given }, target).body as Record<string, unknown>;
    const sent = { max_tokens: out.max_tokens, max_completion_tokens: out.max_completion_tokens };
    expect(Object.fromEntries(Object.entries(sent).filter(([, v]) => v !== undefined))).toEqual(expected);
  });

  it('forwards tools, tool_choice, response_format and messages unchanged', () => {
    const request: ChatCompletionRequest = {
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Weather?' }, { type: 'image_url', image_url: { url: 'https://x.test/a.png' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'w', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      ],
      tools: [{ type: 'function', function: { name: 'w', parameters: { type: 'object', properties: {} } } }],
      tool_choice: 'auto',
      response_format: { type: 'json_schema', json_schema: { name: 'r', schema: { type: 'object' }, strict: true } },
      temperature: 0.2,
    };
    expect(body('openai', request)).toEqual({ ...request });
  });

  it('drops null fields (strict servers refuse them) and OpenAI-platform fields elsewhere', () => {
    const request: ChatCompletionRequest = { ...hello, temperature: null, top_p: 0.5, store: true, metadata: { a: 'b' }, service_tier: 'flex' };
    expect(body('openai', request)).toEqual({ model: 'm', messages: hello.messages, top_p: 0.5, store: true, metadata: { a: 'b' }, service_tier: 'flex' });
    expect(body('together', request)).toEqual({ model: 'm', messages: hello.messages, top_p: 0.5 });
  });
});

describe('fields a preset refuses', () => {
  const uses: Record<PresetFeature, [Partial<ChatCompletionRequest>, string]> = {
    tools: [{ tools: [{ type: 'function', function: { name: 'f' } }] }, 'tools'],
    'response_format.json_schema': [{ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } } }, 'response_format'],
    'response_format.json_object': [{ response_format: { type: 'json_object' } }, 'response_format'],
    top_k: [{ top_k: 5 }, 'top_k'],
    n: [{ n: 2 }, 'n'],
    logprobs: [{ logprobs: true }, 'logprobs'],
    logit_bias: [{ logit_bias: { '50256': -100 } }, 'logit_bias'],
    presence_penalty: [{ presence_penalty: 0.5 }, 'presence_penalty'],
    frequency_penalty: [{ frequency_penalty: 0.5 }, 'frequency_penalty'],
    seed: [{ seed: 1 }, 'seed'],
    reasoning_effort: [{ reasoning_effort: 'low' }, 'reasoning_effort'],
  };
  const cases = OPENAI_COMPATIBLE_PRESETS.flatMap((p) => p.unsupported.map((feature) => [p.id, feature] as const));

  it.each(cases)('%s refuses %s, naming the field', (id, feature) => {
    const [fields, param] = uses[feature];
    const call = () => adapter(id).chat.buildRequest({ ...hello, ...fields }, key('http://x'));
    expect(call).toThrow(UnsupportedParameterError);
    try {
      call();
    } catch (error) {
      expect((error as UnsupportedParameterError).param).toBe(param);
    }
  });

  it('n: 1 and empty logit_bias are not "using" the feature', () => {
    expect(() => adapter('groq').chat.buildRequest({ ...hello, n: 1, logit_bias: {} }, key(''))).not.toThrow();
  });

  it('openai refuses nothing it documents (top_k is not OpenAI\'s)', () => {
    const all = Object.entries(uses).reduce((acc, [feature, [fields]]) => (feature === 'top_k' ? acc : { ...acc, ...fields }), {});
    expect(() => adapter('openai').chat.buildRequest({ ...hello, ...all }, key(''))).not.toThrow();
  });
});
