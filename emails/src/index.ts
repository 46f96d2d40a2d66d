import { render, toPlainText } from '@react-email/render';
import { createElement, type ReactElement } from 'react';
import * as alreadyRegistered from './templates/alreadyRegistered';
import * as emailChangeNew from './templates/emailChangeNew';
import * as emailChangeOld from './templates/emailChangeOld';
import * as loginCode from './templates/loginCode';
import * as newSignIn from './templates/newSignIn';
import * as orgInvitation from './templates/orgInvitation';
import * as passwordChanged from './templates/passwordChanged';
import * as passwordReset from './templates/passwordReset';
import * as securityAlert from './templates/securityAlert';
import * as verifyEmail from './templates/verifyEmail';

export type { BaseEmailProps } from './components/layout';
export type { AlreadyRegisteredProps } from './templates/alreadyRegistered';
export type { EmailChangeNewProps } from './templates/emailChangeNew';
export type { EmailChangeOldProps } from './templates/emailChangeOld';
export type { LoginCodeProps } from './templates/loginCode';
export type { NewSignInProps } from './templates/newSignIn';
export type { OrgInvitationProps } from './templates/orgInvitation';
export type { PasswordChangedProps } from './templates/passwordChanged';
export type { PasswordResetProps } from './templates/passwordReset';
export type { SecurityAlertProps, SecurityAlertReason } from './templates/securityAlert';
export type { VerifyEmailProps } from './templates/verifyEmail';

export interface EmailPropsByTemplate {
  verify_email: verifyEmail.VerifyEmailProps;
  already_registered: alreadyRegistered.AlreadyRegisteredProps;
  login_code: loginCode.LoginCodeProps;
  password_reset: passwordReset.PasswordResetProps;
  password_changed: passwordChanged.PasswordChangedProps;
  email_change_new: emailChangeNew.EmailChangeNewProps;
  email_change_old: emailChangeOld.EmailChangeOldProps;
  new_sign_in: newSignIn.NewSignInProps;
  security_alert: securityAlert.SecurityAlertProps;
  org_invitation: orgInvitation.OrgInvitationProps;
}

export type EmailTemplate = keyof EmailPropsByTemplate;

export type EmailMessage = {
  [T in EmailTemplate]: { template: T; props: EmailPropsByTemplate[T] };
}[EmailTemplate];

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

interface TemplateDefinition<Props> {
  component: (props: Props) => ReactElement;
  subject: (props: Props) => string;
}

const templates: { [T in EmailTemplate]: TemplateDefinition<EmailPropsByTemplate[T]> } = {
  verify_email: { component: verifyEmail.VerifyEmail, subject: verifyEmail.subject },
  already_registered: { component: alreadyRegistered.AlreadyRegistered, subject: alreadyRegistered.subject },
  login_code: { component: loginCode.LoginCode, subject: loginCode.subject },
  password_reset: { component: passwordReset.PasswordReset, subject: passwordReset.subject },
  password_changed: { component: passwordChanged.PasswordChanged, subject: passwordChanged.subject },
  email_change_new: { component: emailChangeNew.EmailChangeNew, subject: emailChangeNew.subject },
  email_change_old: { component: emailChangeOld.EmailChangeOld, subject: emailChangeOld.subject },
  new_sign_in: { component: newSignIn.NewSignIn, subject: newSignIn.subject },
  security_alert: { component: securityAlert.SecurityAlert, subject: securityAlert.subject },
  org_invitation: { component: orgInvitation.OrgInvitation, subject: orgInvitation.subject },
};

export const emailTemplates = Object.keys(templates) as readonly EmailTemplate[];

// html-to-text shouts headings by default; keep them as written.
const plainTextOptions = { selectors: [{ selector: 'h1', options: { uppercase: false } }] };

/** Renders a message to its subject, HTML and plain-text bodies. Props are only ever rendered as text. */
export function renderEmail(email: EmailMessage): Promise<RenderedEmail> {
  return renderTemplate(email);
}

async function renderTemplate<T extends EmailTemplate>({
  template,
  props,
}: {
  template: T;
  props: EmailPropsByTemplate[T];
}): Promise<RenderedEmail> {
  const definition = templates[template];
  const html = await render(createElement(definition.component, props));
  return { subject: definition.subject(props), html, text: toPlainText(html, plainTextOptions) };
}

/** One message per template with its preview props: for previews and for the test that renders them all. */
export function previewEmails(): EmailMessage[] {
  return [
    { template: 'verify_email', props: verifyEmail.PreviewProps },
    { template: 'already_registered', props: alreadyRegistered.PreviewProps },
    { template: 'login_code', props: loginCode.PreviewProps },
    { template: 'password_reset', props: passwordReset.PreviewProps },
    { template: 'password_changed', props: passwordChanged.PreviewProps },
    { template: 'email_change_new', props: emailChangeNew.PreviewProps },
    { template: 'email_change_old', props: emailChangeOld.PreviewProps },
    { template: 'new_sign_in', props: newSignIn.PreviewProps },
    { template: 'security_alert', props: securityAlert.PreviewProps },
    { template: 'org_invitation', props: orgInvitation.PreviewProps },
  ];
}
