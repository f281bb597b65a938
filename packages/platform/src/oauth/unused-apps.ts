// Self-registered apps that nobody ever used are deleted once they are old enough. Open dynamic
// client registration is an unauthenticated write (limited per IP, not in total), so without this
// every registration — an app that was tried once and abandoned, a script registering on every
// run, a flood — would stay forever, and the console's app list with it.
//
// "Never used" means the app left nothing behind that anyone could miss: no OAuth row names it
// (grant, token, code, device code, an authorization under way; its own registration access
// token does not count), no usage record, no spending limit. An app someone connected keeps its
// grant; one that made calls keeps its usage history forever. Administrators' clients
// (confidential) and apps an administrator blocked are never deleted. An app that comes back
// after being deleted is told `invalid_client`, and registers again.

import { setImmediate as nextTurn } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { SELF_REGISTERED_CLIENT_ID_PREFIX } from './clients.js';

/** Apps looked at (and at most deleted) per statement: each statement is short, and other work runs between them. */
const BATCH = 500;

/** What registration gave the app to read its own registration with: not a use of it. */
const REGISTRATION_ACCESS_TOKEN = 'RegistrationAccessToken';

/**
 * Deletes self-registered apps created before `now - unusedForMs` that were never used; returns
 * how many. It walks the old apps in order of registration, BATCH at a time from where the last
 * stretch ended, through the index: each statement looks at BATCH apps, and the apps kept
 * (connected, used) are looked at once a run. Asked as one statement ("the first BATCH unused
 * apps"), PostgreSQL read every app and every OAuth row for each batch, and SQLite walked again
 * every kept app before the batch: 100,000 kept and 100,000 abandoned apps, interleaved, took
 * 70 s on PostgreSQL (a quarter of a second a batch, growing with the tables, toward the
 * statement timeout) and 12 s on SQLite; 4 s and 2 s now.
 *
 * Each delete decides again as it deletes, so instances running this together delete each app
 * once, and an app used before the statement starts is kept. (An app old enough whose very first
 * authorization is written while the statement runs, on PostgreSQL, can still go: it is told
 * `invalid_client` at the token endpoint, registers again, and its user connects it again.)
 */
export async function pruneUnusedApps(db: Kysely<Database>, unusedForMs: number, now = Date.now()): Promise<number> {
  const createdBefore = now - unusedForMs;
  let deleted = 0;
  let after: { created_at: number; client_id: string } | undefined;
  for (;;) {
    const from = after;
    const stretch = await db
      .selectFrom('oauth_clients')
      .select(['created_at', 'client_id'])
      .where('kind', '=', 'public')
      .where('disabled_at', 'is', null)
      .where('created_at', '<', createdBefore)
      .$if(from !== undefined, (qb) => qb.where(sql<boolean>`(created_at, client_id) > (${from!.created_at}, ${from!.client_id})`))
      .orderBy('created_at')
      .orderBy('client_id')
      .limit(BATCH)
      .execute();
    if (stretch.length === 0) return deleted;
    const ids = stretch.map((row) => row.client_id);
    deleted += await db.transaction().execute(async (trx) => {
      const gone = await sql<{ client_id: string }>`
        delete from oauth_clients
        where client_id in (${sql.join(ids)})
          and kind = 'public' and disabled_at is null and created_at < ${createdBefore}
          and substr(client_id, 1, ${SELF_REGISTERED_CLIENT_ID_PREFIX.length}) = ${SELF_REGISTERED_CLIENT_ID_PREFIX}
          and not exists (select 1 from oauth_payloads p where p.client_id = oauth_clients.client_id and p.model <> ${REGISTRATION_ACCESS_TOKEN})
          and not exists (select 1 from usage_records u where u.client_id = oauth_clients.client_id)
          and not exists (select 1 from spending_limits s where s.client_id = oauth_clients.client_id)
        returning client_id`.execute(trx);
      const goneIds = gone.rows.map((row) => row.client_id);
      // Its registration access token (RFC 7592) lives as long as the app, and goes with it.
      if (goneIds.length > 0) await trx.deleteFrom('oauth_payloads').where('model', '=', REGISTRATION_ACCESS_TOKEN).where('client_id', 'in', goneIds).execute();
      return goneIds.length;
    });
    if (stretch.length < BATCH) return deleted;
    after = stretch[stretch.length - 1]!;
    await nextTurn();
  }
}
