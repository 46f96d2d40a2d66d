/**
 * The machine reasons of checks and challenges, in words for people: the emails users read and
 * the pages that answer "why was I asked?" say the same.
 */
const reasonTexts: Record<string, string> = {
  canary_missing: 'The request came from a browser or app we have not seen this session on.',
  canary_mismatch: 'The request came from a different browser or device than the one you signed in on.',
  idle: 'The session had not been used for a long time.',
  too_many_sessions: 'Your account has an unusually large number of active sessions.',
  refresh_velocity: 'The session was renewed unusually often.',
  network_changed: 'The request came from a different network.',
  bot_user_agent: 'The request looked automated.',
  hosting_network: 'The request came through a hosting, VPN or proxy network.',
  fingerprint_changed: 'The browser, system or country differs from the one you signed in with.',
  impossible_travel: 'The request came from a place too far away to have travelled to since the last one.',
  new_device: 'You have not signed in from this browser or device before.',
  new_country: 'The sign-in came from a country you have not signed in from before.',
  new_network: 'The sign-in came from a network you have not signed in from before.',
  bot: 'The sign-in looked automated.',
  many_failed_attempts: 'There were many failed attempts to sign in to your account.',
  totp_enrolled: 'Your account uses an authenticator app.',
  step_up: 'You asked to do something that needs a fresh proof that it is you.',
};

export function describeReason(reason: string): string {
  return reasonTexts[reason] ?? reason;
}

export function describeReasons(reasons: readonly string[]): string[] {
  return reasons.map(describeReason);
}
