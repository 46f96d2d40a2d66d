import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createTestServer } from '../harness/server';
import { metricNamesIn, scrape } from './prometheusText';

// The Grafana dashboard and the alert rules read only metrics a real service exports: every
// name in every panel query, template variable and alert expression has series on /metrics
// once the service has seen a sign-up, a sign-in, a refresh and a wrong password.

const monitoring = (file: string) => fileURLToPath(new URL(`../../../monitoring/${file}`, import.meta.url));
const operationsDoc = fileURLToPath(new URL('../../../docs/operations.md', import.meta.url));

/** Every query names its data source by the dashboard's variable, so the dashboard works on any Prometheus. */
const datasourceVariable = ['$', '{datasource}'].join('');

/** Prometheus makes `up` for every target itself; no service exports it. */
const madeByPrometheus = new Set(['up']);

interface Panel {
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: Array<{ expr?: string; datasource?: { uid?: string } }>;
  panels?: Panel[];
}

interface Dashboard {
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: string | { query: string } }> };
}

async function dashboard(): Promise<Dashboard> {
  return JSON.parse(await readFile(monitoring('grafana/iam-dashboard.json'), 'utf8')) as Dashboard;
}

/** The panels, those inside collapsed rows included, rows themselves left out. */
function panelsOf(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((panel) => (panel.type === 'row' ? panelsOf(panel.panels ?? []) : [panel]));
}

/** Every PromQL expression of the dashboard: panel targets and query variables. */
function dashboardExpressions(board: Dashboard): string[] {
  const targets = panelsOf(board.panels).flatMap((panel) => (panel.targets ?? []).map((target) => target.expr ?? ''));
  const variables = board.templating.list
    .filter((variable) => variable.type === 'query')
    .map((variable) => (typeof variable.query === 'string' ? variable.query : variable.query.query))
    // Grafana's label_values(selector, label): the selector is PromQL, the label a label name.
    .map((query) => /^label_values\((.+?)(?:,\s*[a-zA-Z_]\w*)?\)$/.exec(query)?.[1] ?? query);
  return [...targets, ...variables];
}

/** The `expr:` of every rule in alerts.yml (each on one line, as the file writes them). */
async function alertExpressions(): Promise<{ alerts: number; expressions: string[] }> {
  const rules = await readFile(monitoring('prometheus/alerts.yml'), 'utf8');
  return {
    alerts: [...rules.matchAll(/^\s*- alert: /gm)].length,
    expressions: [...rules.matchAll(/^\s+expr: (.+)$/gm)].map((match) => match[1] ?? ''),
  };
}

/** Names with at least one sample on a service that has seen the common flows, and every name it declares. */
let exported: Promise<{ names: Set<string>; declared: Set<string> }> | undefined;
function exportedNames() {
  exported ??= readExportedNames();
  return exported;
}

async function readExportedNames(): Promise<{ names: Set<string>; declared: Set<string> }> {
  await using t = await createTestServer();
  const user = await t.signUp();
  await user.api.session.refresh.mutate();
  await expect(t.client().api.auth.login.mutate({ email: user.email, password: 'not the password at all' })).rejects.toMatchObject({
    data: { iamCode: 'INVALID_CREDENTIALS' },
  });
  const device = await t.signInOnNewDevice(user);
  await device.api.session.refresh.mutate();
  const samples = await scrape(t.url);
  const text = await (await fetch(`${t.url}/metrics`)).text();
  return {
    names: new Set(samples.map((sample) => sample.name)),
    declared: new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1] ?? '')),
  };
}

describe('the monitoring assets', () => {
  it('find metric names in PromQL: not functions, labels, keywords, durations or dashboard variables', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.99, sum by (le, path) (rate(iam_procedure_duration_seconds_bucket{job=~"$job",path=~"a|b"}[$__rate_interval])))',
      ),
    ).toEqual(['iam_procedure_duration_seconds_bucket']);
    expect(
      metricNamesIn('iam_signing_key_age_seconds > iam_signing_key_rotation_interval_seconds + 3600 and on (job) up offset 5m == 1e3'),
    ).toEqual(['iam_signing_key_age_seconds', 'iam_signing_key_rotation_interval_seconds', 'up']);
    expect(metricNamesIn('sum(rate(iam_logins_total{outcome="by (x)"}[5m])) by (outcome) / 2')).toEqual(['iam_logins_total']);
  });

  it('read only metrics a running service exports, in the dashboard and in the alert rules', async () => {
    const board = await dashboard();
    const { alerts, expressions: alertExprs } = await alertExpressions();
    const { names } = await exportedNames();

    expect(board.schemaVersion).toBeGreaterThanOrEqual(36);
    const panels = panelsOf(board.panels);
    expect(panels.length).toBeGreaterThanOrEqual(15);
    for (const panel of panels) {
      expect(panel.targets?.length, `${panel.title}: queries`).toBeGreaterThan(0);
      expect(panel.datasource?.uid, `${panel.title}: datasource`).toBe(datasourceVariable);
      for (const target of panel.targets ?? [])
        expect(target.datasource?.uid, `${panel.title}: target datasource`).toBe(datasourceVariable);
    }
    expect(board.templating.list.find((variable) => variable.name === 'datasource')).toMatchObject({
      type: 'datasource',
      query: 'prometheus',
    });

    const read = new Set(dashboardExpressions(board).flatMap(metricNamesIn));
    for (const name of read) expect(names.has(name), `dashboard reads ${name}`).toBe(true);
    // The panels the operations guide promises.
    for (const name of [
      'iam_logins_total',
      'iam_refreshes_total',
      'iam_refusals_total',
      'iam_signin_checks_total',
      'iam_refresh_checks_total',
      'iam_procedure_duration_seconds_bucket',
      'iam_signing_key_age_seconds',
      'iam_outbox_lag_seconds',
      'iam_mail_failures_total',
      'iam_outbox_failed_attempts_total',
      'iam_process_resident_memory_bytes',
      'iam_process_cpu_seconds_total',
    ]) {
      expect(read.has(name), `a panel reads ${name}`).toBe(true);
    }

    expect(alertExprs.length).toBe(alerts);
    const alerted = new Set(alertExprs.flatMap(metricNamesIn));
    expect(alerted.size).toBeGreaterThanOrEqual(8);
    for (const name of alerted) expect(names.has(name) || madeByPrometheus.has(name), `an alert reads ${name}`).toBe(true);
  });

  it('the operations guide lists every metric the service declares', async () => {
    const { declared } = await exportedNames();
    const doc = await readFile(operationsDoc, 'utf8');
    const own = [...declared].filter((name) => !/^iam_(process|nodejs)_/.test(name));
    expect(own.length).toBeGreaterThanOrEqual(15);
    for (const name of own) expect(doc, name).toContain(`\`${name}\``);
  });
});
