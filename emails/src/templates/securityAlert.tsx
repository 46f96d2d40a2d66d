/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { ActionButton, type BaseEmailProps, defaultProductName, EmailLayout, Paragraph } from '../components/layout';
import { ReasonList, SignInDetails } from '../components/signInDetails';

export type SecurityAlertReason =
  | 'token_reuse'
  | 'session_revoked'
  | 'session_limit'
  | 'anomaly'
  | 'mfa_changed'
  | 'passkey_added'
  | 'passkey_removed'
  | 'passkey_cloned'
  | 'mfa_reset';

export interface SecurityAlertProps extends BaseEmailProps {
  reason: SecurityAlertReason;
  time: Date;
  device?: string;
  location?: string;
  /** What the checks saw, in words the user understands. */
  reasons?: string[];
  /** Revokes the session the alert is about. */
  notMeLink?: string;
}

const copy = {
  token_reuse: {
    subject: (productName: string) => `Security alert: a ${productName} session was signed out`,
    heading: 'We signed out a session to protect you',
    body: 'A sign-in token for your account was used twice, which can mean it was copied. We signed that session out on every device.',
  },
  session_revoked: {
    subject: (productName: string) => `A ${productName} session was signed out`,
    heading: 'A session was signed out',
    body: 'One of the sessions on your account was signed out.',
  },
  session_limit: {
    subject: (productName: string) => `Your oldest ${productName} session was signed out`,
    heading: 'Your oldest session was signed out',
    body: 'Your account keeps a limited number of sessions at once. A new sign-in replaced the session you had used least recently, which is now signed out. If the new sign-in was not you, change your password.',
  },
  mfa_changed: {
    subject: (productName: string) => `Two-step sign-in changed on your ${productName} account`,
    heading: 'Your two-step sign-in changed',
    body: 'An authenticator app was turned on or off for your account. If you did not do this, end that session and change your password.',
  },
  passkey_added: {
    subject: (productName: string) => `A passkey was added to your ${productName} account`,
    heading: 'A passkey was added',
    body: 'A new passkey can now sign in to your account. If you did not add it, end that session, remove the passkey and change your password.',
  },
  passkey_removed: {
    subject: (productName: string) => `A passkey was removed from your ${productName} account`,
    heading: 'A passkey was removed',
    body: 'One of your passkeys can no longer sign in to your account. If you did not remove it, end that session and change your password.',
  },
  passkey_cloned: {
    subject: (productName: string) => `Security alert: a ${productName} passkey may have been copied`,
    heading: 'A passkey may have been copied',
    body: 'A sign-in with one of your passkeys carried a signature counter older than one we had seen, which can mean the key was copied to another device. We refused it. Remove that passkey and add a new one.',
  },
  mfa_reset: {
    subject: (productName: string) => `Your ${productName} two-step sign-in was reset`,
    heading: 'Your two-step sign-in was reset',
    body: 'An administrator removed your authenticator app, your backup codes and your passkeys, usually because you asked them to after losing a device. Set them up again after you sign in. If you did not ask for this, contact support.',
  },
  anomaly: {
    subject: (productName: string) => `Unusual activity on your ${productName} account`,
    heading: 'Unusual activity on your account',
    body: 'We noticed activity on your account that does not look like you, and asked for extra confirmation.',
  },
} satisfies Record<SecurityAlertReason, { subject: (productName: string) => string; heading: string; body: string }>;

export function subject({ reason, productName = defaultProductName }: SecurityAlertProps): string {
  return copy[reason].subject(productName);
}

export function SecurityAlert({
  reason,
  time,
  device,
  location,
  reasons,
  notMeLink,
  productName = defaultProductName,
}: SecurityAlertProps) {
  const { heading, body } = copy[reason];
  return (
    <EmailLayout productName={productName} preview={heading} heading={heading}>
      <Paragraph>{body}</Paragraph>
      <SignInDetails time={time} device={device} location={location} />
      {reasons && reasons.length > 0 ? (
        <>
          <Paragraph>What we noticed:</Paragraph>
          <ReasonList reasons={reasons} />
        </>
      ) : null}
      {notMeLink ? (
        <>
          <Paragraph>If this was not you, sign that session out and change your password:</Paragraph>
          <ActionButton href={notMeLink}>This was not me</ActionButton>
        </>
      ) : (
        <Paragraph>If this was not you, change your password right away.</Paragraph>
      )}
    </EmailLayout>
  );
}

export const PreviewProps: SecurityAlertProps = {
  reason: 'anomaly',
  time: new Date('2025-01-15T09:30:00Z'),
  device: 'Chrome on Android',
  location: 'São Paulo, Brazil',
  reasons: ['A new country since your last sign-in', 'Travel faster than a plane could fly'],
  notMeLink: 'https://iam.example.com/sessions/not-me?token=lnk_9f2d7c5b18',
};
