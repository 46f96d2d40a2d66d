export type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
export type { IamConfig } from './config';
export { createIamServer, type IamServer } from './createIamServer';
export { applyMigrations } from './db/migrate';
export type { AppOptions } from './http/app';
export { createLogger } from './logger';
export { type BuiltInStepUpAction, builtInStepUpActions, requireStepUp, type StepUpChallenge } from './modules/auth/stepUp';
export type { Clock } from './modules/clock';
export { distanceInKm, type GeoLocation, lookupGeo } from './modules/devices/geo';
export { createEmailPolicy, type EmailPolicy, type EmailPolicyDeps } from './modules/email/emailPolicy';
export { createMailer, type Mailer, type MailerDeps } from './modules/email/mailer';
export { IamError, isIamError } from './modules/errors/iamError';
export { defaultLifetimes, type Lifetimes } from './modules/lifetimes';
export { stepUpTokenTtlInSeconds } from './modules/mfa/stepUpTokens';
export { activeTraceFields, type TraceFields, withSpan } from './modules/telemetry/tracing';
export { defaultTimeouts, type Timeouts } from './modules/timeouts';
export { authenticate, bearerTokenOf, hasRoles, type IamAuth, type RoleRequirement } from './modules/tokens/authenticate';
export { passwordHashOptions } from './modules/users/password';
export { createPasswordPolicy, type PasswordPolicy, type PasswordPolicyOptions } from './modules/users/passwordPolicy';
export { changeRole } from './modules/users/roles';
export {
  type SecurityEvent,
  type SecurityEventData,
  type SecurityEventType,
  securityEventTypes,
  type WebhookEndpointConfig,
} from './modules/webhooks/webhooks';
export type { AppRouter } from './routers/root';
export type { AuthResult } from './trpc/authResult';
