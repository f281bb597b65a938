import { describe, expect, it } from 'vitest';
import { getProviderAdapter, listProviderAdapters, PROVIDER_IDS } from './registry.js';

describe('provider registry', () => {
  it('knows every provider the CLI and model ids may name', () => {
    expect([...PROVIDER_IDS].sort()).toEqual(
      ['anthropic', 'azure', 'cerebras', 'deepseek', 'fireworks', 'gemini', 'groq', 'mistral', 'ollama', 'openai', 'openai-compatible', 'openrouter', 'perplexity', 'together', 'vllm', 'xai'].sort(),
    );
  });

  it.each([
    ['openai', 'https://api.openai.com/v1'],
    ['anthropic', 'https://api.anthropic.com'],
    ['gemini', 'https://generativelanguage.googleapis.com'],
    ['ollama', 'http://localhost:11434/v1'],
    ['vllm', 'http://localhost:8000/v1'],
  ])('%s defaults to the base URL its official SDK takes: %s', (id, baseUrl) => {
    expect(getProviderAdapter(id)?.defaultBaseUrl).toBe(baseUrl);
  });

  it('unknown ids are undefined, not a throw', () => {
    expect(getProviderAdapter('nope')).toBeUndefined();
    expect(getProviderAdapter('')).toBeUndefined();
  });

  it('every adapter names itself by the id it is registered under and can list models one way or another', () => {
    for (const adapter of listProviderAdapters()) {
      expect(getProviderAdapter(adapter.id)).toBe(adapter);
      expect(adapter.displayName).toBeTruthy();
      if (adapter.id !== 'azure') expect(adapter.models !== undefined || adapter.staticModels !== undefined).toBe(true);
    }
  });

  it('only local servers work without a key', () => {
    expect(listProviderAdapters().filter((a) => !a.apiKeyRequired).map((a) => a.id).sort()).toEqual(['ollama', 'openai-compatible', 'vllm']);
  });
});
