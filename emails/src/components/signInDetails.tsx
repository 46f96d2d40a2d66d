/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { Section, Text } from '@react-email/components';
import type { CSSProperties } from 'react';

export interface SignInDetailsProps {
  time: Date;
  device?: string | undefined;
  location?: string | undefined;
  ip?: string | undefined;
}

/** When, what and where, as label/value lines; values are user-controlled, so they are only ever text nodes. */
export function SignInDetails({ time, device, location, ip }: SignInDetailsProps) {
  const rows: [label: string, value: string | undefined][] = [
    ['When', formatTime(time)],
    ['Device', device],
    ['Location', location],
    ['IP address', ip],
  ];
  return (
    <Section style={styles.box}>
      {rows.map(([label, value]) =>
        value ? (
          <Text key={label} style={styles.row}>
            <strong>{label}:</strong> {value}
          </Text>
        ) : null,
      )}
    </Section>
  );
}

export function ReasonList({ reasons }: { reasons: readonly string[] }) {
  return (
    <ul style={styles.list}>
      {reasons.map((reason) => (
        <li key={reason} style={styles.item}>
          {reason}
        </li>
      ))}
    </ul>
  );
}

// UTC with the zone spelled out: the server does not know the reader's time zone.
const timeFormat = new Intl.DateTimeFormat('en-GB', {
  dateStyle: 'long',
  timeStyle: 'long',
  timeZone: 'UTC',
});

export function formatTime(time: Date): string {
  return timeFormat.format(time);
}

const styles = {
  box: { border: '1px solid #e4e4e7', borderRadius: '6px', margin: '0 0 16px', padding: '12px 16px' },
  row: { fontSize: '14px', lineHeight: '22px', margin: 0 },
  list: { fontSize: '15px', lineHeight: '22px', margin: '0 0 16px', paddingLeft: '20px' },
  item: { margin: '0 0 4px' },
} satisfies Record<string, CSSProperties>;
