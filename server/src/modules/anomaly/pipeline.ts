import type { SessionVerdict } from '../../db/schema/sessions';
import { type CheckInput, checks } from './checks';
import { type AnomalyConfig, checkNames } from './config';

export interface Verdict extends SessionVerdict {
  /** The deciding check's evidence, for the audit log and the alert email. */
  evidence: Record<string, unknown>;
}

/**
 * Runs the checks in order; the first enforced non-pass decides. Checks in `log` mode
 * still run and their findings are recorded, so an operator can watch a check before
 * enforcing it.
 */
export function assess(input: CheckInput, config: AnomalyConfig): Verdict {
  const logged: string[] = [];
  for (const name of checkNames) {
    const mode = config.modes[name];
    if (mode === 'off') continue;
    const result = checks[name](input, config);
    if (result.outcome === 'pass') continue;
    if (mode === 'log') {
      logged.push(result.reason);
      continue;
    }
    return {
      decision: result.outcome,
      reasons: [result.reason],
      logged,
      evidence: { check: name, ...result.evidence },
      at: input.now.toISOString(),
    };
  }
  return { decision: 'pass', reasons: [], logged, evidence: {}, at: input.now.toISOString() };
}
