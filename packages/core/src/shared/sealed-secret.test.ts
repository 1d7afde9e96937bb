import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openSealedSecret, sealSecret } from './sealed-secret';

describe('sealed secrets', () => {
  const key = randomBytes(32);

  it('opens what it sealed, and never holds the secret in clear', () => {
    const sealed = sealSecret('hunter2-päss', key);
    expect(sealed).not.toContain('hunter2');
    expect(openSealedSecret(sealed, key)).toBe('hunter2-päss');
    // A fresh IV each time: the same password twice is two different values.
    expect(sealSecret('hunter2-päss', key)).not.toBe(sealed);
  });

  it('refuses another key, a changed value and something that is not sealed', () => {
    const sealed = sealSecret('secret', key);
    expect(() => openSealedSecret(sealed, randomBytes(32))).toThrow();
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3] as string, 'base64url');
    body[0] = (body[0] ?? 0) ^ 1;
    expect(() => openSealedSecret([parts[0], parts[1], parts[2], body.toString('base64url')].join('.'), key)).toThrow();
    expect(() => openSealedSecret('secret', key)).toThrow('not a sealed secret');
  });
});
