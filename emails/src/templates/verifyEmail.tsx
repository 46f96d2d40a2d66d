/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { ActionButton, type BaseEmailProps, CodeBox, defaultProductName, EmailLayout, expiresIn, Paragraph } from '../components/layout';

export interface VerifyEmailProps extends BaseEmailProps {
  code: string;
  link: string;
  expiresInMinutes: number;
}

export function subject({ code, productName = defaultProductName }: VerifyEmailProps): string {
  return `${code} is your ${productName} verification code`;
}

export function VerifyEmail({ code, link, expiresInMinutes, productName = defaultProductName }: VerifyEmailProps) {
  return (
    <EmailLayout productName={productName} preview="Your verification code" heading="Verify your email address">
      <Paragraph>Enter this code to finish creating your {productName} account:</Paragraph>
      <CodeBox code={code} />
      <Paragraph>Or confirm with one click:</Paragraph>
      <ActionButton href={link}>Verify email address</ActionButton>
      <Paragraph>The code and the link expire in {expiresIn(expiresInMinutes)}.</Paragraph>
      <Paragraph>If you did not sign up for {productName}, you can ignore this email.</Paragraph>
    </EmailLayout>
  );
}

export const PreviewProps: VerifyEmailProps = {
  code: '482915',
  link: 'https://iam.example.com/verify-email?token=lnk_3f9a2c7e1b',
  expiresInMinutes: 15,
};
