// argon2id at OWASP's recommended parameters (19 MiB, 2 passes, 1 lane).

import { hash, verify } from '@node-rs/argon2';
import { KeywardError } from '../errors.js';

const PARAMS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

// A bounded length keeps hashing from becoming a denial-of-service lever.
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 256;

const COMMON = new Set([
  'password', 'password1', 'password123', '12345678', '123456789', '1234567890', 'qwertyuiop', 'qwerty123',
  'iloveyou', 'admin123', 'administrator', 'letmein1', 'welcome1', 'changeme', 'abc12345', '11111111',
  'passw0rd', 'baseball', 'football', 'sunshine', 'princess', 'trustno1', 'superman', 'keyward1',
]);

export function checkPasswordStrength(password: string, email?: string): void {
  if (password.length < PASSWORD_MIN_LENGTH) {
    throw new KeywardError('weak_password', `password must be at least ${PASSWORD_MIN_LENGTH} characters`);
  }
  if (password.length > PASSWORD_MAX_LENGTH) {
    throw new KeywardError('weak_password', `password must be at most ${PASSWORD_MAX_LENGTH} characters`);
  }
  const lower = password.toLowerCase();
  if (COMMON.has(lower) || new Set(lower).size < 4) {
    throw new KeywardError('weak_password', 'password is too common or too repetitive; choose a longer passphrase');
  }
  const emailLower = email?.toLowerCase();
  if (emailLower && (lower === emailLower || lower === emailLower.split('@')[0])) {
    throw new KeywardError('weak_password', 'password must not be the email address');
  }
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, PARAMS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  if (password.length > PASSWORD_MAX_LENGTH) return false;
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** Verifying against this when the account does not exist keeps timing from revealing which emails are registered. */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword('keyward-timing-equaliser');
  return dummyHash;
}
