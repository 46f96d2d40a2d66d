import type { ClientDescription } from '../devices/describe';
import { distanceInKm } from '../devices/geo';
import type { AnomalyConfig, CheckName, FingerprintAttribute } from './config';

/** Everything a check may look at; gathered once per refresh. */
export interface CheckInput {
  now: Date;
  session: { createdAt: Date; lastUsedAt: Date };
  /** The device the session is bound to, with its last proven fingerprint. */
  device: {
    canaryHash: string;
    trusted: boolean;
    country: string | null;
    city: string | null;
    browser: string | null;
    os: string | null;
    deviceType: string;
    network: string | null;
    asn: number | null;
    userAgent: string | null;
    lastLatitude: number | null;
    lastLongitude: number | null;
    lastLocatedAt: Date | null;
  };
  request: ClientDescription;
  activeSessions: number;
  refreshesInWindow: number;
}

export type CheckResult = { outcome: 'pass' } | { outcome: 'challenge' | 'deny'; reason: string; evidence: Record<string, unknown> };

const pass: CheckResult = { outcome: 'pass' };
const challenge = (reason: string, evidence: Record<string, unknown>): CheckResult => ({ outcome: 'challenge', reason, evidence });

/**
 * The nine checks, each a small pure function. Token state (check 1) is judged by the
 * rotation itself under its row lock (unknown, revoked, reused → deny); here it only
 * passes, so the list reads as the design does.
 */
export const checks: Record<CheckName, (input: CheckInput, config: AnomalyConfig) => CheckResult> = {
  token: () => pass,

  /** 2. The device canary cookie must be the one the session was issued to. */
  canary(input) {
    if (input.request.canaryHash === null) return challenge('canary_missing', {});
    if (input.request.canaryHash !== input.device.canaryHash) return challenge('canary_mismatch', {});
    return pass;
  },

  /** 3. A session unused for long must prove itself again. */
  idle(input, config) {
    const idleInSeconds = (input.now.getTime() - input.session.lastUsedAt.getTime()) / 1000;
    return idleInSeconds > config.idleChallengeInSeconds ? challenge('idle', { idleInSeconds: Math.round(idleInSeconds) }) : pass;
  },

  /** 4. More live sessions than one person plausibly uses. */
  sessionCount(input, config) {
    return input.activeSessions > config.maxActiveSessionsPerUser
      ? challenge('too_many_sessions', { activeSessions: input.activeSessions, limit: config.maxActiveSessionsPerUser })
      : pass;
  },

  /** 5. Refreshing faster than any client that honours token lifetimes. */
  velocity(input, config) {
    return input.refreshesInWindow > config.maxRefreshesPerSession
      ? challenge('refresh_velocity', { refreshes: input.refreshesInWindow, windowInSeconds: config.refreshWindowInSeconds })
      : pass;
  },

  /** 6. Outside the address block the device proved itself from. */
  network(input) {
    const { network } = input.request;
    if (!network || !input.device.network || network === input.device.network) return pass;
    return challenge('network_changed', { from: input.device.network, to: network });
  },

  /**
   * 7. A bot or a headless browser where the device proved itself with another agent (a
   * cookie lifted into automation). A client that signed in as itself (a script, a BFF)
   * keeps its agent and passes.
   */
  bot(input) {
    if (!input.request.bot) return pass;
    if (input.device.userAgent === input.request.userAgent) return pass;
    return challenge('bot_user_agent', { userAgent: input.request.userAgent?.slice(0, 120) ?? null });
  },

  /** 8. A hosting, VPN, proxy or Tor network the device has not proven itself from. */
  hostingNetwork(input) {
    const { owner } = input.request;
    if (!owner?.hosting || owner.asn === input.device.asn) return pass;
    return challenge('hosting_network', { asn: owner.asn, organisation: owner.organisation });
  },

  /** 9. The device looks different (country, browser, OS…), or moved faster than possible. */
  fingerprint(input, config) {
    const changed = config.fingerprintAttributes.filter((attribute) => differs(attribute, input));
    if (changed.length > 0) {
      return challenge('fingerprint_changed', {
        changed,
        ...Object.fromEntries(
          changed.map((attribute) => [attribute, { from: provenValue(attribute, input), to: requestValue(attribute, input) }]),
        ),
      });
    }
    const travel = travelSpeed(input);
    if (travel && travel.distanceInKm >= config.minTravelDistanceInKm && travel.kmPerHour > config.maxTravelSpeedInKmPerHour) {
      return challenge('impossible_travel', { distanceInKm: Math.round(travel.distanceInKm), kmPerHour: Math.round(travel.kmPerHour) });
    }
    return pass;
  },
};

function provenValue(attribute: FingerprintAttribute, input: CheckInput): string | null {
  const { device } = input;
  return attribute === 'deviceType' ? device.deviceType : device[attribute];
}

function requestValue(attribute: FingerprintAttribute, input: CheckInput): string | null {
  const { request } = input;
  switch (attribute) {
    case 'country':
      return request.geo?.country ?? null;
    case 'city':
      return request.geo?.city ?? null;
    default:
      return request[attribute];
  }
}

/** Unknown on either side is not a difference: geolocation and parsing have gaps. */
function differs(attribute: FingerprintAttribute, input: CheckInput): boolean {
  const proven = provenValue(attribute, input);
  const now = requestValue(attribute, input);
  if (proven === null || now === null || proven === 'unknown' || now === 'unknown') return false;
  return proven !== now;
}

function travelSpeed(input: CheckInput): { distanceInKm: number; kmPerHour: number } | null {
  const { device, request, now } = input;
  if (device.lastLatitude === null || device.lastLongitude === null || !device.lastLocatedAt) return null;
  if (request.geo?.latitude == null || request.geo.longitude == null) return null;
  const distance = distanceInKm(
    { latitude: device.lastLatitude, longitude: device.lastLongitude },
    { latitude: request.geo.latitude, longitude: request.geo.longitude },
  );
  // At least a minute apart, so two refreshes in one second are not "infinitely fast".
  const hours = Math.max(60, (now.getTime() - device.lastLocatedAt.getTime()) / 1000) / 3600;
  return { distanceInKm: distance, kmPerHour: distance / hours };
}
