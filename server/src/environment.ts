import { developmentLimitOverrides, type LimitName, type LimitOverrides } from './modules/rateLimit/limits';

/**
 * What the library and the standalone service default to by environment (docs/operations.md,
 * library defaults). The standalone reads NODE_ENV in `standalone/env.ts` and passes it as
 * `environment`; a host that does not pass one gets its process's NODE_ENV, read here (the one
 * reader of `process.env` besides `standalone/env.ts`).
 */
export const environments = ['development', 'production', 'test'] as const;
export type Environment = (typeof environments)[number];

/** The Pwned Passwords range API the breach check asks in production. */
export const publicPwnedPasswordsUrl = 'https://api.pwnedpasswords.com';

/**
 * NODE_ENV as the standalone service takes it: unset or empty is `development`; `set: false`
 * says it was unset. A value that is none of the three is refused, as the standalone refuses it.
 */
export function environmentOfProcess(): { environment: Environment; set: boolean } {
  const value = process.env.NODE_ENV?.trim();
  if (value === undefined || value === '') return { environment: 'development', set: false };
  if (!(environments as readonly string[]).includes(value)) {
    throw new Error(
      `Invalid createIamServer options:\n  environment: NODE_ENV=${value} is not development, production or test; pass the environment option`,
    );
  }
  return { environment: value as Environment, set: true };
}

/**
 * The rate limits of an environment: in development the development profile (the per-IP
 * sign-up and login limits ×10) under the given overrides, field by field, so an operator's
 * choice always wins; elsewhere the overrides alone.
 */
export function rateLimitsFor(environment: Environment, overrides: LimitOverrides | undefined): LimitOverrides | undefined {
  if (environment !== 'development') return overrides;
  const merged: LimitOverrides = { ...overrides };
  for (const [name, spec] of Object.entries(developmentLimitOverrides) as Array<[LimitName, LimitOverrides[LimitName]]>) {
    merged[name] = { ...spec, ...overrides?.[name] };
  }
  return merged;
}

/**
 * The defaults that depend on the environment. Outside production nothing asks the network
 * unasked: the MX check is on only with `dnsServers` and the online breach check is off (a
 * development sandbox's resolver may answer nothing); `/metrics` is open. In production the MX
 * check asks the OS resolver, the breach check asks Pwned Passwords and `/metrics` is closed.
 */
export function environmentDefaults(environment: Environment, given: { dnsServers?: string[] }) {
  const production = environment === 'production';
  return {
    mxCheck: production || (given.dnsServers?.length ?? 0) > 0,
    hibpApiUrl: production ? publicPwnedPasswordsUrl : null,
    metrics: !production,
    /** Without a Resend key, production refuses to start unless `mail.transport: 'outbox'` says so on purpose. */
    mailProviderRequired: production,
  };
}
