import type { DeviceRow, SessionRow, SessionVerdict } from '../../db/tables';
import type { AnomalyConfig, CheckObserver } from '../anomaly/config';
import { assess, type Verdict } from '../anomaly/pipeline';
import type { ClientDescription } from '../devices/describe';
import { withSpanSync } from '../telemetry/tracing';

/**
 * The refresh assessment: runs the anomaly checks on a session, its device and the request
 * (docs/security.md, anomaly checks). What they need from the database comes with the
 * rotation's one read (`rotation.ts`): the two counts arrive as "over the limit?" answers, each
 * query stopping one row past its limit, so a count over its limit is passed on as limit + 1.
 */
export function judgeRefresh(
  input: {
    session: SessionRow;
    device: DeviceRow;
    request: ClientDescription;
    now: Date;
    /** More live sessions of the user than `maxActiveSessionsPerUser`. */
    tooManySessions: boolean;
    /** More refreshes of the session in the window than `maxRefreshesPerSession`. */
    tooManyRefreshes: boolean;
  },
  anomaly: AnomalyConfig,
  observe?: CheckObserver,
): Verdict {
  return withSpanSync('anomaly.refresh', (span) => {
    const verdict = judge(input, anomaly, observe);
    span.setAttributes(verdictAttributes(verdict));
    return verdict;
  });
}

function judge(input: Parameters<typeof judgeRefresh>[0], anomaly: AnomalyConfig, observe?: CheckObserver): Verdict {
  const { session, device, request, now } = input;
  return assess(
    {
      now,
      session: { createdAt: session.createdAt, lastUsedAt: session.lastUsedAt },
      device: {
        canaryHash: device.canaryHash,
        trusted: device.trustedAt !== null,
        country: device.country,
        city: device.city,
        browser: device.browser,
        os: device.os,
        deviceType: device.deviceType,
        network: device.network,
        asn: device.asn,
        userAgent: device.userAgent,
        lastLatitude: device.lastLatitude,
        lastLongitude: device.lastLongitude,
        lastLocatedAt: device.lastLocatedAt,
      },
      request,
      activeSessions: input.tooManySessions ? anomaly.maxActiveSessionsPerUser + 1 : 0,
      refreshesInWindow: input.tooManyRefreshes ? anomaly.maxRefreshesPerSession + 1 : 0,
    },
    anomaly,
    observe,
  );
}

/** What a span records of a verdict: the decision and the checks' machine reasons, never their evidence. */
export function verdictAttributes(verdict: Pick<SessionVerdict, 'decision' | 'reasons' | 'logged'>): Record<string, string | string[]> {
  return { 'iam.anomaly.decision': verdict.decision, 'iam.anomaly.reasons': verdict.reasons, 'iam.anomaly.logged': verdict.logged };
}

/** The verdict as stored on the session (without its evidence), carrying the latest challenge forward. */
export function storedVerdict(verdict: Verdict, previous?: SessionVerdict | null): SessionVerdict {
  const lastChallenge =
    verdict.decision === 'challenge'
      ? { reasons: verdict.reasons, at: verdict.at }
      : previous?.decision === 'challenge'
        ? { reasons: previous.reasons, at: previous.at }
        : previous?.lastChallenge;
  return {
    decision: verdict.decision,
    reasons: verdict.reasons,
    logged: verdict.logged,
    at: verdict.at,
    ...(lastChallenge ? { lastChallenge } : {}),
  };
}
