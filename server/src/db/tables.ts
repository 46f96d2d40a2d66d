export * from './schema/auditEvents';
export * from './schema/challenges';
export * from './schema/devices';
export * from './schema/hmacNonces';
export * from './schema/rateLimits';
export * from './schema/sessions';
export * from './schema/signingKeys';
export * from './schema/users';
