import { iamCodeOf, type RouterOutputs, stepUpWithPasskey } from '@iam/client';
import { type ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import { useTRPCClient } from '../api';
import { messageOf } from '../errors';
import { Field, Form } from './Form';
import './StepUp.css';

type StepUpChallenge = RouterOutputs['mfa']['stepUp']['begin'];

/** Thrown by `run` when the person closes the step-up dialog: nothing was changed. */
export class StepUpCancelled extends Error {
  override name = 'StepUpCancelled';
  constructor() {
    super('step-up cancelled');
  }
}

interface Pending {
  challenge: StepUpChallenge;
  resolve: (stepUpToken: string) => void;
  reject: (reason: unknown) => void;
}

export interface StepUp {
  /**
   * Runs a sensitive action: first as is (`stepUpToken` undefined); when the service answers
   * `STEP_UP_REQUIRED`, opens a step-up for `action`, asks for a code or a passkey in a dialog,
   * and runs it once more with the token. Rejects with the action's own refusal, or with
   * `StepUpCancelled` when the dialog is closed.
   */
  run<T>(action: string, perform: (stepUpToken?: string) => Promise<T>): Promise<T>;
  /** The dialog: render it once, anywhere in the page that calls `run`. */
  prompt: ReactNode;
}

/**
 * The step-up of a sensitive action, e.g.
 *
 * ```tsx
 * const stepUp = useStepUp();
 * await stepUp.run('passkey_remove', (stepUpToken) => api.passkey.remove.mutate({ id, stepUpToken }));
 * return <>{…}{stepUp.prompt}</>;
 * ```
 */
export function useStepUp(): StepUp {
  const api = useTRPCClient();
  const [pending, setPending] = useState<Pending | null>(null);

  const run = useCallback(
    async <T,>(action: string, perform: (stepUpToken?: string) => Promise<T>): Promise<T> => {
      try {
        return await perform(undefined);
      } catch (error) {
        if (iamCodeOf(error) !== 'STEP_UP_REQUIRED') throw error;
      }
      const challenge = await api.mfa.stepUp.begin.mutate({ action });
      const stepUpToken = await new Promise<string>((resolve, reject) => setPending({ challenge, resolve, reject }));
      return perform(stepUpToken);
    },
    [api],
  );

  const prompt = pending ? (
    <StepUpDialog
      challenge={pending.challenge}
      onDone={(stepUpToken) => {
        setPending(null);
        pending.resolve(stepUpToken);
      }}
      onCancel={() => {
        setPending(null);
        pending.reject(new StepUpCancelled());
      }}
    />
  ) : null;

  return { run, prompt };
}

const codeLabels = {
  totp: 'the code from your authenticator app',
  backup_code: 'one of your backup codes',
  email_otp: 'the code we just emailed you',
} as const;

function StepUpDialog(props: { challenge: StepUpChallenge; onDone: (stepUpToken: string) => void; onCancel: () => void }) {
  const api = useTRPCClient();
  const { challenge, onDone, onCancel } = props;
  const dialog = useRef<HTMLDialogElement>(null);
  const [code, setCode] = useState('');
  const [passkeyError, setPasskeyError] = useState<string | null>(null);
  const [resent, setResent] = useState(false);
  const codeMethods = challenge.methods.filter((method) => method !== 'passkey');

  // A modal dialog: focus moves into it, the page behind is inert, Escape closes it.
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => element?.close();
  }, []);

  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby="step-up-title"
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
    >
      <h2 id="step-up-title">Confirm it is you</h2>
      <p>This change needs a fresh proof that it is you.</p>
      {codeMethods.length > 0 && (
        <Form
          submit="Confirm"
          onSubmit={async () => {
            const { stepUpToken } = await api.mfa.stepUp.verify.mutate({ challengeId: challenge.challengeId, code: code.trim() });
            onDone(stepUpToken);
          }}
        >
          <p>Enter {codeMethods.map((method) => codeLabels[method]).join(', or ')}.</p>
          <Field label="Confirmation code" name="step-up-code" autoComplete="one-time-code" value={code} onChange={setCode} />
        </Form>
      )}
      {challenge.methods.includes('email_otp') && (
        <>
          <button
            type="button"
            className="link"
            onClick={() => void api.mfa.resend.mutate({ challengeId: challenge.challengeId }).then(() => setResent(true))}
          >
            Email me a new code
          </button>
          {resent && <p role="status">A new code is on its way.</p>}
        </>
      )}
      {challenge.methods.includes('passkey') && (
        <div>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setPasskeyError(null);
              stepUpWithPasskey(api, challenge).then(
                ({ stepUpToken }) => onDone(stepUpToken),
                (error: unknown) => setPasskeyError(messageOf(error)),
              );
            }}
          >
            Confirm with a passkey
          </button>
          {passkeyError && (
            <p role="alert" className="error">
              {passkeyError}
            </p>
          )}
        </div>
      )}
      <button type="button" className="link" onClick={onCancel}>
        Cancel
      </button>
    </dialog>
  );
}
