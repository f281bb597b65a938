// AES-256-GCM with a random 96-bit nonce per message. Format: `v1.<nonce>.<ciphertext+tag>`
// in base64url, so a sealed value is plain text in either database engine.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';

export class SealedBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('the data-encryption key must be 32 bytes');
    this.#key = key;
  }

  /** `context` binds the ciphertext to its row (e.g. the key id) so sealed values cannot be swapped. */
  seal(plaintext: string, context = ''): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${nonce.toString('base64url')}.${body.toString('base64url')}`;
  }

  open(sealed: string, context = ''): string {
    const [version, nonceText, bodyText] = sealed.split('.');
    if (version !== VERSION || !nonceText || !bodyText) throw new Error('not a sealed value');
    const body = Buffer.from(bodyText, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(nonceText, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - 16));
    return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8');
  }
}
