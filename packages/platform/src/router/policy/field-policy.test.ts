// Every row of the field-policy table, checked against what the adapters really do: the table in
// docs/model-router.md is printed from CHAT_FIELD_POLICY, so it cannot say what the code does not.

import { describe, expect, it } from 'vitest';
import type { ChatCompletionRequest } from '../../providers/openai-chat.js';
import { UnsupportedParameterError, type ProviderAdapter } from '../../providers/provider-adapter.js';
import { getProviderAdapter } from '../../providers/registry.js';
import { applyFieldPolicy, CHAT_FIELD_POLICY, type TargetWire } from './field-policy.js';

const ADAPTERS: Record<TargetWire, ProviderAdapter> = {
  openai: getProviderAdapter('openai')!,
  anthropic: getProviderAdapter('anthropic')!,
  gemini: getProviderAdapter('gemini')!,
};
const target = { baseUrl: 'http://127.0.0.1:1', apiKey: 'k' };
const SAME_NAME_ON_ANTHROPIC = new Set(['max_tokens', 'temperature', 'top_p', 'top_k']);

function build(wire: TargetWire, field: string, value: unknown): { body?: Record<string, unknown>; refused?: UnsupportedParameterError } {
  const name = field === 'any other field' ? 'some_future_field' : field;
  const request = { model: 'm', messages: [{ role: 'user', content: 'hi' }], [name]: value } as unknown as ChatCompletionRequest;
  try {
    const adapter = ADAPTERS[wire];
    return { body: adapter.chat.buildRequest(applyFieldPolicy(request, adapter.wire), target).body as Record<string, unknown> };
  } catch (error) {
    if (error instanceof UnsupportedParameterError) return { refused: error };
    throw error;
  }
}

describe('the field policy table matches the adapters', () => {
  for (const rule of CHAT_FIELD_POLICY) {
    for (const wire of ['openai', 'anthropic', 'gemini'] as const) {
      const [disposition] = rule[wire];
      it(`${rule.field} → ${wire}: ${disposition}`, () => {
        const name = rule.field === 'any other field' ? 'some_future_field' : rule.field;
        const { body, refused } = build(wire, rule.field, rule.sample);
        if (disposition === 'refused') {
          expect(refused?.param).toBe(name);
          return;
        }
        expect(refused).toBeUndefined();
        const sent = JSON.stringify(body);
        if (disposition === 'passed') expect(body![name] ?? body![rule.field === 'max_tokens' ? 'max_completion_tokens' : name]).toEqual(rule.sample);
        if (disposition === 'dropped') expect(sent).not.toContain(JSON.stringify(rule.sample));
        // Mapped to the provider's own field: under another name, except where Anthropic's name is OpenAI's.
        if (disposition === 'mapped' && !(wire === 'anthropic' && SAME_NAME_ON_ANTHROPIC.has(name))) expect(body).not.toHaveProperty(name);
      });
    }
  }
});
