// Asks a provider, with one key, which models it serves: what GET …/models and the console's Test
// both do. The key's base URL may be anyone's server (members' keys may point at any public host),
// so its answer is read bounded: an error body is not read at all, and a list longer than any
// provider's is refused, its connection dropped, rather than held in memory.

import type { ModelListAdapter } from '../providers/provider-adapter.js';
import { discardBody, readBounded } from '../upstream/body-reads.js';
import type { UpstreamSignal } from '../upstream/call-signal.js';
import { classifyUpstreamError, type UpstreamClient } from '../upstream/upstream-client.js';
import { targetOf, type UsableProviderKey } from './resolve-provider-key.js';

/** Far more than any provider's list: hundreds of models with their metadata come to about a MiB. */
export const MAX_MODEL_LIST_BYTES = 8 * 2 ** 20;

/** What the provider answered; a call that got no (whole) answer throws instead. */
export type ModelListing =
  | { kind: 'models'; models: string[] }
  /** Not 2xx: its body is not read. */
  | { kind: 'status'; status: number }
  /** 2xx, with more than MAX_MODEL_LIST_BYTES. */
  | { kind: 'too_large' }
  /** 2xx, but not JSON of the list's shape. */
  | { kind: 'not_a_list' };

export async function listProviderModels(upstream: UpstreamClient, adapter: ModelListAdapter, key: UsableProviderKey, signal: UpstreamSignal): Promise<ModelListing> {
  const response = await upstream.send(adapter.buildRequest(targetOf(key)), signal, key);
  if (response.status < 200 || response.status >= 300) {
    discardBody(response.body);
    return { kind: 'status', status: response.status };
  }
  let body: { text: string; truncated: boolean };
  try {
    body = await readBounded(response.body, MAX_MODEL_LIST_BYTES);
  } catch (error) {
    throw classifyUpstreamError(error, signal, 'body');
  }
  if (body.truncated) return { kind: 'too_large' };
  try {
    return { kind: 'models', models: adapter.parseResponse(JSON.parse(body.text)) };
  } catch {
    return { kind: 'not_a_list' };
  }
}
