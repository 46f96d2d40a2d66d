import { useState } from 'react';
import { messageOf } from '../errors';
import { StepUpCancelled } from './StepUp';

/**
 * A button's work on a page: busy while it runs, its outcome as a status line or its refusal
 * in words (`explain`; a cancelled step-up is no error), then `settle` (reload what it changed).
 */
export function useAction(settle: () => Promise<unknown> | undefined, explain: (reason: unknown) => string = messageOf) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const act = (work: () => Promise<string>) => {
    setBusy(true);
    setError(null);
    setStatus(null);
    work()
      .then(setStatus, (reason: unknown) => {
        if (!(reason instanceof StepUpCancelled)) setError(explain(reason));
      })
      .finally(() => {
        setBusy(false);
        void settle();
      });
  };
  return { busy, error, status, act };
}
