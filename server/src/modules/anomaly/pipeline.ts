import type { SessionVerdict } from '../../db/schema/sessions';
import { type CheckInput, checks } from './checks';
import { type AnomalyConfig, type CheckObserver, checkNames } from './config';

export interface Verdict extends SessionVerdict {
  /** The deciding check's evidence, for the audit log and the alert email. */
  evidence: Record<string, unknown>;
}

/**
 * Runs the checks in order; the first enforced non-pass decides. Checks in `log` mode
 * still run and their findings are recorded, so an operator can watch a check before
 * enforcing it.
 */
export function assess(input: CheckInput, config: AnomalyConfig, observe?: CheckObserver): Verdict {
  const logged: string[] = [];
  for (const name of checkNames) {
    const mode = config.modes[name];
    if (mode === 'off') continue;
    const result = checks[name](input, config);
    if (result.outcome === 'pass') {
      observe?.(name, 'pass');
      continue;
    }
    if (mode === 'log') {
      observe?.(name, 'logged');
      logged.push(result.reason);
      continue;
    }
    observe?.(name, result.outcome);
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
