// Ending a grant: its row, every token and code it issued, (through the revocation set and the
// change feed) its access tokens at every router, and the spending limit the user chose for it.

import type { AppContext } from '../app-context.js';
import { removeCapOfEndedGrant } from '../limits/app-caps.js';
import type { RevocationState } from './resource-server.js';
import './tables.js';

/** Ends a grant: its row, every token and code it issued, its access tokens at the router, and its app cap. */
export async function revokeGrant(ctx: AppContext, revocations: RevocationState, grantId: string): Promise<void> {
  const grant = await ctx.db.selectFrom('oauth_payloads').select(['account_id', 'client_id']).where('model', '=', 'Grant').where('id', '=', grantId).executeTakeFirst();
  await ctx.db.deleteFrom('oauth_payloads').where('grant_id', '=', grantId).execute();
  await ctx.db.deleteFrom('oauth_payloads').where('model', '=', 'Grant').where('id', '=', grantId).execute();
  await revocations.revokeGrant(grantId);
  // The cap binds the person's use of the app; a later consent chooses again.
  if (grant?.account_id && grant.client_id) await removeCapOfEndedGrant(ctx, { id: grantId, accountId: grant.account_id, clientId: grant.client_id });
}
