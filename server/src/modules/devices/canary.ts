import { sha256Hex } from '../crypto/hash';

/** The canary cookie (`iam_cid`) as stored: only its hash rests in the database. */
export function canaryHash(canary: string): string {
  return sha256Hex(`canary:${canary}`);
}
