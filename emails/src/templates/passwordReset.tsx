/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { ActionButton, type BaseEmailProps, defaultProductName, EmailLayout, expiresIn, Paragraph } from '../components/layout';

export interface PasswordResetProps extends BaseEmailProps {
  link: string;
  expiresInMinutes: number;
}

export function subject({ productName = defaultProductName }: PasswordResetProps): string {
  return `Reset your ${productName} password`;
}

export function PasswordReset({ link, expiresInMinutes, productName = defaultProductName }: PasswordResetProps) {
  return (
    <EmailLayout productName={productName} preview="Choose a new password" heading="Reset your password">
      <Paragraph>We received a request to reset the password of your {productName} account.</Paragraph>
      <ActionButton href={link}>Choose a new password</ActionButton>
      <Paragraph>The link works once and expires in {expiresIn(expiresInMinutes)}.</Paragraph>
      <Paragraph>If you did not ask for this, ignore this email; your password stays the same.</Paragraph>
    </EmailLayout>
  );
}

export const PreviewProps: PasswordResetProps = {
  link: 'https://iam.example.com/reset-password?token=lnk_5c2f9e7d31',
  expiresInMinutes: 30,
};
