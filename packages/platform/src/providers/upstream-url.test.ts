// The one guard every provider URL goes through: a segment that could leave the base URL's path
// is refused, whatever the provider; valid ids come out exactly as providers expect them.

import { describe, expect, it, vi } from 'vitest';
import { endpointUrl } from './openai-compatible/api.js';
import { OPENAI_COMPATIBLE_PRESETS } from './openai-compatible/presets.js';
import { methodUrl, modelsUrl } from './gemini/api.js';
import { anthropicUrl, ANTHROPIC_MESSAGES_PATH, ANTHROPIC_MODELS_PATH } from './anthropic/api.js';
import { UnsafeUrlSegmentError, upstreamUrl } from './upstream-url.js';

const HOSTILE = ['..', '.', '...', '', '../x', '..%2f', '%2e%2e', '.%2E', '%2E', 'a/b', 'a\\b', 'a?b=c', 'a#b', 'a b', 'a\u0000b', 'a\nb', 'a\tb', 'ü'];

describe('upstreamUrl', () => {
  it('joins safe segments under the base URL, query encoded', () => {
    expect(upstreamUrl('https://h/prefix/v1beta/', ['models', 'gemini-2.5-flash:generateContent'], { alt: 'sse' })).toBe(
      'https://h/prefix/v1beta/models/gemini-2.5-flash:generateContent?alt=sse',
    );
    expect(upstreamUrl('https://h', ['v1', 'messages'])).toBe('https://h/v1/messages');
  });

  it.each(HOSTILE)('refuses the segment %j', (segment) => {
    expect(() => upstreamUrl('https://h/prefix/v1beta', ['models', segment])).toThrow(UnsafeUrlSegmentError);
  });

  it('names the refused segment in a 400', () => {
    const error = (() => {
      try {
        upstreamUrl('https://h', ['..']);
      } catch (e) {
        return e as UnsafeUrlSegmentError;
      }
    })();
    expect(error).toBeInstanceOf(UnsafeUrlSegmentError);
    expect(error!.status).toBe(400);
    expect(error!.message).toContain('".."');
  });
});

describe('each provider builds its URLs through it', () => {
  const target = { baseUrl: 'http://host/prefix/v1beta', apiKey: 'k' };
  it('Gemini: model segment checked, prefix kept', () => {
    expect(methodUrl(target, 'models/gemini-2.0-flash', 'streamGenerateContent')).toBe('http://host/prefix/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse');
    expect(modelsUrl(target)).toBe('http://host/prefix/v1beta/models?pageSize=1000');
    // `..` alone becomes `..:generateContent`, no dot-segment; the router's model-id rule refuses it first.
    for (const model of ['../../something', 'models/../../x', 'a/b', '%2e%2e']) {
      expect(() => methodUrl(target, model, 'generateContent')).toThrow(UnsafeUrlSegmentError);
    }
  });

  it('Azure deployments: deployment segment checked, prefix kept', () => {
    const azure = OPENAI_COMPATIBLE_PRESETS.find((p) => p.id === 'azure')!;
    const t = { baseUrl: 'https://res.example/prefix', apiKey: 'k' };
    expect(endpointUrl(azure, t, 'chat/completions', 'my-gpt.4o')).toBe('https://res.example/prefix/openai/deployments/my-gpt.4o/chat/completions?api-version=2024-10-21');
    for (const model of ['..', '.', '', 'a/b', '..%2f', 'a?x']) expect(() => endpointUrl(azure, t, 'embeddings', model)).toThrow(UnsafeUrlSegmentError);
  });

  it('Anthropic and the OpenAI wire: constant paths under the base URL', () => {
    expect(anthropicUrl({ baseUrl: 'https://a/proxy', apiKey: 'k' }, ANTHROPIC_MESSAGES_PATH)).toBe('https://a/proxy/v1/messages');
    expect(anthropicUrl({ baseUrl: 'https://a', apiKey: 'k' }, ANTHROPIC_MODELS_PATH, { limit: '1000' })).toBe('https://a/v1/models?limit=1000');
    const openai = OPENAI_COMPATIBLE_PRESETS.find((p) => p.id === 'openai')!;
    expect(endpointUrl(openai, { baseUrl: 'https://api.openai.com/v1/', apiKey: 'k' }, 'chat/completions', '../x')).toBe('https://api.openai.com/v1/chat/completions');
  });
});

describe('checked URLs are remembered', () => {
  it('answers the same URL from its cache, still refuses what it refused, and no two inputs share an entry', () => {
    let parses = 0;
    vi.stubGlobal(
      'URL',
      class extends URL {
        constructor(...args: ConstructorParameters<typeof URL>) {
          super(...args);
          parses++;
        }
      },
    );
    try {
      const first = upstreamUrl('http://cached-host/v1', ['chat', 'completions']);
      expect(parses).toBe(2);
      expect(upstreamUrl('http://cached-host/v1', ['chat', 'completions'])).toBe(first);
      expect(parses).toBe(2);
    } finally {
      // Even when an expectation fails, the rest of the file gets the real URL back.
      vi.unstubAllGlobals();
    }
    expect(() => upstreamUrl('http://host/v1', ['..'])).toThrow(UnsafeUrlSegmentError);
    expect(() => upstreamUrl('http://host/v1', ['..'])).toThrow(UnsafeUrlSegmentError);
    // A newline in a segment is refused even when the same text split in two is cached.
    upstreamUrl('http://host/v1', ['a', 'b']);
    expect(() => upstreamUrl('http://host/v1', ['a\nb'])).toThrow(UnsafeUrlSegmentError);
    expect(upstreamUrl('http://host/v1', ['models'], { limit: '5' })).toBe('http://host/v1/models?limit=5');
    expect(upstreamUrl('http://host/v1', ['models'], { limit: '6' })).toBe('http://host/v1/models?limit=6');
    expect(upstreamUrl('http://other/v1', ['models'])).toBe('http://other/v1/models');
  });
});
