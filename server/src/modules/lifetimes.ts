/** How long each credential and session lives; every duration in seconds. */
export interface Lifetimes {
  accessTokenTtlInSeconds: number;
  refreshGraceInSeconds: number;
  sessionIdleInSeconds: number;
  sessionMaxInSeconds: number;
  /** Verification and MFA codes (docs/api.md: 10 min). */
  codeTtlInSeconds: number;
  /** Magic, verification and reset links (docs/api.md: ≤ 30 min). */
  linkTtlInSeconds: number;
}

export const defaultLifetimes: Lifetimes = {
  accessTokenTtlInSeconds: 15 * 60,
  refreshGraceInSeconds: 30,
  sessionIdleInSeconds: 7 * 24 * 3600,
  sessionMaxInSeconds: 30 * 24 * 3600,
  codeTtlInSeconds: 10 * 60,
  linkTtlInSeconds: 30 * 60,
};
