/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { type BaseEmailProps, defaultProductName, EmailLayout, Paragraph } from '../components/layout';
import { SignInDetails } from '../components/signInDetails';

export interface PasswordChangedProps extends BaseEmailProps {
  time: Date;
  device?: string;
  location?: string;
}

export function subject({ productName = defaultProductName }: PasswordChangedProps): string {
  return `Your ${productName} password was changed`;
}

export function PasswordChanged({ time, device, location, productName = defaultProductName }: PasswordChangedProps) {
  return (
    <EmailLayout productName={productName} preview="Your password was changed" heading="Your password was changed">
      <Paragraph>The password of your {productName} account was changed.</Paragraph>
      <SignInDetails time={time} device={device} location={location} />
      <Paragraph>If you did not do this, reset your password right away: someone else may have access to your account.</Paragraph>
    </EmailLayout>
  );
}

export const PreviewProps: PasswordChangedProps = {
  time: new Date('2025-01-15T09:30:00Z'),
  device: 'Safari on iPhone',
  location: 'Montréal, Canada',
};
