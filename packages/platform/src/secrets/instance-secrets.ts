// Secrets Keyward needs but nobody has to configure. The data-encryption key comes from
// KEYWARD_ENCRYPTION_KEY or a 0600 file under the data dir (it cannot live in the database it
// protects). Everything else (cookie keys, OAuth signing keys) lives in the database sealed
// under it, so every instance sharing the database and the key shares them too.

import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { SealedBox } from './sealed-box.js';

export const ENCRYPTION_KEY_FILE = 'encryption.key';

export class SecretsError extends Error {
  override name = 'SecretsError';
}

export async function loadEncryptionKey(options: { encryptionKey?: string | undefined; dataDir: string }): Promise<Buffer> {
  if (options.encryptionKey) {
    const key = Buffer.from(options.encryptionKey, 'base64');
    if (key.length !== 32) throw new SecretsError('KEYWARD_ENCRYPTION_KEY must be 32 bytes, base64-encoded (openssl rand -base64 32)');
    return key;
  }
  const file = join(options.dataDir, ENCRYPTION_KEY_FILE);
  try {
    const key = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
    if (key.length !== 32) throw new SecretsError(`${file} does not hold a 32-byte base64 key`);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  // `wx`: two processes starting at once must not overwrite each other's key.
  try {
    await writeFile(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadEncryptionKey(options);
    throw error;
  }
  await chmod(file, 0o600);
  return key;
}

/**
 * A named secret shared through the database; created by the first instance that asks. The
 * generator runs at most once per name across all instances (insert-if-absent, then re-read).
 */
export async function sharedSecret(
  db: Kysely<Database>,
  box: SealedBox,
  name: string,
  generate: () => string | Promise<string>,
): Promise<string> {
  const existing = await db.selectFrom('instance_secrets').select('value_sealed').where('name', '=', name).executeTakeFirst();
  if (existing) return box.open(existing.value_sealed, name);
  const value = await generate();
  await db
    .insertInto('instance_secrets')
    .values({ name, value_sealed: box.seal(value, name), created_at: Date.now() })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const stored = await db.selectFrom('instance_secrets').select('value_sealed').where('name', '=', name).executeTakeFirstOrThrow();
  try {
    return box.open(stored.value_sealed, name);
  } catch {
    throw new SecretsError(
      `the stored secret "${name}" cannot be decrypted: this instance's data-encryption key differs from the one that created the database`,
    );
  }
}

export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
