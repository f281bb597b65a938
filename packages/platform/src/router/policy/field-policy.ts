// What happens to each request field on its way to each provider wire: the request policy of
// docs/model-router.md as one table. On the same wire, fields Keyward does not know pass through
// (the provider judges them); when translating, advisory fields are dropped, fields that would
// change the answer and cannot be honoured are refused by name, and null or empty means absent.
// field-policy.test.ts drives every row through the adapters; scripts/field-policy.mjs prints it.

import type { ChatCompletionRequest } from '../../providers/openai-chat.js';
import { UnsupportedParameterError, type ProviderAdapter } from '../../providers/provider-adapter.js';
import { KNOWN_CHAT_FIELDS } from '../openai/schemas.js';

export type TargetWire = ProviderAdapter['wire'];
export type Disposition = 'passed' | 'mapped' | 'dropped' | 'refused';

export interface FieldRule {
  field: string;
  /** What happens on each target wire, with a few words on how. */
  openai: [Disposition, string?];
  anthropic: [Disposition, string?];
  gemini: [Disposition, string?];
  /** A value a caller would send, for the test that checks the row against the adapters. */
  sample: unknown;
}

/**
 * Fields some OpenAI-wire services read as other models to answer with (OpenRouter's `models`
 * fallback list and `route`, LiteLLM's `fallbacks`): refused, so that the model that answers is
 * the one the caller named, which the proxy's allow-list, the key choice, the limits and the
 * price were all decided for.
 */
const MODEL_CHOOSING_FIELDS = [
  { field: 'models', sample: ['openai/gpt-4o-mini', 'openai/o1-pro'] },
  { field: 'route', sample: 'fallback' },
  { field: 'fallbacks', sample: ['gpt-4o'] },
];

/** OpenAI Chat Completions fields (also what the Responses and Anthropic routes translate into). */
export const CHAT_FIELD_POLICY: readonly FieldRule[] = [
  { field: 'max_tokens', openai: ['passed', 'or renamed as the provider wants'], anthropic: ['mapped', 'max_tokens'], gemini: ['mapped', 'maxOutputTokens'], sample: 50 },
  { field: 'temperature', openai: ['passed'], anthropic: ['mapped', 'refused above 1'], gemini: ['mapped'], sample: 0.5 },
  { field: 'top_p', openai: ['passed'], anthropic: ['mapped'], gemini: ['mapped', 'topP'], sample: 0.9 },
  { field: 'top_k', openai: ['refused', 'by OpenAI and Azure; passed to other OpenAI-wire servers'], anthropic: ['mapped'], gemini: ['mapped', 'topK'], sample: 5 },
  { field: 'stop', openai: ['passed'], anthropic: ['mapped', 'stop_sequences'], gemini: ['mapped', 'stopSequences'], sample: ['END'] },
  { field: 'n', openai: ['passed'], anthropic: ['refused', 'above 1'], gemini: ['mapped', 'candidateCount'], sample: 2 },
  { field: 'presence_penalty', openai: ['passed'], anthropic: ['refused', 'unless 0'], gemini: ['mapped'], sample: 0.5 },
  { field: 'frequency_penalty', openai: ['passed'], anthropic: ['refused', 'unless 0'], gemini: ['mapped'], sample: 0.5 },
  { field: 'seed', openai: ['passed'], anthropic: ['refused'], gemini: ['mapped'], sample: 7 },
  { field: 'logprobs', openai: ['passed'], anthropic: ['refused'], gemini: ['refused'], sample: true },
  { field: 'top_logprobs', openai: ['passed'], anthropic: ['refused'], gemini: ['refused'], sample: 2 },
  { field: 'logit_bias', openai: ['passed'], anthropic: ['refused'], gemini: ['refused'], sample: { '50256': -100 } },
  {
    field: 'thinking_budget',
    openai: ['mapped', 'the nearest reasoning_effort: under 4096 low, under 16384 medium, else high (OpenAI: reasoning models only; dropped for gpt-4o and the like)'],
    anthropic: ['mapped', 'thinking.budget_tokens'],
    gemini: ['mapped', 'thinkingConfig.thinkingBudget (Gemini 3: thinkingLevel low under 8192, else high), thoughts returned'],
    sample: 2048,
  },
  { field: 'reasoning_effort', openai: ['passed'], anthropic: ['mapped', 'output_config.effort'], gemini: ['mapped', 'thinkingConfig'], sample: 'low' },
  { field: 'user', openai: ['passed'], anthropic: ['mapped', 'metadata.user_id'], gemini: ['dropped', 'advisory'], sample: 'user-1' },
  { field: 'metadata', openai: ['passed', 'to OpenAI and Azure; dropped elsewhere'], anthropic: ['dropped', 'advisory'], gemini: ['dropped', 'advisory'], sample: { app: 'x' } },
  { field: 'service_tier', openai: ['passed', 'to OpenAI and Azure; dropped elsewhere'], anthropic: ['dropped', 'advisory'], gemini: ['dropped', 'advisory'], sample: 'flex' },
  { field: 'store', openai: ['passed', 'to OpenAI and Azure; dropped elsewhere'], anthropic: ['refused', 'when true'], gemini: ['refused', 'when true'], sample: true },
  { field: 'prompt_cache_key', openai: ['passed'], anthropic: ['dropped', 'advisory'], gemini: ['dropped', 'advisory'], sample: 'conversation-42' },
  { field: 'safety_identifier', openai: ['passed'], anthropic: ['dropped', 'advisory'], gemini: ['dropped', 'advisory'], sample: 'hashed-user' },
  { field: 'verbosity', openai: ['passed'], anthropic: ['dropped', 'advisory'], gemini: ['dropped', 'advisory'], sample: 'low' },
  { field: 'modalities', openai: ['passed'], anthropic: ['refused', "unless ['text']"], gemini: ['refused', "unless ['text']"], sample: ['text', 'audio'] },
  { field: 'audio', openai: ['passed'], anthropic: ['refused'], gemini: ['refused'], sample: { voice: 'alloy', format: 'wav' } },
  { field: 'prediction', openai: ['passed'], anthropic: ['refused'], gemini: ['refused'], sample: { type: 'content', content: 'x' } },
  { field: 'web_search_options', openai: ['passed'], anthropic: ['refused'], gemini: ['refused'], sample: {} },
  ...MODEL_CHOOSING_FIELDS.map(
    ({ field, sample }): FieldRule => ({
      field,
      openai: ['refused', 'it lets the provider answer with another model than the one named, which the proxy did not check or price'],
      anthropic: ['refused', 'named'],
      gemini: ['refused', 'named'],
      sample,
    }),
  ),
  { field: 'any other field', openai: ['passed', 'the provider judges it'], anthropic: ['refused', 'named'], gemini: ['refused', 'named'], sample: 'x' },
];

