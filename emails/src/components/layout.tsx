/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { Body, Button, Container, Head, Heading, Hr, Html, Link, Preview, Section, Text } from '@react-email/components';
import type { CSSProperties, ReactNode } from 'react';

export const defaultProductName = 'IAM';

export interface BaseEmailProps {
  /** Shown in the subject, header and footer. */
  productName?: string;
}

export function EmailLayout({
  productName,
  preview,
  heading,
  children,
}: {
  productName: string;
  preview: string;
  heading: string;
  children: ReactNode;
}) {
  return (
    <Html lang="en" dir="ltr">
      <Head />
      <Preview>{preview}</Preview>
      <Body style={styles.body}>
        <Container style={styles.container}>
          <Text style={styles.brand}>{productName}</Text>
          <Heading as="h1" style={styles.heading}>
            {heading}
          </Heading>
          {children}
          <Hr style={styles.rule} />
          <Text style={styles.footer}>
            This is an automatic security message from {productName}. We never ask for your password or codes by email or phone.
          </Text>
        </Container>
      </Body>
    </Html>
  );
}

export function Paragraph({ children }: { children: ReactNode }) {
  return <Text style={styles.paragraph}>{children}</Text>;
}

export function CodeBox({ code }: { code: string }) {
  return (
    <Section style={styles.codeBox}>
      <Text style={styles.code}>{code}</Text>
    </Section>
  );
}

/** A button plus the raw link for clients that do not render buttons; the plain text shows the link once. */
export function ActionButton({ href, children }: { href: string; children: ReactNode }) {
  return (
    <>
      <Section style={styles.buttonRow}>
        <Button href={href} style={styles.button}>
          {children}
        </Button>
      </Section>
      <Text style={styles.small} data-skip-in-text>
        If the button does not work, copy this link into your browser:{' '}
        <Link href={href} style={styles.link}>
          {href}
        </Link>
      </Text>
    </>
  );
}

export function expiresIn(minutes: number): string {
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

const styles = {
  body: {
    backgroundColor: '#f4f4f5',
    color: '#18181b',
    fontFamily: '-apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Helvetica, Arial, sans-serif',
    margin: 0,
    padding: '24px 0',
  },
  container: {
    backgroundColor: '#ffffff',
    borderRadius: '8px',
    maxWidth: '520px',
    padding: '32px',
  },
  brand: { color: '#52525b', fontSize: '14px', fontWeight: 600, letterSpacing: '0.04em', margin: '0 0 16px' },
  heading: { fontSize: '22px', fontWeight: 600, lineHeight: '28px', margin: '0 0 16px' },
  paragraph: { fontSize: '16px', lineHeight: '24px', margin: '0 0 16px' },
  codeBox: { backgroundColor: '#f4f4f5', borderRadius: '6px', margin: '8px 0 24px', padding: '16px' },
  code: {
    fontFamily: '"SFMono-Regular", Menlo, Consolas, monospace',
    fontSize: '32px',
    fontWeight: 700,
    letterSpacing: '0.3em',
    lineHeight: '40px',
    margin: 0,
    textAlign: 'center',
  },
  buttonRow: { margin: '8px 0 16px' },
  button: {
    backgroundColor: '#1d4ed8',
    borderRadius: '6px',
    color: '#ffffff',
    fontSize: '16px',
    fontWeight: 600,
    padding: '12px 20px',
    textDecoration: 'none',
  },
  small: { color: '#52525b', fontSize: '13px', lineHeight: '20px', margin: '0 0 16px' },
  link: { color: '#1d4ed8', wordBreak: 'break-all' },
  rule: { borderColor: '#e4e4e7', margin: '24px 0 16px' },
  footer: { color: '#71717a', fontSize: '12px', lineHeight: '18px', margin: 0 },
} satisfies Record<string, CSSProperties>;
