// Ending a grant: its row, every token and code it issued, and (through the revocation set and the
// change feed) its access tokens at every router. One path for every reason a grant ends.

import type { AppContext } from '../app-context.js';
import type { RevocationState } from './resource-server.js';
import './tables.js';

/** Ends a grant: its row, every token and code it issued, and its access tokens at the router. */
export async function revokeGrant(ctx: AppContext, revocations: RevocationState, grantId: string): Promise<void> {
  await ctx.db.deleteFrom('oauth_payloads').where('grant_id', '=', grantId).execute();
  await ctx.db.deleteFrom('oauth_payloads').where('model', '=', 'Grant').where('id', '=', grantId).execute();
  await revocations.revokeGrant(grantId);
}
