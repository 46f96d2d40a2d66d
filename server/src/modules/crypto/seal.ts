import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { secureRandomBytes } from './random';

/**
 * AES-256-GCM sealing with keys derived by HKDF-SHA256 (RFC 5869). A sealed value is
 * `v1.<iv>.<ciphertext>.<tag>` in base64url; the purpose is bound as associated data, so a
 * value sealed for one purpose never opens for another.
 */
const version = 'v1';

export function deriveKey(secret: Uint8Array | string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `iam:${purpose}`, 32));
}

export function seal(key: Uint8Array, plaintext: string, purpose: string): string {
  const iv = secureRandomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(purpose, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [version, iv.toString('base64url'), ciphertext.toString('base64url'), tag.toString('base64url')].join('.');
}

/** Opens a sealed value; `null` when it was sealed under another key or purpose, or altered. */
export function open(key: Uint8Array, sealed: string, purpose: string): string | null {
  const [v, iv, ciphertext, tag] = sealed.split('.');
  if (v !== version || iv === undefined || ciphertext === undefined || tag === undefined) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(purpose, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