/** Advisory fields: they cannot change the answer, so a wire that lacks them simply does without. */
const ADVISORY: Record<Exclude<TargetWire, 'openai'>, Set<string>> = {
  anthropic: new Set(CHAT_FIELD_POLICY.filter((rule) => rule.anthropic[0] === 'dropped').map((rule) => rule.field)),
  gemini: new Set(CHAT_FIELD_POLICY.filter((rule) => rule.gemini[0] === 'dropped').map((rule) => rule.field)),
};

/** Known to the canonical request without being an OpenAI chat field. */
const CANONICAL_EXTRAS = new Set(['top_k', 'thinking_budget']);

/** Null and `[]` are "absent" when translating: clients send them for fields they do not use (`{}` can mean "defaults"). */
export function isAbsent(value: unknown): boolean {
  return value === null || value === undefined || (Array.isArray(value) && value.length === 0);
}

/** Parts that name files stored under the provider account are refused on every wire; inline files pass. */
function refuseStoredFiles(request: ChatCompletionRequest): void {
  request.messages.forEach((message, i) => {
    if (message.role !== 'user' || typeof message.content === 'string') return;
    message.content.forEach((part, j) => {
      if (part.type !== 'file') return;
      const param = `messages[${i}].content[${j}].file`;
      if (part.file.file_id != null) throw new UnsupportedParameterError(`${param}.file_id`, `'${param}.file_id' names a file stored under the provider account, which the router does not open; send the file inline as file_data`);
      if (!part.file.file_data) throw new UnsupportedParameterError(`${param}.file_data`, `'${param}.file_data' is required: a base64 data: URL`);
    });
  });
}

/**
 * The canonical request as a translating adapter should see it: absent values and advisory fields
 * removed, unknown fields refused by name. Requests for OpenAI-wire providers pass unchanged.
 */
export function applyFieldPolicy(request: ChatCompletionRequest, wire: TargetWire): ChatCompletionRequest {
  refuseStoredFiles(request);
  for (const { field } of MODEL_CHOOSING_FIELDS) {
    const value = (request as unknown as Record<string, unknown>)[field];
    if (!isAbsent(value)) throw new UnsupportedParameterError(field, `'${field}' would let the provider answer with another model than '${request.model}'; name one model`);
  }
  if (wire === 'openai') return request;
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(request)) {
    if (field === 'model' || field === 'messages') {
      out[field] = value;
      continue;
    }
    if (isAbsent(value)) continue;
    if (!KNOWN_CHAT_FIELDS.has(field) && !CANONICAL_EXTRAS.has(field)) {
      throw new UnsupportedParameterError(field, `'${field}' is not a field Keyward can translate to ${wire === 'anthropic' ? 'Anthropic' : 'Gemini'}`);
    }
    if (ADVISORY[wire].has(field)) continue;
    out[field] = value;
  }
  return out as unknown as ChatCompletionRequest;
}
