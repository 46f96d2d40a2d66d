/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { ActionButton, type BaseEmailProps, defaultProductName, EmailLayout, Paragraph } from '../components/layout';

export interface OrgInvitationProps extends BaseEmailProps {
  link: string;
  /** As its owner named it: rendered as text only. */
  organizationName: string;
  /** Who sent the invitation: their name, or their address. */
  inviter: string;
  role: 'admin' | 'member';
  expiresInDays: number;
}

export function subject({ organizationName, productName = defaultProductName }: OrgInvitationProps): string {
  return `You are invited to join ${organizationName} on ${productName}`;
}

export function OrgInvitation({
  link,
  organizationName,
  inviter,
  role,
  expiresInDays,
  productName = defaultProductName,
}: OrgInvitationProps) {
  return (
    <EmailLayout productName={productName} preview={`Join ${organizationName}`} heading={`Join ${organizationName}`}>
      <Paragraph>
        {inviter} invited you to join {organizationName} on {productName} as {role === 'admin' ? 'an admin' : 'a member'}.
      </Paragraph>
      <Paragraph>Sign in with this email address (or create an account with it), then accept:</Paragraph>
      <ActionButton href={link}>Accept the invitation</ActionButton>
      <Paragraph>
        The link works once and expires in {expiresInDays === 1 ? '1 day' : `${expiresInDays} days`}. If you do not know why you received
        this, ignore this email; nothing happens unless you accept.
      </Paragraph>
    </EmailLayout>
  );
}

export const PreviewProps: OrgInvitationProps = {
  link: 'https://iam.example.com/accept-invitation?token=lnk_9d1e4b7a20',
  organizationName: 'Acme Research',
  inviter: 'Ada Lovelace',
  role: 'member',
  expiresInDays: 7,
};
