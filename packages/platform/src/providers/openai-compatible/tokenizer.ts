// Local token counts for OpenAI's own models, with OpenAI's published tokenizers (gpt-tokenizer
// ships their BPE ranks, so nothing is downloaded at run time). Other OpenAI-wire servers run
// models whose tokenizer Keyward does not ship: they get no count rather than a wrong one.

import { modelToEncodingMap, type EncodingName } from 'gpt-tokenizer/mapping';
import * as openAIModels from 'gpt-tokenizer/models';

/** Providers whose model ids name OpenAI models (Azure deployments usually carry the model's name). */
const OPENAI_MODEL_PROVIDERS = new Set(['openai', 'azure']);

interface Encoder {
  countTokens(text: string): number;
}

const encoders = new Map<EncodingName, Promise<Encoder>>();

/** Loaded on first use: each encoding's ranks are megabytes that most instances never need. */
function encoder(name: EncodingName): Promise<Encoder> {
  let loading = encoders.get(name);
  if (!loading) {
    loading = import(`gpt-tokenizer/encoding/${name}`) as Promise<Encoder>;
    encoders.set(name, loading);
  }
  return loading;
}

/** The tokenizer of an OpenAI model id (fine-tunes `ft:<base>:…` count as their base), or undefined. */
export function openAIEncodingOf(provider: string, model: string): EncodingName | undefined {
  if (!OPENAI_MODEL_PROVIDERS.has(provider)) return undefined;
  const base = model.startsWith('ft:') ? (model.split(':')[1] ?? '') : model;
  if (!Object.hasOwn(openAIModels, base)) return undefined;
  // gpt-tokenizer lists only models that do not use the default encoding of current models.
  return (modelToEncodingMap as Record<string, EncodingName | undefined>)[base] ?? 'o200k_base';
}

/**
 * OpenAI's documented chat accounting: each message costs its tokens plus 3 for the role framing,
 * and every reply is primed with 3 more. `texts` are one message's text pieces each.
 */
export async function countChatTokens(encoding: EncodingName, messages: string[][], extra: string[] = []): Promise<number> {
  const tokenizer = await encoder(encoding);
  let total = 3;
  for (const message of messages) {
    total += 3;
    for (const text of message) total += tokenizer.countTokens(text);
  }
  for (const text of extra) total += tokenizer.countTokens(text);
  return total;
}
