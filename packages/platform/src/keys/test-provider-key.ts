// The console's `Test` button: asks the provider for its model list with one key and says, in
// words, what came back. The key itself never appears in the outcome.

import { getProviderAdapter } from '../providers/registry.js';
import type { UpstreamTarget } from '../providers/provider-adapter.js';

export interface KeyTestOutcome {
  ok: boolean;
  message: string;
}

const TEST_TIMEOUT_MS = 10_000;

export async function testProviderKey(provider: string, target: UpstreamTarget): Promise<KeyTestOutcome> {
  const adapter = getProviderAdapter(provider);
  if (!adapter) return { ok: false, message: `Keyward does not know the provider "${provider}".` };
  if (!adapter.models) {
    return { ok: true, message: `${adapter.displayName} has no model list to ask; the key was not checked, it will be used as it is.` };
  }
  const request = adapter.models.buildRequest(target);
  let response: Response;
  try {
    response = await fetch(request.url, { method: request.method, headers: request.headers, signal: AbortSignal.timeout(TEST_TIMEOUT_MS), redirect: 'manual' });
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError';
    return { ok: false, message: timedOut ? `${adapter.displayName} did not answer within ${TEST_TIMEOUT_MS / 1000} seconds.` : `Could not reach ${adapter.displayName} at ${target.baseUrl}.` };
  }
  if (response.status === 401 || response.status === 403) {
    await response.body?.cancel();
    return { ok: false, message: `${adapter.displayName} refused this key (HTTP ${response.status}): check that it is right and active.` };
  }
  if (!response.ok) {
    await response.body?.cancel();
    return { ok: false, message: `${adapter.displayName} answered HTTP ${response.status} to the model list.` };
  }
  try {
    const models = adapter.models.parseResponse(await response.json());
    return { ok: true, message: `The key works: ${adapter.displayName} lists ${models.length} model${models.length === 1 ? '' : 's'}.` };
  } catch {
    return { ok: false, message: `${adapter.displayName} answered, but not with a model list Keyward can read.` };
  }
}
