/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { ActionButton, type BaseEmailProps, defaultProductName, EmailLayout, Paragraph } from '../components/layout';

export interface AlreadyRegisteredProps extends BaseEmailProps {
  signInLink: string;
  resetLink: string;
}

export function subject({ productName = defaultProductName }: AlreadyRegisteredProps): string {
  return `You already have an account with ${productName}`;
}

export function AlreadyRegistered({ signInLink, resetLink, productName = defaultProductName }: AlreadyRegisteredProps) {
  return (
    <EmailLayout productName={productName} preview="Someone tried to sign up with your email address" heading="You already have an account">
      <Paragraph>Someone tried to sign up for {productName} with this email address, but it already has an account.</Paragraph>
      <Paragraph>If that was you, sign in instead:</Paragraph>
      <ActionButton href={signInLink}>Sign in</ActionButton>
      <Paragraph>Forgot your password? Choose a new one:</Paragraph>
      <ActionButton href={resetLink}>Reset password</ActionButton>
      <Paragraph>If it was not you, you can ignore this email; nothing has changed on your account.</Paragraph>
    </EmailLayout>
  );
}

export const PreviewProps: AlreadyRegisteredProps = {
  signInLink: 'https://iam.example.com/sign-in',
  resetLink: 'https://iam.example.com/reset-password',
};
