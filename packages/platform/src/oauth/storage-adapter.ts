// oidc-provider's storage on our Kysely database (SQLite and PostgreSQL alike). One table keyed by
// (model, id) holds every model but clients, which live in oauth_clients. `consume` is one
// conditional UPDATE, and the one that changes no row lost a race: it is refused as a replay.

import { decodeJwt } from 'jose';
import type { Kysely } from 'kysely';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Database } from '../db/schema.js';
import './tables.js';

export interface GrantRevocationSink {
  /** A grant ended (user revoked, refresh-token or code replay): tell the router everywhere. `owner` when the Grant itself was destroyed. */
  grantRevoked(grantId: string, owner?: { accountId: string; clientId: string }): Promise<void>;
  /** A code or refresh token was consumed twice at once: end its grant, as a replay seen in order does. */
  replayDetected(grantId: string): Promise<void>;
}

/**
 * What oidc-provider answers when it reads an already consumed entity itself; a consume that lost
 * the race answers the same, since oidc-provider decided "not consumed yet" from an earlier read.
 */
const alreadyConsumed = (model: string): Error => {
  if (model === 'AuthorizationCode') return new errors.InvalidGrant('authorization code already consumed');
  if (model === 'RefreshToken') return new errors.InvalidGrant('refresh token already used');
  if (model === 'PushedAuthorizationRequest') return new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used');
  return new errors.InvalidGrant('grant source already consumed');
};

/**
 * oidc-provider checks expiry itself; an expired device code is kept this long past it so a CLI
 * still polling hears `expired_token` (RFC 8628 §3.5) and the /device page says "expired".
 */
const EXPIRED_DEVICE_CODE_KEPT_SECONDS = 10 * 60;

type ClientRowLoader = (clientId: string) => Promise<AdapterPayload | undefined>;
type ClientRowSaver = (clientId: string, metadata: AdapterPayload) => Promise<void>;

/**
 * The app a payload belongs to: tokens, codes and grants name it as `clientId`, an authorization
 * under way (Interaction) in its parameters, a pushed authorization request (PAR) only inside its
 * request object (oidc-provider stores the pushed parameters as a JWT, which must name the
 * client: RFC 9126 §2.1 for a signed one, `iss` for the unsigned one it makes of plain
 * parameters). Kept in its own column so that an app with anything alive is never taken for
 * unused (unused-apps.ts).
 */
function clientIdOf(payload: AdapterPayload): string | null {
  if (typeof payload.clientId === 'string') return payload.clientId;
  const params = payload.params as { client_id?: unknown } | undefined;
  if (typeof params?.client_id === 'string') return params.client_id;
  if (typeof payload.request === 'string') return requestObjectClientId(payload.request);
  return null;
}

function requestObjectClientId(request: string): string | null {
  try {
    const claims = decodeJwt(request);
    const clientId = claims.client_id ?? claims.iss;
    return typeof clientId === 'string' ? clientId : null;
  } catch {
    // oidc-provider validated it before storing; a row that names no app merely protects none.
    return null;
  }
}

export function createAdapterFactory(
  db: Kysely<Database>,
  hooks: GrantRevocationSink & { findClient: ClientRowLoader; saveClient: ClientRowSaver },
) {
  return class KyselyAdapter implements Adapter {
    constructor(readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (this.model === 'Client') return hooks.saveClient(id, payload);
      const row = {
        model: this.model,
        id,
        payload: JSON.stringify(payload),
        grant_id: payload.grantId ?? null,
        uid: payload.uid ?? null,
        user_code: payload.userCode ?? null,
        account_id: this.model === 'Grant' ? (payload.accountId ?? null) : null,
        client_id: clientIdOf(payload),
        expires_at: expiresIn ? Date.now() + (expiresIn + (this.model === 'DeviceCode' ? EXPIRED_DEVICE_CODE_KEPT_SECONDS : 0)) * 1000 : null,
        consumed_at: null,
      };
      await db
        .insertInto('oauth_payloads')
        .values({ ...row, last_used_at: null })
        .onConflict((oc) =>
          oc.columns(['model', 'id']).doUpdateSet({
            payload: row.payload,
            grant_id: row.grant_id,
            uid: row.uid,
            user_code: row.user_code,
            account_id: row.account_id,
            client_id: row.client_id,
            expires_at: row.expires_at,
          }),
        )
        .execute();
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') return hooks.findClient(id);
      if (id.length > 200) return undefined;
      return this.read(db.selectFrom('oauth_payloads').selectAll().where('model', '=', this.model).where('id', '=', id));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.read(db.selectFrom('oauth_payloads').selectAll().where('model', '=', this.model).where('uid', '=', uid));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.read(db.selectFrom('oauth_payloads').selectAll().where('model', '=', this.model).where('user_code', '=', userCode));
    }

    async consume(id: string): Promise<void> {
      const { numUpdatedRows } = await db
        .updateTable('oauth_payloads')
        .set({ consumed_at: Date.now() })
        .where('model', '=', this.model)
        .where('id', '=', id)
        .where('consumed_at', 'is', null)
        .executeTakeFirst();
      if (numUpdatedRows > 0n) return;
      // Consumed (or its grant ended) between oidc-provider's read and this write: a replay.
      const row = await db.selectFrom('oauth_payloads').select('grant_id').where('model', '=', this.model).where('id', '=', id).executeTakeFirst();
      if (row?.grant_id) await hooks.replayDetected(row.grant_id);
      throw alreadyConsumed(this.model);
    }

    async destroy(id: string): Promise<void> {
      const grant = this.model === 'Grant' ? await db.selectFrom('oauth_payloads').select(['account_id', 'client_id']).where('model', '=', 'Grant').where('id', '=', id).executeTakeFirst() : undefined;
      await db.deleteFrom('oauth_payloads').where('model', '=', this.model).where('id', '=', id).execute();
      if (this.model === 'Grant') await hooks.grantRevoked(id, grant?.account_id && grant.client_id ? { accountId: grant.account_id, clientId: grant.client_id } : undefined);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db.deleteFrom('oauth_payloads').where('model', '=', this.model).where('grant_id', '=', grantId).execute();
      await hooks.grantRevoked(grantId);
    }

    private async read(query: {
      executeTakeFirst(): Promise<{ payload: string; expires_at: number | null; consumed_at: number | null } | undefined>;
    }): Promise<AdapterPayload | undefined> {
      const row = await query.executeTakeFirst();
      if (!row) return undefined;
      if (row.expires_at !== null && row.expires_at <= Date.now()) return undefined;
      const payload = JSON.parse(row.payload) as AdapterPayload;
      if (row.consumed_at !== null) payload.consumed = Math.floor(row.consumed_at / 1000);
      return payload;
    }
  };
}

/** Deletes rows past their expiry (and revoked-grant entries whose tokens are all dead). */
export async function pruneExpired(db: Kysely<Database>): Promise<void> {
  const now = Date.now();
  await db.deleteFrom('oauth_payloads').where('expires_at', '<=', now).execute();
  await db.deleteFrom('oauth_revoked_grants').where('keep_until', '<=', now).execute();
}
