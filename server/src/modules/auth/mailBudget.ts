import { canaryHash } from '../devices/canary';
import type { ClientInfo } from '../devices/clientInfo';
import { isDeviceOfAccount } from '../devices/history';
import { networkOf } from '../devices/network';
import type { LimitName } from '../rateLimit/limits';
import { normalizeEmail } from '../users/email';
import type { Services } from './services';

/** Mails a caller can make the service send to an address it names (sign-up, reset, sign-in codes). */
export type AddressMail = 'signup' | 'passwordReset' | 'signIn';

const budgets: Record<AddressMail, { device: LimitName; address: LimitName; network: LimitName }> = {
  signup: { device: 'signupPerDevice', address: 'signupPerEmail', network: 'signupPerEmailNetwork' },
  passwordReset: { device: 'passwordResetPerDevice', address: 'passwordResetPerEmail', network: 'passwordResetPerEmailNetwork' },
  signIn: { device: 'signInMailsPerDevice', address: 'signInMailsPerEmail', network: 'signInMailsPerEmailNetwork' },
};

/** A mail the budget allowed; `refund` gives the point back when the provider did not take the mail. */
export interface MailAllowance {
  refund(): Promise<void>;
}

/**
 * Quiet per-address caps (docs/security.md, lockout resistance): whether a mail to `email` may
 * go out for this request. The caller answers the same either way; only the mail is capped, so
 * no flood by others can make the service refuse the owner (OWASP ASVS 4.0 V2.2.1: anti-
 * automation that does not become a denial of service), and the mailbox is not flooded:
 * 1. a device that signed in to the account before has a budget of its own, untouched by
 *    other devices' requests;
 * 2. then the address's budget (a few mails an hour);
 * 3. past it, one mail an hour per requesting network (/24, /48) that has had none: the
 *    owner, asking from their own network, still gets a code, while a flood gets at most one
 *    mail per network it controls.
 */
export async function claimMailBudget(
  services: Services,
  kind: AddressMail,
  email: string,
  client: ClientInfo,
  userId: string | null,
): Promise<MailAllowance | null> {
  const { limits } = services;
  const address = normalizeEmail(email);
  const budget = budgets[kind];
  const allow = (name: LimitName, key: string): MailAllowance => ({ refund: () => limits.get(name).reward(key) });

  if (userId && (await isDeviceOfAccount(services.db, userId, client)) && client.canary) {
    const key = `${address}|${canaryHash(client.canary)}`;
    if (!(await limits.get(budget.device).hit(key)).exceeded) return allow(budget.device, key);
  }
  if (!(await limits.get(budget.address).hit(address)).exceeded) return allow(budget.address, address);
  const key = `${address}|${networkOf(client.ip, { ipv4: 24, ipv6: 48 }) ?? 'unknown'}`;
  if (!(await limits.get(budget.network).hit(key)).exceeded) return allow(budget.network, key);
  return null;
}

/**
 * Sends a mail to an address a caller named when its budget allows; quietly nothing otherwise.
 * A mail the provider refused is given back to the budget, so an outage uses up no cap.
 */
export async function sendWithinBudget(
  services: Services,
  target: { kind: AddressMail; email: string; client: ClientInfo; userId: string | null },
  send: () => Promise<unknown>,
): Promise<void> {
  const allowance = await claimMailBudget(services, target.kind, target.email, target.client, target.userId);
  if (!allowance) {
    services.metrics.mailsCapped.inc({ kind: target.kind });
    return;
  }
  try {
    await send();
  } catch (error) {
    await allowance.refund();
    throw error;
  }
}
