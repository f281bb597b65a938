// Step 4's one rule for shared keys: an org or team key opens a provider account that many people
// share, so request features that reach state stored under that account (uploaded files,
// containers, custom skills, MCP connections) are refused on it and allowed on personal keys.

import { resolveProviderKey, type UsableProviderKey } from '../../keys/resolve-provider-key.js';
import type { AccountStateUse } from '../../providers/provider-adapter.js';
import type { UpstreamSignal } from '../../upstream/call-signal.js';
import type { UsageMeter } from '../metering.js';
import type { ProviderCall } from '../upstream/provider-call.js';
import type { QualifiedModel } from '../model-id.js';
import type { RouterContext } from '../router-context.js';
import { RouterError } from '../router-error.js';
import type { RouterCaller } from './authorize-proxy.js';

const SCOPE_NAME = { org: 'an organization', team: 'a team' } as const;

/** The failover candidates for this call, refusing `uses` unless the keys are personal. */
export async function resolveKeysForCall(
  router: RouterContext,
  caller: RouterCaller,
  qualified: QualifiedModel,
  uses: readonly AccountStateUse[] = [],
): Promise<UsableProviderKey[]> {
  const keys = await resolveProviderKey(router.keys, { organizationId: caller.organizationId, provider: qualified.provider, caller: caller.keyCaller });
  // Candidates are all of the best rank, so the first key's scope is every candidate's.
  const scope = keys[0]!.scope;
  const use = uses[0];
  if (use && scope !== 'personal') {
    throw RouterError.invalid(
      `'${use.param}' is refused with ${SCOPE_NAME[scope]} ${qualified.adapter.displayName} key: ${use.reason}, ` +
        `which every user of that key shares. It works only with a personal key of your own (keyward key add --scope personal).`,
      use.param,
      'shared_key_account_state',
    );
  }
  // Keys that just failed go behind the others of their rank (keys/key-cooldowns.ts).
  return router.cooldowns.order(keys);
}

/**
 * Every provider call of every route starts here: the meter learns provider and model, the keys
 * are resolved (shared-key rule, rested keys last), and failover, errors and metering follow from
 * the ProviderCall — translated chat, the native Anthropic passthrough, token counts, embeddings.
 */
export async function openProviderCall(
  router: RouterContext,
  caller: RouterCaller,
  qualified: QualifiedModel,
  context: { meter: UsageMeter; signal: UpstreamSignal },
  uses?: readonly AccountStateUse[],
): Promise<ProviderCall> {
  context.meter.provider = qualified.provider;
  context.meter.model = qualified.model;
  const keys = await resolveKeysForCall(router, caller, qualified, uses);
  return { adapter: qualified.adapter, keys, signal: context.signal, meter: context.meter, log: router.app.log, cooldowns: router.cooldowns };
}
