// Browser sessions: a random cookie value; the database keeps only its SHA-256.

import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export const hashSessionId = (value: string) => createHash('sha256').update(value).digest('base64url');

export async function createSession(db: Kysely<Database>, userId: string, ttlSeconds: number): Promise<string> {
  const value = randomBytes(32).toString('base64url');
  const now = Date.now();
  await db
    .insertInto('sessions')
    .values({ id_hash: hashSessionId(value), user_id: userId, created_at: now, expires_at: now + ttlSeconds * 1000 })
    .execute();
  return value;
}

export async function findSessionUser(db: Kysely<Database>, value: string | undefined) {
  if (!value || value.length > 100) return undefined;
  return db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    // created_at is when this person last proved who they are here (signed in, or changed their password).
    .select(['users.id', 'users.email', 'sessions.expires_at', 'sessions.created_at as signed_in_at'])
    .where('sessions.id_hash', '=', hashSessionId(value))
    .where('sessions.expires_at', '>', Date.now())
    .where('users.disabled_at', 'is', null)
    .executeTakeFirst();
}

export async function deleteSession(db: Kysely<Database>, value: string | undefined): Promise<void> {
  if (!value) return;
  await db.deleteFrom('sessions').where('id_hash', '=', hashSessionId(value)).execute();
}

export async function deleteExpiredSessions(db: Kysely<Database>, now = Date.now()): Promise<void> {
  await db.deleteFrom('sessions').where('expires_at', '<=', now).execute();
}
