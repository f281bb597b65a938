// Step 3 of the data flow: "openai:gpt-4o-mini" → provider "openai", model "gpt-4o-mini". The
// split is at the first ':' only; the model part may hold ':' or '/' itself
// ("ollama:llama3.1:8b", "openrouter:meta-llama/llama-3-70b").

import { usableProviders } from '../keys/resolve-provider-key.js';
import { allowedModels, proxyAllows } from '../proxies/model-allow-list.js';
import type { ProviderAdapter } from '../providers/provider-adapter.js';
import { getProviderAdapter } from '../providers/registry.js';
import type { RouterCaller } from './access/authorize-proxy.js';
import type { RouterContext } from './router-context.js';
import { RouterError } from './router-error.js';

export interface QualifiedModel {
  adapter: ProviderAdapter;
  provider: string;
  /** The provider's own model id. */
  model: string;
}

export function splitModelId(id: string): { provider: string; model: string } | undefined {
  const colon = id.indexOf(':');
  if (colon <= 0 || colon === id.length - 1) return undefined;
  return { provider: id.slice(0, colon), model: id.slice(colon + 1) };
}

/** No provider names a model with a control character; PostgreSQL cannot store U+0000 in text. */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
/**
 * The longest model id taken, provider prefix included: far past any provider's (Azure's
 * deployment names stop at 64, Gemini's ids at 128). The id is kept in the usage record and is a
 * label of the metrics, so a caller must not be able to make it megabytes long.
 */
export const MAX_MODEL_ID_LENGTH = 256;

export async function resolveModelId(router: RouterContext, caller: RouterCaller, id: string, param = 'model'): Promise<QualifiedModel> {
  if (id.length > MAX_MODEL_ID_LENGTH) throw RouterError.invalid(`The model id is ${id.length} characters long; no model id is longer than ${MAX_MODEL_ID_LENGTH}.`, param, 'invalid_model');
  if (CONTROL_CHARACTER.test(id)) throw RouterError.invalid(`Model "${id}" contains a control character; no model id does.`, param, 'invalid_model');
  const split = splitModelId(id);
  const adapter = split ? getProviderAdapter(split.provider) : undefined;
  if (split && adapter) {
    // The id may become a URL path segment: anything the provider would not accept stops here, before any call.
    if (adapter.modelId && !adapter.modelId.pattern.test(split.model)) {
      throw RouterError.invalid(`Model "${id}" is not a valid ${adapter.displayName} model id: ${adapter.modelId.rule}.`, param, 'invalid_model');
    }
    const allowList = allowedModels(caller.proxy);
    if (!proxyAllows(allowList, adapter.id, split.model)) {
      throw RouterError.forbidden(`This LLM proxy does not allow "${id}". Allowed here: ${allowList!.join(', ')}.`);
    }
    return { adapter, provider: adapter.id, model: split.model };
  }
  const providers = await usableProviders(router.keys, caller.organizationId, caller.keyCaller);
  const choices = providers.length
    ? `Providers you can use here: ${providers.join(', ')} (e.g. "${providers[0]}:<model>").`
    : 'No provider keys are available to you on this proxy yet; an admin can add one.';
  const problem = split ? `Unknown provider "${split.provider}" in model "${id}".` : `Model "${id}" has no provider prefix; use "provider:model".`;
  throw RouterError.invalid(`${problem} ${choices}`, param, 'invalid_request');
}
