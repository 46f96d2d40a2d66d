import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type EmailMessage, type EmailTemplate, type RenderedEmail, renderEmail } from '@iam/emails';
import type { Logger } from 'pino';
import { Resend } from 'resend';
import { IamError } from '../errors/iamError';
import { withSpan } from '../telemetry/tracing';

export interface Mailer {
  /** Resolves once the provider (or the outbox) has accepted the message; otherwise throws `MAIL_UNAVAILABLE`. */
  send(message: { to: string; email: EmailMessage }, options?: SendOptions): Promise<{ id: string }>;
}

export interface SendOptions {
  /** Sent as Resend's `Idempotency-Key`: a retry with the same key is delivered once (the outbox passes its row id). */
  idempotencyKey?: string;
}

export interface MailerDeps {
  /** Without a key, messages go to the file outbox instead of Resend. */
  resendApiKey?: string;
  resendBaseUrl?: string;
  from: string;
  outboxDir: string;
  logger: Logger;
  sendTimeoutInMilliseconds?: number;
}

/** What a transport is handed: rendered, addressed, and nothing else. */
interface OutgoingEmail extends RenderedEmail {
  from: string;
  to: string;
  template: EmailTemplate;
}

type Transport = (email: OutgoingEmail, options: SendOptions) => Promise<{ id: string }>;

const resendDefaultBaseUrl = 'https://api.resend.com';

// A hung mail API must fail the request that is waiting on it, not hold it open.
const defaultSendTimeoutInMilliseconds = 10_000;

export function createMailer(deps: MailerDeps): Mailer {
  const transport = deps.resendApiKey
    ? resendTransport({
        apiKey: deps.resendApiKey,
        baseUrl: deps.resendBaseUrl,
        timeoutInMilliseconds: deps.sendTimeoutInMilliseconds ?? defaultSendTimeoutInMilliseconds,
      })
    : outboxTransport(deps.outboxDir);

  const transportName = deps.resendApiKey ? 'resend' : 'outbox';
  return {
    send({ to, email }, options = {}) {
      // The span names the template and the transport, never the recipient.
      return withSpan(
        'mail.send',
        async () => {
          const rendered = await renderEmail(email);
          // Bodies, codes and links are secrets: only the template and the recipient's domain are logged.
          const context = { template: email.template, recipientDomain: domainOf(to) };
          try {
            const { id } = await transport({ ...rendered, from: deps.from, to, template: email.template }, options);
            deps.logger.info({ ...context, messageId: id }, 'email sent');
            return { id };
          } catch (error) {
            deps.logger.warn({ ...context, err: error }, 'email not sent');
            throw new IamError('MAIL_UNAVAILABLE', { cause: error });
          }
        },
        { attributes: { 'iam.mail.template': email.template, 'iam.mail.transport': transportName } },
      );
    },
  };
}

function resendTransport(options: { apiKey: string; baseUrl: string | undefined; timeoutInMilliseconds: number }): Transport {
  // An explicit base URL, so the SDK never falls back to reading RESEND_BASE_URL from process.env.
  const baseUrl = (options.baseUrl ?? resendDefaultBaseUrl).replace(/\/+$/, '');
  const resend = new Resend(options.apiKey, { baseUrl });
  return async ({ from, to, subject, html, text, template }, { idempotencyKey }) => {
    // The SDK reports failures as `{ error }`, including its own timeouts and network errors.
    const { data, error } = await resend.emails.send(
      { from, to, subject, html, text, tags: [{ name: 'template', value: template }] },
      { signal: AbortSignal.timeout(options.timeoutInMilliseconds), ...(idempotencyKey ? { idempotencyKey } : {}) },
    );
    if (error) {
      const status = error.statusCode ?? 'no status';
      throw new Error(`Resend refused the email: ${error.name} (${status}): ${error.message}`, { cause: error });
    }
    if (!data?.id) throw new Error('Resend answered without an email id');
    return { id: data.id };
  };
}

/** Development mail: one JSON file per message, named so that a plain sort is send order. */
function outboxTransport(outboxDir: string): Transport {
  // Breaks ties between messages written in the same millisecond.
  let sequence = 0;
  return async ({ from, to, subject, html, text, template }) => {
    const id = `eml_${randomBytes(16).toString('hex')}`;
    const createdAt = new Date();
    const name = `${createdAt.toISOString().replaceAll(':', '-')}_${String(sequence++).padStart(6, '0')}_${id}.json`;
    const file = join(outboxDir, name);
    const temporary = join(outboxDir, `.${name}.tmp`);
    const body = JSON.stringify({ id, to, from, subject, html, text, template, createdAt: createdAt.toISOString() }, null, 2);

    await mkdir(outboxDir, { recursive: true, mode: 0o700 });
    try {
      // Written aside then renamed, so a reader never sees half a message.
      await writeFile(temporary, body, { mode: 0o600, flag: 'wx' });
      await rename(temporary, file);
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => undefined); // the write error is the one to report
      throw error;
    }
    return { id };
  };
}

function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at === -1 ? '(invalid address)' : address.slice(at + 1).toLowerCase();
}
