import { type IdKind, idPrefixes } from '@iam/shared';
import { base32, secureRandomBytes } from './random';

/** A new public id such as `usr_…`: the kind's prefix and 128 random bits in base32. */
export function newId(kind: IdKind): string {
  return `${idPrefixes[kind]}_${base32(secureRandomBytes(16))}`;
}
