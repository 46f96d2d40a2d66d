import { type FormEvent, type ReactNode, useState } from 'react';
import { messageOf } from '../errors';

/** A form that runs `onSubmit`, disables itself meanwhile and shows the refusal, if any, where screen readers hear it. */
export function Form({ onSubmit, submit, children }: { onSubmit: () => Promise<void>; submit: string; children: ReactNode }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const handle = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    onSubmit()
      .catch((reason: unknown) => setError(messageOf(reason)))
      .finally(() => setBusy(false));
  };
  return (
    <form onSubmit={handle} aria-busy={busy}>
      {children}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {submit}
      </button>
    </form>
  );
}

export function Field(props: {
  label: string;
  name: string;
  type?: string;
  value: string;
  onChange: (value: string) => void;
  autoComplete?: string;
  inputMode?: 'numeric' | 'email' | 'text' | 'url';
  required?: boolean;
  /** What to type, read with the label (`aria-describedby`). */
  hint?: string;
  /** Why the value was refused: marks the input invalid and is read with it. */
  error?: string | null;
}) {
  const id = `field-${props.name}`;
  const hintId = props.hint ? `${id}-hint` : undefined;
  const errorId = props.error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      {props.hint && (
        <span id={hintId} className="field-hint">
          {props.hint}
        </span>
      )}
      <input
        id={id}
        name={props.name}
        type={props.type ?? 'text'}
        value={props.value}
        onChange={(event) => props.onChange(event.target.value)}
        autoComplete={props.autoComplete}
        inputMode={props.inputMode}
        required={props.required ?? true}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={describedBy}
      />
      {props.error && (
        <span id={errorId} className="error field-error">
          {props.error}
        </span>
      )}
    </div>
  );
}

export function Card({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="card" aria-labelledby={`${title}-title`.replace(/\W+/g, '-')}>
      <h2 id={`${title}-title`.replace(/\W+/g, '-')}>{title}</h2>
      {children}
    </section>
  );
}

/** What an action says when it is done or refused, announced to screen readers as it changes. */
export function Announcements({ status, error }: { status: string | null | undefined; error: string | null | undefined }) {
  return (
    <div aria-live="polite">
      {status && <p role="status">{status}</p>}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </div>
  );
}
