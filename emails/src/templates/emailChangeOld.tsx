/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { type BaseEmailProps, defaultProductName, EmailLayout, Paragraph } from '../components/layout';
import { SignInDetails } from '../components/signInDetails';

export interface EmailChangeOldProps extends BaseEmailProps {
  /** Already masked by the caller (`j***@example.com`): this mailbox may no longer be the owner's. */
  newEmailMasked: string;
  time: Date;
}

export function subject({ productName = defaultProductName }: EmailChangeOldProps): string {
  return `Your ${productName} email address is being changed`;
}

export function EmailChangeOld({ newEmailMasked, time, productName = defaultProductName }: EmailChangeOldProps) {
  return (
    <EmailLayout productName={productName} preview="Your email address is being changed" heading="Your email address is being changed">
      <Paragraph>
        Someone asked to change the email address of your {productName} account to <strong>{newEmailMasked}</strong>. The change takes
        effect once the new address is confirmed.
      </Paragraph>
      <SignInDetails time={time} />
      <Paragraph>If this was not you, sign in and change your password right away.</Paragraph>
    </EmailLayout>
  );
}

export const PreviewProps: EmailChangeOldProps = {
  newEmailMasked: 'j***@example.org',
  time: new Date('2025-01-15T09:30:00Z'),
};
