import { type BffProcedureName, bffProcedureNames } from '@iam/shared';

/** A key a service signs its requests with (`HMAC_KEYS`), and what it may call. */
export interface HmacKeyConfig {
  id: string;
  /** Used as written: the HMAC key is its UTF-8 bytes (docs/api.md). */
  secret: string;
  /** The `bff.*` procedures this key may call; default all of them. `bff.*` means all. */
  procedures?: string[];
}

/** Key ids travel in a header and in `HMAC_KEYS`: printable ASCII without `,` and `:`. */
export function isHmacKeyId(value: string): boolean {
  return value.length >= 1 && value.length <= 64 && /^[\x21-\x7e]+$/.test(value) && !/[,:]/.test(value);
}

/** `bff.*` or one of the `bff` procedures. */
export function isBffProcedurePattern(value: string): value is BffProcedureName | 'bff.*' {
  return value === 'bff.*' || (bffProcedureNames as readonly string[]).includes(value);
}

/**
 * `HMAC_KEYS`: `keyId:secret` pairs separated by commas. A secret runs from the first `:`
 * to the next `,`, so it may contain `:` but not `,`; blanks around a pair are ignored.
 * Errors name the pair's position or key id, never a secret.
 */
export function parseHmacKeys(text: string | undefined): HmacKeyConfig[] {
  if (text === undefined || text.trim() === '') return [];
  const keys: HmacKeyConfig[] = [];
  for (const [index, raw] of text.split(',').entries()) {
    const pair = raw.trim();
    if (pair === '') continue;
    const colon = pair.indexOf(':');
    if (colon <= 0) throw new Error(`pair ${index + 1} is not keyId:secret`);
    const id = pair.slice(0, colon);
    const secret = pair.slice(colon + 1);
    if (!isHmacKeyId(id)) throw new Error(`pair ${index + 1}: the key id must be 1–64 printable characters without "," or ":"`);
    if (secret === '') throw new Error(`key ${id} has an empty secret`);
    keys.push({ id, secret });
  }
  assertUniqueIds(keys);
  return keys;
}

/**
 * Applies the per-key allowlists of the config file (`hmac.keys.<id>.procedures`) to the keys
 * of `HMAC_KEYS`. A section for a key that does not exist is refused, so a typo never leaves
 * a key with more rights than meant.
 */
export function withProcedureAllowlists(
  keys: HmacKeyConfig[],
  allowlists: Record<string, { procedures: string[] }> | undefined,
): HmacKeyConfig[] {
  if (!allowlists) return keys;
  const known = new Set(keys.map((key) => key.id));
  for (const id of Object.keys(allowlists)) {
    if (!known.has(id)) throw new Error(`IAM_CONFIG_FILE hmac.keys.${id}: no such key in HMAC_KEYS`);
  }
  return keys.map((key) => {
    const allowlist = allowlists[key.id];
    return allowlist ? { ...key, procedures: [...allowlist.procedures] } : key;
  });
}

/** Checks keys given in code (library mode) as strictly as `HMAC_KEYS`; throws on a mistake. */
export function assertValidHmacKeys(keys: readonly HmacKeyConfig[]): void {
  for (const key of keys) {
    if (!isHmacKeyId(key.id)) throw new Error(`HMAC key id ${JSON.stringify(key.id)} is not valid`);
    if (typeof key.secret !== 'string' || key.secret === '') throw new Error(`HMAC key ${key.id} has no secret`);
    for (const procedure of key.procedures ?? []) {
      if (!isBffProcedurePattern(procedure)) throw new Error(`HMAC key ${key.id}: ${procedure} is not a bff procedure`);
    }
  }
  assertUniqueIds(keys);
}

function assertUniqueIds(keys: readonly HmacKeyConfig[]): void {
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key.id)) throw new Error(`HMAC key ${key.id} is listed twice`);
    seen.add(key.id);
  }
}
