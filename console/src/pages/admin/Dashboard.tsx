import { describeReason } from '@iam/shared';
import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { useTRPC } from '../../api';
import { messageOf } from '../../errors';
import { AdminNav } from './AdminNav';
import { type ChartSeries, chartColors, TimeChart } from './Chart';
import './admin.css';

const ranges = {
  day: { label: 'Last 24 hours', hours: 24, bucket: 'hour' },
  week: { label: 'Last 7 days', hours: 24 * 7, bucket: 'hour' },
  month: { label: 'Last 30 days', hours: 24 * 30, bucket: 'day' },
  quarter: { label: 'Last 90 days', hours: 24 * 90, bucket: 'day' },
} as const;
type Range = keyof typeof ranges;

const hourInMs = 3_600_000;

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** Sign-ins, failures, challenges by reason and refresh-token reuse over time, from the audit log. */
export function AdminDashboardPage() {
  const trpc = useTRPC();
  const [range, setRange] = useState<Range>('week');
  const { hours, bucket, label } = ranges[range];
  // The window ends at the next full hour, so a minute's refetch asks the same question.
  const to = new Date(Math.ceil(Date.now() / hourInMs) * hourInMs);
  const from = new Date(to.getTime() - hours * hourInMs);
  const stats = useQuery(trpc.admin.audit.stats.queryOptions({ from, to, bucket }, { refetchInterval: 60_000 }));

  const charts = useMemo(() => {
    const data = stats.data;
    if (!data) return null;
    const signIns: ChartSeries[] = [
      { label: 'Sign-ins', color: chartColors[0] ?? '#0b57d0', values: data.series.signIns },
      { label: 'Failures', color: chartColors[1] ?? '#b3261e', values: data.series.failures },
    ];
    const reasons: ChartSeries[] =
      data.challengeReasons.length > 0
        ? data.challengeReasons.slice(0, chartColors.length).map((reason, index) => ({
            label: describeReason(reason.reason),
            color: chartColors[index] ?? '#3c4043',
            values: reason.counts,
          }))
        : [{ label: 'Challenges', color: chartColors[2] ?? '#137333', values: data.series.challenges }];
    const reuse: ChartSeries[] = [{ label: 'Reuse detections', color: chartColors[1] ?? '#b3261e', values: data.series.reuseDetections }];
    return { signIns, reasons, reuse };
  }, [stats.data]);

  return (
    <>
      <AdminNav />
      <h1>Dashboard</h1>
      <div className="field">
        <label htmlFor="dashboard-range">Period</label>
        <select id="dashboard-range" value={range} onChange={(event) => setRange(event.target.value as Range)}>
          {Object.entries(ranges).map(([key, option]) => (
            <option key={key} value={key}>
              {option.label}
            </option>
          ))}
        </select>
      </div>
      {stats.error && (
        <p role="alert" className="error">
          {messageOf(stats.error)}
        </p>
      )}
      {!stats.data && !stats.error && <p className="loading">Loading…</p>}
      {stats.data && charts && (
        <>
          <p className="totals" aria-live="polite">
            {label}: {plural(stats.data.totals.signIns, 'sign-in', 'sign-ins')}, {plural(stats.data.totals.failures, 'failure', 'failures')}
            , {plural(stats.data.totals.challenges, 'challenge', 'challenges')} and{' '}
            {plural(stats.data.totals.reuseDetections, 'refresh-token reuse detection', 'refresh-token reuse detections')}.
          </p>
          <div className="charts">
            <TimeChart
              title="Sign-ins and failures"
              bucket={stats.data.bucket}
              at={stats.data.at}
              series={charts.signIns}
              summary={`${plural(stats.data.totals.signIns, 'sign-in', 'sign-ins')} and ${plural(stats.data.totals.failures, 'failed attempt', 'failed attempts')} (wrong passwords and codes).`}
            />
            <TimeChart
              title="Challenges by reason"
              bucket={stats.data.bucket}
              at={stats.data.at}
              series={charts.reasons}
              summary={
                stats.data.challengeReasons.length > 0
                  ? `${plural(stats.data.totals.challenges, 'challenge', 'challenges')}; most often: ${describeReason(stats.data.challengeReasons[0]?.reason ?? '')}`
                  : `${plural(stats.data.totals.challenges, 'challenge', 'challenges')}.`
              }
            />
            <TimeChart
              title="Refresh-token reuse detections"
              bucket={stats.data.bucket}
              at={stats.data.at}
              series={charts.reuse}
              summary={
                stats.data.totals.reuseDetections > 0
                  ? `${plural(stats.data.totals.reuseDetections, 'reuse', 'reuses')} detected: each ended the session it came from.`
                  : 'No reuse detected.'
              }
            />
          </div>
        </>
      )}
    </>
  );
}
