import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { findOrInstall } from '../harness/aptInstall';

// The Prometheus alert rules under monitoring/, judged by Prometheus's own promtool (Debian's
// `prometheus` package, installed when missing): the file is valid, and its unit tests
// (alerts.test.yml) hold: the reuse, outbox, key and sign-in alerts fire on synthetic series.

const run = promisify(execFile);
const rulesDir = fileURLToPath(new URL('../../../monitoring/prometheus/', import.meta.url));
const operationsDoc = fileURLToPath(new URL('../../../docs/operations.md', import.meta.url));

/** promtool, installed with Debian's prometheus package when missing (its service kept from starting). */
function promtool(): Promise<string> {
  return findOrInstall({ candidates: ['/usr/bin/promtool', '/usr/local/bin/promtool'], aptPackage: 'prometheus', keepServicesDown: true });
}

/** Runs promtool; resolves with its exit code and output, never throws on a failing check. */
async function runPromtool(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(await promtool(), args, { cwd: rulesDir });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe('the alert rules', () => {
  it('are a valid Prometheus rule file', { timeout: 600_000 }, async () => {
    const { code, output } = await runPromtool(['check', 'rules', 'alerts.yml']);
    expect(output).toMatch(/SUCCESS: \d+ rules found/);
    expect(code).toBe(0);
  });

  it('fire on synthetic series as their unit tests say (reuse, outbox lag, key rotation, sign-in failures, target down)', {
    timeout: 600_000,
  }, async () => {
    const { code, output } = await runPromtool(['test', 'rules', 'alerts.test.yml']);
    expect(output).toContain('SUCCESS');
    expect(output).not.toContain('FAILED');
    expect(code).toBe(0);
  });

  it('each carry a severity, a duration, a summary, a description and a runbook section that exists', async () => {
    const rules = await readFile(`${rulesDir}alerts.yml`, 'utf8');
    const doc = await readFile(operationsDoc, 'utf8');
    const anchors = new Set([...doc.matchAll(/^#{2,6} (.+)$/gm)].map((match) => githubAnchor(match[1] ?? '')));
    const alerts = rules.split(/^\s*- alert: /m).slice(1);
    expect(alerts.length).toBeGreaterThanOrEqual(10);
    for (const alert of alerts) {
      const name = alert.split('\n')[0]?.trim() ?? '';
      expect(alert, name).toMatch(/^\s+for: \d+[smh]$/m);
      expect(alert, name).toMatch(/^\s+severity: (critical|warning|info)$/m);
      expect(alert, name).toMatch(/^\s+summary: ".+"$/m);
      expect(alert, name).toMatch(/^\s+description: ".+"$/m);
      const runbook = /^\s+runbook_url: "docs\/operations\.md#([a-z0-9-]+)"$/m.exec(alert)?.[1];
      expect(runbook, name).toBeDefined();
      expect(anchors.has(runbook ?? ''), `${name}: #${runbook} in docs/operations.md`).toBe(true);
    }
  });
});

/** GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens. */
function githubAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
}
