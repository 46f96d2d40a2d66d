/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { ActionButton, type BaseEmailProps, defaultProductName, EmailLayout, Paragraph } from '../components/layout';
import { SignInDetails } from '../components/signInDetails';

export interface NewSignInProps extends BaseEmailProps {
  time: Date;
  device?: string;
  location?: string;
  ip?: string;
  /** Revokes the session it reports. */
  notMeLink: string;
}

export function subject({ productName = defaultProductName }: NewSignInProps): string {
  return `New sign-in to your ${productName} account`;
}

export function NewSignIn({ time, device, location, ip, notMeLink, productName = defaultProductName }: NewSignInProps) {
  return (
    <EmailLayout productName={productName} preview="A new device signed in" heading="New sign-in to your account">
      <Paragraph>Your {productName} account was just signed in to from a device we have not seen before.</Paragraph>
      <SignInDetails time={time} device={device} location={location} ip={ip} />
      <Paragraph>If this was you, there is nothing to do.</Paragraph>
      <Paragraph>If it was not, sign that device out now, then change your password:</Paragraph>
      <ActionButton href={notMeLink}>This was not me</ActionButton>
    </EmailLayout>
  );
}

export const PreviewProps: NewSignInProps = {
  time: new Date('2025-01-15T09:30:00Z'),
  device: 'Chrome on Windows',
  location: 'Berlin, Germany',
  ip: '203.0.113.42',
  notMeLink: 'https://iam.example.com/sessions/not-me?token=lnk_4e8b1f3a97',
};
