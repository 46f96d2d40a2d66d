/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { ActionButton, type BaseEmailProps, CodeBox, defaultProductName, EmailLayout, expiresIn, Paragraph } from '../components/layout';
import { ReasonList, SignInDetails } from '../components/signInDetails';

export interface LoginCodeProps extends BaseEmailProps {
  code: string;
  /** The one-click link; absent when the code must be typed where it was asked for (a step-up). */
  link?: string;
  expiresInMinutes: number;
  time: Date;
  device?: string;
  location?: string;
  /** Why a code was asked for, in words the user understands. */
  reasons?: string[];
  /** Ends the session the code was asked for, when it is not the user's. */
  notMeLink?: string;
}

export function subject({ code, productName = defaultProductName }: LoginCodeProps): string {
  return `${code} is your ${productName} sign-in code`;
}

export function LoginCode({
  code,
  link,
  expiresInMinutes,
  time,
  device,
  location,
  reasons,
  notMeLink,
  productName = defaultProductName,
}: LoginCodeProps) {
  return (
    <EmailLayout productName={productName} preview="Your sign-in code" heading="Confirm it is you">
      <Paragraph>Enter this code to sign in to {productName}:</Paragraph>
      <CodeBox code={code} />
      {link ? (
        <>
          <Paragraph>Or sign in with one click from the device you are signing in on:</Paragraph>
          <ActionButton href={link}>Sign in</ActionButton>
          <Paragraph>The code and the link expire in {expiresIn(expiresInMinutes)}.</Paragraph>
        </>
      ) : (
        <Paragraph>The code expires in {expiresIn(expiresInMinutes)}.</Paragraph>
      )}
      <SignInDetails time={time} device={device} location={location} />
      {reasons && reasons.length > 0 ? (
        <>
          <Paragraph>We asked for a code because:</Paragraph>
          <ReasonList reasons={reasons} />
        </>
      ) : null}
      <Paragraph>If you are not signing in, do not share this code with anyone. Someone may know your password: change it.</Paragraph>
      {notMeLink ? (
        <>
          <Paragraph>If this was not you, end that session now:</Paragraph>
          <ActionButton href={notMeLink}>This was not me</ActionButton>
        </>
      ) : null}
    </EmailLayout>
  );
}

export const PreviewProps: LoginCodeProps = {
  code: '730164',
  link: 'https://iam.example.com/sign-in/link?token=lnk_8d1e4b6a02',
  expiresInMinutes: 10,
  time: new Date('2025-01-15T09:30:00Z'),
  device: 'Firefox on macOS',
  location: 'Lyon, France',
  reasons: ['Sign-in from a new device', 'Sign-in from a new location'],
  notMeLink: 'https://iam.example.com/not-me?token=lnk_4e8b1f3a97',
};
