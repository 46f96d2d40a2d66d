import type { ClientDescription } from '../devices/describe';
import { distanceInKm } from '../devices/geo';
import type { AccountHistory } from '../devices/history';
import type { AnomalyConfig, CheckObserver, SignInCheckName } from './config';

export interface SignInCheckInput {
  now: Date;
  request: ClientDescription;
  history: AccountHistory;
}

/** A finding of one sign-in check: the machine reason, and what it saw. */
export interface SignInFinding {
  reason: string;
  evidence: Record<string, unknown>;
}

/**
 * The sign-in checks, each a small pure function over the request and the account's history
 * (docs/security.md, sign-in risk). Unknowns are never findings: an address without
 * geolocation has no country, a history without a country proves nothing new.
 */
export const signInChecks: Record<SignInCheckName, (input: SignInCheckInput, config: AnomalyConfig) => SignInFinding | null> = {
  /** A browser the account has never signed in from (its canary names no device of the account). */
  newDevice(input) {
    return input.history.device === null ? { reason: 'new_device', evidence: { devices: input.history.devices } } : null;
  },
  newCountry({ request, history }) {
    const country = request.geo?.country;
    if (!country || history.countries.size === 0 || history.countries.has(country)) return null;
    return { reason: 'new_country', evidence: { country, known: [...history.countries].slice(0, 10) } };
  },
  newNetwork({ request, history }) {
    const asn = request.owner?.asn;
    if (asn === undefined || history.asns.size === 0 || history.asns.has(asn)) return null;
    return { reason: 'new_network', evidence: { asn, organisation: request.owner?.organisation ?? null } };
  },
  /** A hosting, cloud, VPN, proxy or Tor network the account has not used before. */
  hostingNetwork({ request, history }) {
    const owner = request.owner;
    if (!owner?.hosting || history.asns.has(owner.asn)) return null;
    return { reason: 'hosting_network', evidence: { asn: owner.asn, organisation: owner.organisation } };
  },
  /** Faster than an airliner from where the account was last seen. */
  impossibleTravel({ request, history, now }, config) {
    const last = history.lastLocation;
    if (!last || request.geo?.latitude == null || request.geo.longitude == null) return null;
    const distance = distanceInKm(last, { latitude: request.geo.latitude, longitude: request.geo.longitude });
    // At least a minute apart, so two sign-ins in one second are not "infinitely fast".
    const hours = Math.max(60, (now.getTime() - last.at.getTime()) / 1000) / 3600;
    const kmPerHour = distance / hours;
    if (distance < config.minTravelDistanceInKm || kmPerHour <= config.maxTravelSpeedInKmPerHour) return null;
    return { reason: 'impossible_travel', evidence: { distanceInKm: Math.round(distance), kmPerHour: Math.round(kmPerHour) } };
  },
  /** A crawler, a script or a headless browser by its user agent. */
  bot({ request }) {
    return request.bot ? { reason: 'bot', evidence: { userAgent: request.userAgent?.slice(0, 120) ?? null } } : null;
  },
};

/** The verdict on a sign-in: challenge when an enforced check found something. */
export interface SignInVerdict {
  decision: 'pass' | 'challenge';
  /** Findings of enforced checks: every one, so the user and the audit log see all of them. */
  reasons: string[];
  /** Findings of checks in `log` mode: recorded, not acted on. */
  logged: string[];
  evidence: Record<string, Record<string, unknown>>;
  at: string;
}

/**
 * Runs every sign-in check. A trusted device (one that completed a challenge, or verified the
 * address) passes: it already proved itself with more than a password.
 */
export function assessSignIn(input: SignInCheckInput, config: AnomalyConfig, observe?: CheckObserver): SignInVerdict {
  const at = input.now.toISOString();
  if (input.history.device?.trusted) return { decision: 'pass', reasons: [], logged: [], evidence: {}, at };
  const reasons: string[] = [];
  const logged: string[] = [];
  const evidence: SignInVerdict['evidence'] = {};
  for (const name of Object.keys(signInChecks) as SignInCheckName[]) {
    const mode = config.signInModes[name];
    if (mode === 'off') continue;
    const finding = signInChecks[name](input, config);
    observe?.(name, !finding ? 'pass' : mode === 'enforce' ? 'challenge' : 'logged');
    if (!finding) continue;
    (mode === 'enforce' ? reasons : logged).push(finding.reason);
    evidence[finding.reason] = finding.evidence;
  }
  return { decision: reasons.length > 0 ? 'challenge' : 'pass', reasons, logged, evidence, at };
}
