/** Where the client keeps the access token: memory only, never storage a script could read later. */
export interface AccessTokenStore {
  get(): string | null;
  set(token: string | null, expiresAt?: Date): void;
  /** When the current token expires, if known. */
  expiresAt(): Date | null;
}

export function createAccessTokenStore(): AccessTokenStore {
  let token: string | null = null;
  let expiry: Date | null = null;
  return {
    get: () => token,
    set(next, expiresAt) {
      token = next;
      expiry = next ? (expiresAt ?? null) : null;
    },
    expiresAt: () => expiry,
  };
}
