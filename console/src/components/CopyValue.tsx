import { useState } from 'react';

/**
 * A value to paste elsewhere (a DNS record, a redirect URI): shown whole, so it can also be
 * read out or typed, with a button that copies it. Where the browser refuses the clipboard,
 * the text is selected instead, for the person to copy themselves.
 */
export function CopyValue({ value, label }: { value: string; label: string }) {
  const [copied, setCopied] = useState<'copied' | 'selected' | null>(null);
  const id = `copy-${label.replace(/\W+/g, '-')}`;
  return (
    <span className="copy-value">
      <code id={id}>{value}</code>
      <button
        type="button"
        className="secondary copy"
        aria-label={label}
        onClick={() => {
          navigator.clipboard.writeText(value).then(
            () => setCopied('copied'),
            () => {
              const code = document.getElementById(id);
              if (code) window.getSelection()?.selectAllChildren(code);
              setCopied('selected');
            },
          );
        }}
      >
        Copy
      </button>
      <span aria-live="polite" className="muted copy-status">
        {copied === 'copied' ? 'Copied.' : copied === 'selected' ? 'Selected: copy it with your keyboard.' : ''}
      </span>
    </span>
  );
}
