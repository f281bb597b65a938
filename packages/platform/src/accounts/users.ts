import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { KeywardError } from '../errors.js';
import type { Database, UserTable } from '../db/schema.js';
import { checkPasswordStrength, hashPassword, verifyPassword } from './passwords.js';

export type User = Pick<UserTable, 'id' | 'email' | 'created_at' | 'disabled_at'>;

const EMAIL = /^[^\s@<>"]+@[^\s@<>"]+$/;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function checkEmail(email: string): string {
  const trimmed = email.trim();
  if (!EMAIL.test(trimmed) || trimmed.length > 254) throw new KeywardError('invalid_email', `"${email}" is not an email address`);
  return trimmed;
}

export async function createUser(
  db: Kysely<Database>,
  input: { email: string; password: string },
  options: { checkStrength?: boolean } = {},
): Promise<User> {
  const email = checkEmail(input.email);
  if (options.checkStrength ?? true) checkPasswordStrength(input.password, email);
  else if (!input.password) throw new KeywardError('weak_password', 'password must not be empty');
  const existing = await findUserByEmail(db, email);
  if (existing) throw new KeywardError('duplicate_email', `a user with email ${email} already exists`, 409);
  const user = {
    id: randomUUID(),
    email,
    email_normalized: normalizeEmail(email),
    password_hash: await hashPassword(input.password),
    created_at: Date.now(),
    disabled_at: null,
  };
  try {
    await db.insertInto('users').values(user).execute();
  } catch (error) {
    // Two creations racing past the check above: the unique index decides.
    if (await findUserByEmail(db, email)) throw new KeywardError('duplicate_email', `a user with email ${email} already exists`, 409);
    throw error;
  }
  return { id: user.id, email, created_at: user.created_at, disabled_at: null };
}

export async function setUserPassword(db: Kysely<Database>, userId: string, password: string): Promise<void> {
  const user = await db.selectFrom('users').select('email').where('id', '=', userId).executeTakeFirst();
  if (!user) throw new KeywardError('not_found', `user ${userId} does not exist`, 404);
  checkPasswordStrength(password, user.email);
  await db.updateTable('users').set({ password_hash: await hashPassword(password) }).where('id', '=', userId).execute();
  // A new password ends every session signed in with the old one.
  await db.deleteFrom('sessions').where('user_id', '=', userId).execute();
}

/** A person changes their own password: the current one must match, the new one pass the same rules as everywhere. */
export async function changeOwnPassword(db: Kysely<Database>, userId: string, current: string, next: string): Promise<void> {
  const user = await db.selectFrom('users').select(['password_hash', 'email']).where('id', '=', userId).executeTakeFirst();
  if (!user) throw new KeywardError('not_found', `user ${userId} does not exist`, 404);
  if (!(await verifyPassword(user.password_hash, current))) throw new KeywardError('wrong_password', 'That is not your current password.', 400);
  if (next === current) throw new KeywardError('weak_password', 'Choose a password different from the current one.', 400);
  await setUserPassword(db, userId, next);
}

export function findUserByEmail(db: Kysely<Database>, email: string) {
  return db.selectFrom('users').selectAll().where('email_normalized', '=', normalizeEmail(email)).executeTakeFirst();
}

export function findUserById(db: Kysely<Database>, id: string) {
  return db.selectFrom('users').select(['id', 'email', 'created_at', 'disabled_at']).where('id', '=', id).executeTakeFirst();
}

export async function requireUserByEmail(db: Kysely<Database>, email: string): Promise<User> {
  const user = await findUserByEmail(db, email);
  if (!user) throw new KeywardError('user_not_found', `no user with email ${email}`, 404);
  return { id: user.id, email: user.email, created_at: user.created_at, disabled_at: user.disabled_at };
}
