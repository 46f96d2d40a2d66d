import { iamCodeOf } from '@iam/client';
import { iamErrors } from '@iam/shared';

/** What a person is told for each refusal: short, what to do next, never a stack or an internal detail. */
const messages: Partial<Record<string, string>> = {
  INVALID_CREDENTIALS: 'That email and password do not match.',
  INVALID_INPUT: 'Please check what you entered.',
  CODE_INVALID: 'That code is not right. Check it and try again.',
  CHALLENGE_INVALID: 'This step has expired. Start again.',
  CHALLENGE_EXHAUSTED: 'Too many wrong codes. Start again.',
  RATE_LIMITED: 'Too many attempts. Wait a moment and try again.',
  IP_BLOCKED: 'Too many attempts from your network. Try again later.',
  PASSWORD_TOO_WEAK: 'Choose a longer or less common password.',
  PASSWORD_BREACHED: 'This password appears in known data breaches. Choose another one.',
  EMAIL_DISPOSABLE: 'Please use a permanent email address.',
  EMAIL_DOMAIN_INVALID: 'This email domain cannot receive mail.',
  STEP_UP_REQUIRED: 'Confirm it is you to continue.',
  FORBIDDEN: 'You are not allowed to do that.',
  USER_DISABLED: 'This account is disabled.',
  UNAUTHENTICATED: 'Please sign in again.',
  PASSKEY_INVALID: 'The passkey could not be verified.',
  TOTP_ALREADY_ENABLED: 'An authenticator app is already set up.',
  LAST_SIGN_IN_METHOD: 'This is your last way to sign in: add another first.',
  NOT_FOUND: 'Not found: it may have been removed, or you are not a member.',
  LINK_INVALID: 'This link is not valid any more: it was used, replaced, revoked or has expired.',
  XSS_DETECTED: 'Markup is not allowed here: use plain text.',
  ORG_SLUG_TAKEN: 'Another organization already uses this slug. Choose another.',
  ORG_FORBIDDEN: 'Your role in this organization does not allow this.',
  ORG_ALREADY_MEMBER: 'This person is already a member of the organization.',
  ORG_INVITATION_EMAIL_MISMATCH: 'This invitation was sent to another email address. Sign in with that address to accept it.',
  ORG_OWNER_MUST_TRANSFER: 'The owner cannot leave. Transfer the ownership to another member first.',
  SSO_REQUIRED: "Your organization requires you to sign in with its single sign-on. Continue with your organization's sign-in.",
  SSO_DOMAIN_TAKEN: 'Another organization has already verified this domain.',
  SSO_DOMAIN_NOT_VERIFIED:
    'The TXT record was not found yet. Publish it at your DNS provider exactly as shown, wait a few minutes for DNS to update, and verify again.',
  SSO_DOMAIN_REFUSED:
    'This domain cannot belong to one organization: it is a public email provider (such as gmail.com), a disposable-mail domain or a public suffix (such as co.uk).',
  SSO_NO_CONNECTION:
    'Single sign-on can be required only once the organization has a working identity provider connection and at least one verified domain; otherwise its members would have no way to sign in.',
  SSO_CONNECTION_IN_USE:
    'Single sign-on is required, so this connection is the only way in for the members at the verified domains. Stop requiring single sign-on first, then delete the connection.',
  SCIM_TOKEN_LIMIT:
    'This organization already has 3 SCIM tokens in use, the most it can hold. Revoke one your identity provider no longer uses, then create a new one.',
  MAIL_UNAVAILABLE: 'We could not send mail just now. Try again in a minute.',
  SERVICE_UNAVAILABLE: 'The service is busy. Try again in a moment.',
};

export function messageOf(error: unknown): string {
  const code = iamCodeOf(error);
  if (code && messages[code]) return messages[code];
  if (error instanceof Error && error.name === 'NotAllowedError') return 'The passkey prompt was dismissed.';
  if (error instanceof Error && error.name === 'StepUpCancelled') return 'Cancelled: nothing was changed.';
  return 'Something went wrong. Try again.';
}

/** The fields a refusal names as wrong (`INVALID_INPUT`'s zod issues: paths and messages, never values). */
export function issuesOf(error: unknown): Array<{ path: string; message: string }> {
  if (iamCodeOf(error) !== 'INVALID_INPUT') return [];
  const issues = (error as { data?: { issues?: unknown } }).data?.issues;
  return Array.isArray(issues) ? (issues as Array<{ path: string; message: string }>) : [];
}

/**
 * As `messageOf`, but an `INVALID_INPUT` in the service's own words: what its schema said of each
 * field, or the reason it gave (e.g. "The issuer must be an https URL."). Neither carries a value
 * or anything internal (docs/api.md, Errors).
 */
export function explainedMessageOf(error: unknown): string {
  if (iamCodeOf(error) !== 'INVALID_INPUT') return messageOf(error);
  const issues = issuesOf(error);
  if (issues.length > 0) return [...new Set(issues.map((issue) => issue.message))].join(' ');
  if (error instanceof Error && error.message && error.message !== iamErrors.INVALID_INPUT.message) return error.message;
  return messageOf(error);
}
