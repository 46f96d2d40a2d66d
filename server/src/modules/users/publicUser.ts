import type { UserRow } from '../../db/tables';

/** What a client may see of a user (docs/api.md `PublicUser`). */
export interface PublicUser {
  id: string;
  email: string;
  name: string | null;
  emailVerified: boolean;
  roles: string[];
  mfa: { totp: boolean; passkeys: number };
  /** A user who can sign in is never disabled. */
  disabled: false;
  createdAt: Date;
}

export function toPublicUser(user: UserRow): PublicUser {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    emailVerified: user.emailVerifiedAt !== null,
    roles: user.roles,
    mfa: { totp: user.totpEnabledAt !== null, passkeys: user.passkeyCount },
    disabled: false,
    createdAt: user.createdAt,
  };
}
