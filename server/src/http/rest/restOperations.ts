import type { IamErrorCode } from '@iam/shared';

/**
 * Who may call an operation, as the procedure decides it: nothing, a Bearer access token, a
 * Bearer token with a step-up token in the body, the refresh cookie, or a Bearer token and/or
 * the refresh cookie.
 */
export type RestAuth = 'public' | 'bearer' | 'stepUp' | 'refreshCookie' | 'bearerOrCookie';

/** The named result shapes of the document (components/schemas); others are any JSON value. */
export type RestResult = 'SignInResult' | 'AuthResult' | 'VerificationRequired' | 'PublicUser';

export interface RestOperation {
  /** The tRPC procedure it calls, e.g. `auth.login`; also its `operationId`. */
  procedure: string;
  summary: string;
  auth: RestAuth;
  /** Refusals particular to the operation, besides those every call and its auth kind may meet. */
  errors: IamErrorCode[];
  result?: RestResult;
}

/**
 * Every procedure a client without the TypeScript client needs, served under `/api/v1`. The
 * service-to-service (`bff.*`), admin and social sign-in procedures stay on `/trpc` only.
 */
export const restOperations: readonly RestOperation[] = [
  op(
    'auth.signup',
    'Create an account and mail a verification code',
    'public',
    [
      'EMAIL_DISPOSABLE',
      'EMAIL_DOMAIN_INVALID',
      'PASSWORD_TOO_WEAK',
      'PASSWORD_BREACHED',
      'XSS_DETECTED',
      'BOT_CHECK_REQUIRED',
      'RATE_LIMITED',
      'MAIL_UNAVAILABLE',
    ],
    'VerificationRequired',
  ),
  op(
    'auth.verifyEmail',
    'Verify the address with the mailed code or link; signs in',
    'public',
    [
      'CHALLENGE_INVALID',
      'CODE_INVALID',
      'CHALLENGE_EXHAUSTED',
      'LINK_INVALID',
      'PASSWORD_REQUIRED',
      'PASSWORD_TOO_WEAK',
      'PASSWORD_BREACHED',
      'RATE_LIMITED',
    ],
    'AuthResult',
  ),
  op(
    'auth.login',
    'Sign in with email and password',
    'public',
    ['INVALID_CREDENTIALS', 'USER_DISABLED', 'BOT_CHECK_REQUIRED', 'RATE_LIMITED', 'MAIL_UNAVAILABLE'],
    'SignInResult',
  ),
  op('auth.logout', 'Sign out: revoke the session and clear its cookies', 'bearerOrCookie', []),
  op('auth.me', 'The signed-in user', 'bearer', ['USER_DISABLED'], 'PublicUser'),
  op('auth.requestPasswordReset', 'Mail a password reset link', 'public', ['BOT_CHECK_REQUIRED', 'RATE_LIMITED']),
  op('auth.resetPassword', 'Set a new password with a reset link token', 'public', [
    'LINK_INVALID',
    'PASSWORD_TOO_WEAK',
    'PASSWORD_BREACHED',
    'RATE_LIMITED',
  ]),
  op('auth.changePassword', 'Change the password', 'bearer', [
    'INVALID_CREDENTIALS',
    'PASSWORD_TOO_WEAK',
    'PASSWORD_BREACHED',
    'RATE_LIMITED',
  ]),
  op('auth.setPassword', 'Give a password to an account without one', 'stepUp', ['PASSWORD_TOO_WEAK', 'PASSWORD_BREACHED', 'RATE_LIMITED']),
  op('auth.updateProfile', 'Change the display name', 'bearer', ['XSS_DETECTED', 'RATE_LIMITED']),
  op('auth.requestEmailChange', 'Mail a confirmation link to a new address', 'stepUp', [
    'EMAIL_DISPOSABLE',
    'EMAIL_DOMAIN_INVALID',
    'RATE_LIMITED',
    'MAIL_UNAVAILABLE',
  ]),
  op('auth.confirmEmailChange', 'Confirm an address change with its link token', 'public', ['LINK_INVALID', 'RATE_LIMITED']),
  op('auth.exportData', 'Everything the service holds about the user', 'bearer', ['RATE_LIMITED']),
  op('auth.activity', "The user's own security events, newest first, a page at a time", 'bearer', []),
  op('auth.deleteAccount', 'Delete the account', 'stepUp', ['RATE_LIMITED']),
  op('auth.requestSignIn', 'Mail a sign-in code and link (passwordless)', 'public', ['BOT_CHECK_REQUIRED', 'RATE_LIMITED']),
  op(
    'auth.signInWithCode',
    'Sign in with the mailed code',
    'public',
    ['CHALLENGE_INVALID', 'CODE_INVALID', 'CHALLENGE_EXHAUSTED', 'RATE_LIMITED'],
    'SignInResult',
  ),
  op('auth.signInWithLink', 'Sign in with the mailed link token', 'public', ['LINK_INVALID', 'RATE_LIMITED'], 'SignInResult'),
  op(
    'session.refresh',
    'Rotate the refresh cookie and issue a new access token',
    'refreshCookie',
    ['REFRESH_TOKEN_INVALID', 'REFRESH_TOKEN_REUSED', 'RATE_LIMITED', 'MAIL_UNAVAILABLE'],
    'SignInResult',
  ),
  op('session.list', "The user's live sessions", 'bearer', []),
  op('session.revoke', 'Revoke one of the user’s sessions', 'bearer', ['NOT_FOUND']),
  op('session.revokeAll', 'Revoke every other session (or all of them)', 'bearer', []),
  op('session.notMe', 'Report a sign-in as not yours, with the link of its notice', 'public', ['LINK_INVALID', 'RATE_LIMITED']),
  op(
    'mfa.verify',
    'Answer a sign-in challenge (code, backup code or passkey)',
    'public',
    ['CHALLENGE_INVALID', 'CODE_INVALID', 'CHALLENGE_EXHAUSTED', 'PASSKEY_INVALID', 'RATE_LIMITED'],
    'AuthResult',
  ),
  op('mfa.resend', 'Mail a new code for a challenge', 'public', [
    'CHALLENGE_INVALID',
    'CHALLENGE_EXHAUSTED',
    'RATE_LIMITED',
    'MAIL_UNAVAILABLE',
  ]),
  op('mfa.consumeLink', 'Answer a sign-in challenge with its mailed link', 'public', ['LINK_INVALID', 'RATE_LIMITED'], 'AuthResult'),
  op('mfa.totp.begin', 'Start enrolling an authenticator app', 'bearer', ['TOTP_ALREADY_ENABLED', 'RATE_LIMITED']),
  op('mfa.totp.confirm', 'Finish enrolling an authenticator app; returns backup codes', 'bearer', [
    'CODE_INVALID',
    'TOTP_ALREADY_ENABLED',
    'RATE_LIMITED',
  ]),
  op('mfa.totp.disable', 'Remove the authenticator app', 'stepUp', ['CODE_INVALID', 'RATE_LIMITED']),
  op('mfa.stepUp.begin', 'Start a step-up for a sensitive action', 'bearer', ['RATE_LIMITED', 'MAIL_UNAVAILABLE']),
  op('mfa.stepUp.verify', 'Answer a step-up challenge; returns a step-up token', 'bearer', [
    'CHALLENGE_INVALID',
    'CODE_INVALID',
    'CHALLENGE_EXHAUSTED',
    'PASSKEY_INVALID',
    'RATE_LIMITED',
  ]),
  op('passkey.registrationOptions', 'WebAuthn options to register a passkey', 'bearer', ['STEP_UP_REQUIRED', 'RATE_LIMITED']),
  op('passkey.register', 'Register a passkey with the authenticator’s response', 'bearer', [
    'PASSKEY_INVALID',
    'XSS_DETECTED',
    'RATE_LIMITED',
  ]),
  op('passkey.authenticationOptions', 'WebAuthn options to sign in with a passkey', 'public', ['CHALLENGE_INVALID', 'RATE_LIMITED']),
  op('passkey.signIn', 'Sign in with a passkey', 'public', ['PASSKEY_INVALID', 'RATE_LIMITED'], 'SignInResult'),
  op('passkey.list', "The user's passkeys", 'bearer', []),
  op('passkey.rename', 'Rename a passkey', 'bearer', ['NOT_FOUND', 'XSS_DETECTED', 'RATE_LIMITED']),
  op('passkey.remove', 'Remove a passkey', 'stepUp', ['NOT_FOUND', 'LAST_SIGN_IN_METHOD', 'RATE_LIMITED']),
  op('apiKeys.create', 'Create an API key for your own scripts (shown once)', 'bearer', [
    'API_KEY_LIMIT_REACHED',
    'XSS_DETECTED',
    'RATE_LIMITED',
  ]),
  op('apiKeys.list', "The user's API keys", 'bearer', []),
  op('apiKeys.revoke', 'Revoke an API key', 'bearer', ['NOT_FOUND', 'RATE_LIMITED']),
];

function op(procedure: string, summary: string, auth: RestAuth, errors: IamErrorCode[], result?: RestResult): RestOperation {
  return { procedure, summary, auth, errors, ...(result ? { result } : {}) };
}

/** `auth.login` → `/api/v1/auth/login`, relative to where the service is mounted. */
export function restPathOf(procedure: string): string {
  return `/api/v1/${procedure.replaceAll('.', '/')}`;
}

/** The refusals any call of this auth kind may meet, besides its own. */
export function authErrorsOf(auth: RestAuth): IamErrorCode[] {
  const bearer: IamErrorCode[] = ['UNAUTHENTICATED', 'TOKEN_EXPIRED', 'SESSION_REVOKED'];
  if (auth === 'bearer' || auth === 'bearerOrCookie') return bearer;
  if (auth === 'stepUp') return [...bearer, 'STEP_UP_REQUIRED'];
  return [];
}

/** What every call may meet: bad input, an IP block, an unavailable database, the unexpected. */
export const commonErrors: readonly IamErrorCode[] = ['INVALID_INPUT', 'IP_BLOCKED', 'SERVICE_UNAVAILABLE', 'INTERNAL'];
