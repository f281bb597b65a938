// Step 2 of the data flow: may this principal use this proxy, and as whom does it pick keys.
// Org proxies serve every member of the organization, team proxies the team's members, personal
// proxies their owner; a user token bound to one proxy works only there. A client-credentials
// client uses only its listed proxies.

import type { KeyCaller } from '../../keys/resolve-provider-key.js';
import type { Principal } from '../../oauth/principal.js';
import type { LlmProxy } from '../../proxies/llm-proxies.js';
import { RouterError } from '../router-error.js';
import type { RouterDirectory, UserAccess } from './router-directory.js';

/** An authenticated, authorized caller of one proxy. */
export interface RouterCaller {
  principal: Principal;
  proxy: LlmProxy;
  organizationId: string;
  keyCaller: KeyCaller;
}

function userMayUse(proxy: LlmProxy, access: UserAccess): boolean {
  if (access.disabled || !access.organizationIds.has(proxy.organization_id)) return false;
  if (proxy.scope === 'team') return proxy.team_id !== null && access.teamIds.has(proxy.team_id);
  if (proxy.scope === 'personal') return proxy.user_id === access.userId;
  return true;
}

/** `fresh`: read the user's access from the database (a running call checked again after a change). */
export async function authorizeProxy(directory: RouterDirectory, principal: Principal, proxy: LlmProxy, fresh = false): Promise<RouterCaller> {
  if (principal.kind === 'client') {
    if (!principal.proxyIds.includes(proxy.id) || principal.organizationId !== proxy.organization_id) {
      throw RouterError.forbidden('This client is not allowed to use this LLM proxy.');
    }
    return { principal, proxy, organizationId: proxy.organization_id, keyCaller: { kind: 'client', keyIds: principal.keyIds } };
  }
  if (principal.boundProxyId && principal.boundProxyId !== proxy.id) {
    throw RouterError.forbidden('This access token was issued for a different LLM proxy.');
  }
  let access = await directory.userAccess(principal.userId, fresh);
  // A refusal from the cache is checked against the database: the user may have just been added.
  if (!fresh && !userMayUse(proxy, access)) access = await directory.userAccess(principal.userId, true);
  if (access.disabled) throw RouterError.forbidden('Your Keyward account is disabled; an administrator can enable it again.', 'account_disabled');
  if (!userMayUse(proxy, access)) throw RouterError.forbidden('You are not allowed to use this LLM proxy.');
  return {
    principal,
    proxy,
    organizationId: proxy.organization_id,
    keyCaller: { kind: 'user', userId: principal.userId, teamIds: access.teamIds },
  };
}
