import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Secrets the control plane must use in clear later (a BMC's password), unlike the agents' credentials,
 * which are only compared and so are stored hashed (fabric/secrets.ts). Sealed with AES-256-GCM under a
 * 32-byte key the API derives from its own secret: `v1.<iv>.<tag>.<ciphertext>`, base64url. The tag
 * makes a tampered or wrong-key value fail to open instead of opening as garbage.
 */
const VERSION = 'v1';

export function sealSecret(plain: string, key: Buffer): string {
  if (key.length !== 32) throw new Error('a sealing key is 32 bytes');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return [
    VERSION,
    iv.toString('base64url'),
    cipher.getAuthTag().toString('base64url'),
    body.toString('base64url'),
  ].join('.');
}

/** The sealed secret in clear; throws when it was sealed under another key or changed. */
export function openSealedSecret(sealed: string, key: Buffer): string {
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== VERSION || iv === undefined || tag === undefined || body === undefined) {
    throw new Error('not a sealed secret');
  }
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}
