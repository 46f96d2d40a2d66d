/**
 * Security events (docs/api.md, webhooks): what a receiver may subscribe to, and the facts each
 * carries. Ids and facts only: never a secret, a token, a code, an address of the network or a
 * place. `userId` is added to every event's data by `emitSecurityEvent`.
 */
export const securityEventTypes = [
  'user.created',
  'user.disabled',
  'user.enabled',
  'user.deleted',
  'session.revoked',
  'session.reuse_detected',
  'session.challenged',
  'mfa.changed',
  'password.changed',
  'passkey.added',
  'passkey.removed',
] as const;

export type SecurityEventType = (typeof securityEventTypes)[number];

/** The data of each event, besides `userId`. */
export interface SecurityEventData {
  /**
   * An account was made: by a password sign-up (not verified yet: the address is proven when
   * its code is used) or by a first social sign-in (the provider vouched for the address). The
   * only event with an email address, so a receiver can provision the account without calling
   * back; dropped from a message still queued when the account is deleted.
   */
  'user.created': {
    email: string;
    emailVerified: boolean;
    method: 'password' | 'oauth' | 'scim';
    provider?: string;
    organizationId?: string;
  };
  /** An administrator disabled the account (`reason`: the administrator's note, or null), or an organization's SCIM deprovisioning did. */
  'user.disabled': { reason: string | null };
  'user.enabled': Record<string, never>;
  /** The account was erased (`by` the user themself, or an administrator); every session ended with it. */
  'user.deleted': { by: 'user' | 'admin' };
  /** A session ended before its time: `reason` as in `session.list` (logout, user, password_change, refresh_reuse, admin…). */
  'session.revoked': { sessionId: string; reason: string };
  /** A rotated refresh token came back: the session was revoked (its `session.revoked` comes with it). */
  'session.reuse_detected': { sessionId: string };
  /**
   * Tokens were withheld until a challenge is answered: a sign-in (`method`: password, oauth,
   * passkey, email_code, email_link) or a refresh of `sessionId`. `factor` is what was asked:
   * `totp` (an enrolled authenticator is always asked; reasons start with `totp_enrolled`) or
   * `email` (a mailed code or link); `reasons` are the sign-in checks' findings.
   */
  'session.challenged': {
    flow: 'sign_in' | 'refresh';
    factor: 'totp' | 'email';
    reasons: string[];
    method?: string;
    sessionId?: string;
  };
  /** The authenticator app was turned on or off (`factor: 'all'`: an administrator removed every second factor). */
  'mfa.changed': { factor: 'totp' | 'all'; enabled: boolean };
  /** `method`: changed knowing the old one, reset from a mailed link, or set on an account that had none. */
  'password.changed': { method: 'change' | 'reset' | 'set' };
  'passkey.added': { passkeyId: string };
  'passkey.removed': { passkeyId: string };
}

/** One event as a flow emits it: its type, whose account, and its data. */
export type SecurityEvent = {
  [Type in SecurityEventType]: { type: Type; userId: string; data: SecurityEventData[Type] };
}[SecurityEventType];
