// The console's `Test` button: list the provider's models with one stored key, through the same
// upstream client (and the same member policy) as routed calls, and say in words what happened.
// A member's key never shows the provider's own text, only what the outcome means.

import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { getProviderAdapter } from '../providers/registry.js';
import { classifyUpstreamError, type UpstreamClient } from '../upstream/upstream-client.js';
import type { SealedBox } from '../secrets/sealed-box.js';
import { readBaseUrlAllowList } from './base-url-allow-list.js';
import { listProviderModels, MAX_MODEL_LIST_BYTES, type ModelListing } from './list-provider-models.js';
import { usableProviderKey } from './resolve-provider-key.js';

export interface ProviderKeyTestOutcome {
  ok: boolean;
  /** One sentence for the person who pressed Test. Never the secret. */
  message: string;
}

/** Listing is quick when it works; the button should not hang for as long as a completion may. */
const TEST_TIMEOUT_MS = 10_000;

export async function testProviderKey(
  deps: { db: Kysely<Database>; box: SealedBox; upstream: UpstreamClient; defaultAllowList: readonly string[] },
  input: {
    organizationId: string;
    keyId: string;
    /** Tripped when the person who pressed Test has gone: the provider call goes with them. */
    clientGone?: AbortSignal;
  },
): Promise<ProviderKeyTestOutcome> {
  const row = await deps.db
    .selectFrom('provider_keys')
    .selectAll()
    .where('id', '=', input.keyId)
    .where('organization_id', '=', input.organizationId)
    .executeTakeFirst();
  if (!row) return { ok: false, message: 'This key does not exist.' };
  const adapter = getProviderAdapter(row.provider);
  if (!adapter) return { ok: false, message: `Keyward no longer knows the provider "${row.provider}".` };
  const allowList = row.base_url_policy === 'member' ? (await readBaseUrlAllowList(deps.db, input.organizationId, deps.defaultAllowList)).hosts : [];
  const key = usableProviderKey(deps.box, row, allowList)!;
  const name = adapter.displayName;
  if (!adapter.models) return { ok: true, message: `${name} has no model list to test against; the key will be tried on its first call.` };
  const signal = input.clientGone ? AbortSignal.any([AbortSignal.timeout(TEST_TIMEOUT_MS), input.clientGone]) : AbortSignal.timeout(TEST_TIMEOUT_MS);
  let answer: ModelListing;
  try {
    answer = await listProviderModels(deps.upstream, adapter.models, key, signal);
  } catch (error) {
    const failure = classifyUpstreamError(error, signal, 'headers');
    if (failure.kind === 'refused') {
      return { ok: false, message: `Refused: this key's base URL leads to an internal network address, which keys added by members may not reach. No connection was made.` };
    }
    if (failure.kind === 'timeout' || failure.kind === 'aborted') return { ok: false, message: `${name} did not answer within ${TEST_TIMEOUT_MS / 1000} seconds.` };
    return { ok: false, message: `Could not reach ${name} at ${new URL(key.baseUrl).host}.` };
  }
  switch (answer.kind) {
    case 'models':
      return { ok: true, message: `The key works: ${name} lists ${answer.models.length} model${answer.models.length === 1 ? '' : 's'}.` };
    case 'status':
      if (answer.status === 401 || answer.status === 403) return { ok: false, message: `${name} refused the key (HTTP ${answer.status}).` };
      return { ok: false, message: `${name} answered HTTP ${answer.status} when asked for its models.` };
    case 'too_large':
      return { ok: false, message: `${name} answered with a model list larger than ${MAX_MODEL_LIST_BYTES / 2 ** 20} MiB; Keyward stopped reading it.` };
    case 'not_a_list':
      return { ok: false, message: `${name} answered, but not with a model list.` };
  }
}
