/**
 * The service's settings for the run: every rate limit the benchmark's single IP would hit is
 * raised (the limiters still run and still write to the database); the anomaly checks stay on
 * in their default modes, with a refresh-velocity limit the benchmark cannot reach. The bot
 * check is off: from one IP every call would otherwise pay a proof of work, which is the
 * client's cost, not the service's.
 */
export const serviceConfig = {
  rateLimits: Object.fromEntries(
    [
      'signupPerIp',
      'signupPerEmail',
      'loginPerIp',
      'loginPerIpEmail',
      'loginFailuresPerIpEmail',
      'loginFailuresPerIp',
      'loginFailuresPerEmail',
      'refreshPerIp',
      'codesPerIp',
      'linksPerIp',
    ].map((name) => [name, { points: 1_000_000_000 }]),
  ),
  anomaly: { maxRefreshesPerSession: 1_000_000_000 },
  botCheck: { signup: 'off', login: 'off', requestPasswordReset: 'off', requestSignIn: 'off' },
  emailPolicy: { allowDomains: ['bench.test'] },
};
