import type { RatioSpec } from './report';

/** The performance goals' ratios, each a target over its baseline of the same round, with its goal. */
export const primaryRatios: RatioSpec[] = [
  { key: 'refresh_vs_noop', target: 'refresh', baseline: 'noop', goal: { min: 0.5 } },
  { key: 'refresh_vs_txn', target: 'refresh', baseline: 'rotation_txn', goal: { min: 0.25 } },
  { key: 'login_vs_argon2', target: 'login', baseline: 'argon2id_verify', goal: { min: 0.9 } },
  { key: 'authed_vs_noop', target: 'auth_me', baseline: 'noop', goal: { min: 0.85 } },
  { key: 'noop_vs_express', target: 'noop', baseline: 'bare_express', goal: { min: 0.3 } },
  { key: 'signin_vs_better_auth', target: 'login', baseline: 'better_auth_signin_argon2id', goal: { min: 1.1 } },
  { key: 'session_vs_better_auth', target: 'auth_me', baseline: 'better_auth_get_session', goal: { min: 2 } },
  { key: 'verify_vs_jose', target: 'verify_access_token', baseline: 'jose_verify', goal: { min: 5 } },
];

/** Reported beside them: the rest of the transport ladder and the hash-cost matching. */
export const secondaryRatios: RatioSpec[] = [
  { key: 'trpc_vs_node_http', target: 'noop', baseline: 'bare_node_http', goal: null },
  { key: 'express_vs_node_http', target: 'bare_express', baseline: 'bare_node_http', goal: null },
  { key: 'signin_vs_better_auth_default_hashing', target: 'login', baseline: 'better_auth_signin_scrypt', goal: { min: 1 } },
  { key: 'better_auth_signin_vs_argon2', target: 'better_auth_signin_argon2id', baseline: 'argon2id_verify', goal: null },
  { key: 'better_auth_signin_vs_scrypt', target: 'better_auth_signin_scrypt', baseline: 'scrypt_verify', goal: null },
  { key: 'argon2_vs_scrypt_verify', target: 'argon2id_verify', baseline: 'scrypt_verify', goal: null },
  // Tracing off, what a span costs (1 = free): around a procedure call, and around the cheapest in-process path.
  { key: 'untraced_span_vs_plain', target: 'procedure_in_untraced_span', baseline: 'procedure_in_process', goal: null },
  { key: 'untraced_span_vs_plain_verify', target: 'verify_in_untraced_span', baseline: 'verify_access_token', goal: null },
];
