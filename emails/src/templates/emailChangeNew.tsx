/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { ActionButton, type BaseEmailProps, defaultProductName, EmailLayout, expiresIn, Paragraph } from '../components/layout';

export interface EmailChangeNewProps extends BaseEmailProps {
  link: string;
  expiresInMinutes: number;
}

export function subject({ productName = defaultProductName }: EmailChangeNewProps): string {
  return `Confirm your new ${productName} email address`;
}

export function EmailChangeNew({ link, expiresInMinutes, productName = defaultProductName }: EmailChangeNewProps) {
  return (
    <EmailLayout productName={productName} preview="Confirm your new email address" heading="Confirm your new email address">
      <Paragraph>Confirm that you want to use this address for your {productName} account.</Paragraph>
      <ActionButton href={link}>Confirm email address</ActionButton>
      <Paragraph>The link works once and expires in {expiresIn(expiresInMinutes)}.</Paragraph>
      <Paragraph>If you did not ask for this, ignore this email; nothing will change.</Paragraph>
    </EmailLayout>
  );
}

export const PreviewProps: EmailChangeNewProps = {
  link: 'https://iam.example.com/email/confirm?token=lnk_a7b3c9d2e4',
  expiresInMinutes: 60,
};
