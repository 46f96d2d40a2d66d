/** The nine checks, in the order they run (docs/security.md, anomaly checks). */
export const checkNames = [
  'token',
  'canary',
  'idle',
  'sessionCount',
  'velocity',
  'network',
  'bot',
  'hostingNetwork',
  'fingerprint',
] as const;
export type CheckName = (typeof checkNames)[number];

/**
 * The sign-in checks (docs/security.md, sign-in risk): what a sign-in is compared with is
 * the account's history, its proven devices, countries, networks and last location.
 */
export const signInCheckNames = ['newDevice', 'newCountry', 'newNetwork', 'hostingNetwork', 'impossibleTravel', 'bot'] as const;
export type SignInCheckName = (typeof signInCheckNames)[number];

/** `enforce` acts on a finding, `log` records it only, `off` skips the check. */
export type CheckMode = 'enforce' | 'log' | 'off';

/**
 * What became of one check's result: nothing found (`pass`), acted on (`challenge`, `deny`),
 * or found by a check in `log` mode and only recorded (`logged`). A closed set, as metric labels need.
 */
export type CheckOutcome = 'pass' | 'challenge' | 'deny' | 'logged';

/** Told the result of every check that ran; a check `off`, or after the deciding one, never runs. */
export type CheckObserver = (check: CheckName | SignInCheckName, outcome: CheckOutcome) => void;

export type FingerprintAttribute = 'country' | 'city' | 'browser' | 'os' | 'deviceType';

export interface AnomalyConfig {
  modes: Record<CheckName, CheckMode>;
  /** Modes of the sign-in checks. */
  signInModes: Record<SignInCheckName, CheckMode>;
  /** A session unused this long must prove itself again (below the hard idle limit). */
  idleChallengeInSeconds: number;
  /** Live sessions one user may hold before a refresh asks for proof. */
  maxActiveSessionsPerUser: number;
  /** Refreshes of one session allowed within the window. */
  maxRefreshesPerSession: number;
  refreshWindowInSeconds: number;
  /** What counts as "the same network" (IPv4 /24, IPv6 /48). */
  networkPrefixes: { ipv4: number; ipv6: number };
  /** Faster than an airliner between two refreshes is impossible travel. */
  maxTravelSpeedInKmPerHour: number;
  /** Distances below this are geolocation noise, never travel. */
  minTravelDistanceInKm: number;
  /** Which parts of the fingerprint may not change without proof. */
  fingerprintAttributes: FingerprintAttribute[];
  /** More autonomous systems to treat as hosting/VPN/proxy networks. */
  hostingAsns: number[];
}

export const defaultAnomalyConfig: AnomalyConfig = {
  modes: {
    token: 'enforce',
    canary: 'enforce',
    idle: 'enforce',
    sessionCount: 'enforce',
    velocity: 'enforce',
    // Mobile networks move users between address blocks all day: recorded, not acted on,
    // unless an operator opts in. Country, city and travel are covered by `fingerprint`.
    network: 'log',
    bot: 'enforce',
    hostingNetwork: 'enforce',
    fingerprint: 'enforce',
  },
  signInModes: {
    newDevice: 'enforce',
    newCountry: 'enforce',
    // A person's home, office and phone are three networks (ASNs): a new one alone is weak
    // evidence. Recorded; an operator whose users sit on few networks may enforce it.
    newNetwork: 'log',
    hostingNetwork: 'enforce',
    impossibleTravel: 'enforce',
    bot: 'enforce',
  },
  idleChallengeInSeconds: 3 * 24 * 3600,
  maxActiveSessionsPerUser: 20,
  maxRefreshesPerSession: 30,
  refreshWindowInSeconds: 600,
  networkPrefixes: { ipv4: 24, ipv6: 48 },
  maxTravelSpeedInKmPerHour: 1000,
  minTravelDistanceInKm: 100,
  fingerprintAttributes: ['country', 'browser', 'os', 'deviceType'],
  hostingAsns: [],
};

export type AnomalyOverrides = Partial<Omit<AnomalyConfig, 'modes' | 'signInModes'>> & {
  modes?: Partial<Record<CheckName, CheckMode>>;
  signInModes?: Partial<Record<SignInCheckName, CheckMode>>;
};

export function resolveAnomalyConfig(overrides: AnomalyOverrides | undefined): AnomalyConfig {
  return {
    ...defaultAnomalyConfig,
    ...overrides,
    modes: { ...defaultAnomalyConfig.modes, ...overrides?.modes },
    signInModes: { ...defaultAnomalyConfig.signInModes, ...overrides?.signInModes },
  };
}
