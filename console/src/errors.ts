import { iamCodeOf } from '@iam/client';

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
