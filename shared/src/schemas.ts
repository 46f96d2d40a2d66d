import { z } from 'zod';

/**
 * Input contracts shared by the server and its clients. Objects are strict: unknown keys
 * are refused, and every leaf is a string of bounded length, so nothing but a plain
 * string ever reaches SQL (mysql2 would expand an object into SQL).
 */

/**
 * RFC 5321 caps an address at 254 octets. Internationalised addresses (RFC 6531) are
 * welcome: `josé@…` is a real mailbox, distinct from `jose@…`.
 */
export const emailSchema = z
  .string()
  .trim()
  .min(3)
  .max(254)
  .pipe(z.email({ pattern: z.regexes.unicodeEmail, message: 'Enter a valid email address.' }));

/**
 * NIST SP 800-63B §3.1.1.2: at least 8 characters, long passphrases allowed, no composition
 * rules; normalised with NFKC so the same password typed on two keyboards matches.
 */
export const passwordMinLength = 8;
export const passwordMaxLength = 256;
export const passwordSchema = z
  .string()
  .max(passwordMaxLength * 4)
  .transform((value) => value.normalize('NFKC'))
  .pipe(z.string().min(passwordMinLength).max(passwordMaxLength));

export const nameSchema = z
  .string()
  .transform((value) => value.normalize('NFKC').trim())
  .pipe(z.string().min(1).max(100));

export const idSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z]{3}_[a-z0-9]{10,40}$/);

/**
 * Verification and MFA codes: an emailed or TOTP code (6 to 10 digits) or a backup code
 * (10 characters of the base32 alphabet, any case, with or without the dash: `xxxxx-xxxxx`).
 */
export const codeSchema = z
  .string()
  .trim()
  .regex(/^(?:[0-9]{6,10}|[A-Za-z2-7]{5}-?[A-Za-z2-7]{5})$/, {
    message: 'Enter the code from the email or your authenticator app, or a backup code.',
  });

/** A code from an authenticator app (RFC 6238: 6 digits). */
export const totpCodeSchema = z
  .string()
  .trim()
  .regex(/^[0-9]{6}$/, { message: 'Enter the 6-digit code from your authenticator app.' });

/** Emailed link secrets: base64url, bounded. */
export const linkTokenSchema = z
  .string()
  .min(16)
  .max(128)
  .regex(/^[A-Za-z0-9_-]+$/);

/** A solved bot check: the base64 ALTCHA payload (docs/api.md, bot check). */
export const botCheckSchema = z.string().min(1).max(2048);

export const signupInput = z.strictObject({
  email: emailSchema,
  password: passwordSchema,
  name: nameSchema.optional(),
  botCheck: botCheckSchema.optional(),
});

/**
 * `password` is the verifier's own, asked for (`password_required`) when the code or link is
 * used in another browser than the sign-up's: a password someone else chose never becomes valid.
 */
export const verifyEmailInput = z.union([
  z.strictObject({ challengeId: idSchema, code: codeSchema, password: passwordSchema.optional() }),
  z.strictObject({ token: linkTokenSchema, password: passwordSchema.optional() }),
]);

export const loginInput = z.strictObject({
  email: emailSchema,
  password: z
    .string()
    .min(1)
    .max(passwordMaxLength * 4),
  botCheck: botCheckSchema.optional(),
});

export const requestPasswordResetInput = z.strictObject({ email: emailSchema, botCheck: botCheckSchema.optional() });
export const requestSignInInput = z.strictObject({ email: emailSchema, botCheck: botCheckSchema.optional() });
export const signInWithCodeInput = z.strictObject({ challengeId: idSchema, code: codeSchema });
export const signInWithLinkInput = z.strictObject({ token: linkTokenSchema });
export const resetPasswordInput = z.strictObject({ token: linkTokenSchema, password: passwordSchema });
export const changePasswordInput = z.strictObject({
  currentPassword: loginInput.shape.password,
  newPassword: passwordSchema,
});

export const challengeCodeInput = z.strictObject({ challengeId: idSchema, code: codeSchema });
export const challengeIdInput = z.strictObject({ challengeId: idSchema });
export const linkTokenInput = z.strictObject({ token: linkTokenSchema });

export const notMeInput = z.strictObject({ token: linkTokenSchema });

export const sessionIdInput = z.strictObject({ sessionId: idSchema });

/**
 * A step-up action: the built-in `email_change` and `totp_disable`, or one a host app declares
 * (`stepUpActions` in the config); the service refuses actions it does not know.
 */
export const stepUpActionSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9_.:-]*$/, { message: 'Not a step-up action name.' });

/**
 * A step-up token (mfa.stepUp.verify) as sensitive procedures take it. Optional in their
 * inputs: a missing token is `STEP_UP_REQUIRED`, not an input error, so clients learn what to do.
 */
export const stepUpTokenSchema = z
  .string()
  .min(16)
  .max(128)
  .regex(/^[A-Za-z0-9_-]+$/);

export const totpConfirmInput = z.strictObject({ code: totpCodeSchema });
export const totpDisableInput = z.strictObject({ code: codeSchema, stepUpToken: stepUpTokenSchema.optional() });
export const stepUpBeginInput = z.strictObject({ action: stepUpActionSchema });
export const updateProfileInput = z.strictObject({ name: nameSchema.nullable() });
export const deleteAccountInput = z.strictObject({ stepUpToken: stepUpTokenSchema.optional() });
export const setPasswordInput = z.strictObject({ newPassword: passwordSchema, stepUpToken: stepUpTokenSchema.optional() });
export const requestEmailChangeInput = z.strictObject({ newEmail: emailSchema, stepUpToken: stepUpTokenSchema.optional() });

export const revokeAllInput = z.strictObject({ includeCurrent: z.boolean().optional() }).optional();

export type SignupInput = z.infer<typeof signupInput>;
export type VerifyEmailInput = z.infer<typeof verifyEmailInput>;
export type LoginInput = z.infer<typeof loginInput>;

/**
 * An access token as a BFF forwards it. Any string up to the bound is accepted: a token that
 * is malformed, forged or expired is an answer (`active: false`), not an input error.
 */
export const forwardedAccessTokenSchema = z.string().max(8192);

/** A refresh token as a BFF forwards it; an unknown one is refused by the refresh itself. */
export const forwardedRefreshTokenSchema = z.string().max(512);

/** A device canary as the service issues it (`iam_cid`): 256 bits, base64url. */
export const canaryIdSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/, { message: 'Not a device canary issued by this service.' });

export const roleSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/);

/** The browser a BFF acts for: its address, user agent and device canary. */
export const forwardedClientSchema = z.strictObject({
  ip: z.union([z.ipv4(), z.ipv6()]),
  userAgent: z.string().max(512),
  canaryId: canaryIdSchema.optional(),
});

export const bffIntrospectInput = z.strictObject({ accessToken: forwardedAccessTokenSchema });

export const bffAuthorizeInput = z
  .strictObject({
    accessToken: forwardedAccessTokenSchema,
    /** At least one, unless `organization` is given (then the organization's check may be the only one). */
    roles: z.array(roleSchema).max(32),
    mode: z.enum(['all', 'any']).optional(),
    /**
     * The token must name this organization (its `org` claim), and its holder must be a member
     * now (one of `roles`, when given): read from the database on every call (docs/api.md, bff.authorize).
     */
    organization: z
      .strictObject({
        id: z
          .string()
          .max(64)
          .regex(/^org_[a-z0-9]{10,40}$/),
        roles: z
          .array(z.enum(['owner', 'admin', 'member']))
          .min(1)
          .max(3)
          .optional(),
      })
      .optional(),
  })
  .refine((input) => input.roles.length > 0 || input.organization !== undefined, {
    message: 'Pass at least one role, or an organization.',
    path: ['roles'],
  });

export const bffRefreshInput = z.strictObject({ refreshToken: forwardedRefreshTokenSchema, client: forwardedClientSchema });

export const bffLogoutInput = z
  .strictObject({
    refreshToken: forwardedRefreshTokenSchema.optional(),
    accessToken: forwardedAccessTokenSchema.optional(),
    /** For the audit trail: the browser the BFF signs out. */
    client: forwardedClientSchema.optional(),
  })
  .refine((input) => input.refreshToken !== undefined || input.accessToken !== undefined, {
    message: 'Pass the refresh token, the access token or both.',
  });

export type ForwardedClient = z.infer<typeof forwardedClientSchema>;
export type BffAuthorizeInput = z.infer<typeof bffAuthorizeInput>;

/** A password sign-in on behalf of the browser a BFF serves (`botCheck`: the browser's solution, passed through). */
export const bffLoginInput = z.strictObject({
  email: emailSchema,
  password: loginInput.shape.password,
  client: forwardedClientSchema,
  botCheck: botCheckSchema.optional(),
});

/** A sign-up on behalf of the browser a BFF serves. */
export const bffSignupInput = z.strictObject({
  email: emailSchema,
  password: passwordSchema,
  name: nameSchema.optional(),
  client: forwardedClientSchema,
  botCheck: botCheckSchema.optional(),
});

/** `auth.verifyEmail` on behalf of the browser a BFF serves: by code or by the emailed link's token. */
export const bffVerifyEmailInput = z.union([
  z.strictObject({ challengeId: idSchema, code: codeSchema, password: passwordSchema.optional(), client: forwardedClientSchema }),
  z.strictObject({ token: linkTokenSchema, password: passwordSchema.optional(), client: forwardedClientSchema }),
]);

/** A sign-in challenge answered on behalf of the browser a BFF serves: by code or by the emailed link's token. */
export const bffVerifyChallengeInput = z.union([
  z.strictObject({ challengeId: idSchema, code: codeSchema, client: forwardedClientSchema }),
  z.strictObject({ token: linkTokenSchema, client: forwardedClientSchema }),
]);

/** A configured sign-in provider's id (`oauth.providers`), e.g. `google` or `corp-sso`. */
export const oauthProviderIdSchema = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[a-z][a-z0-9_-]*$/, { message: 'Not a sign-in provider id.' });

/** Where the browser goes back to after a provider sign-in: an absolute URL on the allowlist. */
export const oauthReturnToSchema = z.string().min(1).max(2048);

/** OAuth parameters as providers send them back: printable ASCII, bounded (RFC 6749 §A). */
const oauthParameterSchema = z
  .string()
  .min(1)
  .max(2048)
  .regex(/^[\x20-\x7e]+$/);

export const oauthAuthorizeInput = z.strictObject({ provider: oauthProviderIdSchema, returnTo: oauthReturnToSchema.optional() });
export const oauthCallbackInput = z.strictObject({
  provider: oauthProviderIdSchema,
  code: oauthParameterSchema,
  /** Required by the flow; a missing or empty one is refused as `OAUTH_STATE_INVALID`, not as bad input. */
  state: z
    .string()
    .max(2048)
    .regex(/^[\x20-\x7e]*$/)
    .optional(),
  /** RFC 9207: the `iss` the provider returned with the code, when it did. */
  iss: oauthParameterSchema.optional(),
});
export const oauthLinkInput = z.strictObject({ linkToken: linkTokenSchema });
export const oauthUnlinkInput = z.strictObject({ provider: oauthProviderIdSchema });

/** A base64url field of a WebAuthn response, bounded. */
const webauthnBytes = z
  .string()
  .max(16_384)
  .regex(/^[A-Za-z0-9_-]*$/);

/**
 * A WebAuthn credential response (Level 3 JSON) around its ceremony-specific `response` part.
 * Fields the verification does not use are dropped (not refused, since browsers add new ones),
 * and the input type takes `@simplewebauthn/browser`'s response types as they are.
 */
const credentialResponse = <T extends z.ZodRawShape>(response: T) =>
  z.object({
    id: webauthnBytes.min(1).max(1_024),
    rawId: webauthnBytes.min(1).max(1_024),
    type: z.literal('public-key'),
    response: z.object({ clientDataJSON: webauthnBytes.min(1), ...response }),
    // The extension outputs browsers report (WebAuthn Level 3 §9-10); others are dropped.
    clientExtensionResults: z
      .object({
        appid: z.boolean().optional(),
        credProps: z.object({ rk: z.boolean().optional() }).optional(),
        hmacCreateSecret: z.boolean().optional(),
      })
      .default({}),
    authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  });

/** `RegistrationResponseJSON`, as `@simplewebauthn/browser` sends it. */
export const registrationResponseSchema = credentialResponse({
  attestationObject: webauthnBytes.min(1),
  transports: z.array(z.string().max(32)).max(10).optional(),
});

/** `AuthenticationResponseJSON`. */
export const authenticationResponseSchema = credentialResponse({
  authenticatorData: webauthnBytes.min(1),
  signature: webauthnBytes.min(1),
  userHandle: webauthnBytes.max(256).optional(),
});

export const passkeyNameSchema = z.string().trim().min(1).max(100);
export const passkeyRegistrationOptionsInput = z.strictObject({ stepUpToken: stepUpTokenSchema.optional() }).optional();
export const passkeyRegisterInput = z.strictObject({ response: registrationResponseSchema, name: passkeyNameSchema.optional() });
export const passkeyAuthenticationOptionsInput = z.strictObject({ challengeId: idSchema.optional() }).optional();
export const passkeySignInInput = z.strictObject({ ceremonyId: idSchema, response: authenticationResponseSchema });
/**
 * A challenge answered with a code, or with a passkey (when its `methods` list `passkey`): the
 * ceremony from `passkey.authenticationOptions({ challengeId })` and the browser's assertion.
 */
export const challengeAnswerInput = z.union([
  challengeCodeInput,
  z.strictObject({ challengeId: idSchema, passkey: z.strictObject({ ceremonyId: idSchema, response: authenticationResponseSchema }) }),
]);
export type ChallengeAnswerInput = z.infer<typeof challengeAnswerInput>;
export const passkeyRenameInput = z.strictObject({ id: idSchema, name: passkeyNameSchema });
export const passkeyRemoveInput = z.strictObject({ id: idSchema, stepUpToken: stepUpTokenSchema.optional() });

/** A role to assign: lowercase letters, digits, `_`, `:` or `-` (as `pnpm iam grant-role` takes them). */
const assignableRoleSchema = z.string().regex(/^[a-z][a-z0-9_:-]{0,63}$/);
const userIdSchema = z.string().regex(/^usr_[a-z0-9]{10,40}$/);
const cursorSchema = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[A-Za-z0-9_-]+$/);

export const adminUsersListInput = z
  .strictObject({
    /** An email prefix, or a user id. */
    query: z.string().trim().max(254).optional(),
    status: z.enum(['active', 'disabled']).optional(),
    cursor: cursorSchema.optional(),
    limit: z.number().int().min(1).max(100).optional(),
    // tRPC's infinite queries name the direction they page in; pages only go back in time.
    direction: z.enum(['forward', 'backward']).optional(),
  })
  .optional();
export const adminUserInput = z.strictObject({ userId: userIdSchema });
export const adminDestructiveInput = z.strictObject({ userId: userIdSchema, stepUpToken: stepUpTokenSchema.optional() });
export const adminDisableInput = adminDestructiveInput.extend({ reason: z.string().trim().min(1).max(200).optional() });
export const adminSetRolesInput = adminDestructiveInput.extend({ roles: z.array(assignableRoleSchema).max(20) });
/** `auth.activity`: the signed-in user's own security events, newest first, a keyset page at a time. */
export const activityInput = z
  .strictObject({
    cursor: cursorSchema.optional(),
    limit: z.number().int().min(1).max(100).optional(),
    // tRPC's infinite queries name the direction they page in; pages only go back in time.
    direction: z.enum(['forward', 'backward']).optional(),
  })
  .optional();

export const adminAuditQueryInput = z
  .strictObject({
    userId: userIdSchema.optional(),
    types: z
      .array(
        z
          .string()
          .regex(/^[a-z_]+\.[a-zA-Z_]+$/)
          .max(64),
      )
      .max(20)
      .optional(),
    ip: z
      .string()
      .min(2)
      .max(45)
      .regex(/^[0-9a-fA-F.:]+$/)
      .optional(),
    from: z.date().optional(),
    to: z.date().optional(),
    cursor: cursorSchema.optional(),
    limit: z.number().int().min(1).max(500).optional(),
  })
  .optional();

/** The longest range `admin.audit.stats` counts over: the created-at index scan stays bounded. */
export const auditStatsMaxRangeInDays = 90;
export const adminAuditStatsInput = z
  .strictObject({
    /** Inclusive; rounded down to the start of its bucket (UTC). */
    from: z.date(),
    /** Exclusive. */
    to: z.date(),
    bucket: z.enum(['hour', 'day']).optional(),
  })
  .refine((input) => input.to.getTime() > input.from.getTime(), { message: 'to must be after from', path: ['to'] })
  .refine((input) => input.to.getTime() - input.from.getTime() <= auditStatsMaxRangeInDays * 86_400_000, {
    message: `at most ${auditStatsMaxRangeInDays} days`,
    path: ['from'],
  });

/**
 * An API key's scope, as the product that checks it names it: lower case, e.g. `reports:read`
 * or `billing.invoices:write`. A key holds at most 20.
 */
export const apiKeyScopeSchema = z.string().regex(/^[a-z][a-z0-9_.:-]{0,63}$/);
export const apiKeyScopesSchema = z.array(apiKeyScopeSchema).max(20);
export const apiKeyNameSchema = z.string().trim().min(1).max(100);
export const apiKeyCreateInput = z.strictObject({
  name: apiKeyNameSchema,
  scopes: apiKeyScopesSchema,
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});
export const apiKeyRevokeInput = z.strictObject({ id: idSchema });

/** An API key as a product forwards it: any string up to the bound (a wrong one is an answer, `unknown`, not an input error). */
export const forwardedApiKeySchema = z.string().max(256);
export const bffVerifyApiKeyInput = z.strictObject({ key: forwardedApiKeySchema, scopes: apiKeyScopesSchema.optional() });

/**
 * Organizations (docs/api.md, org). A slug is what a URL may carry: lower-case letters and
 * digits in dash-separated words, 2–48 characters.
 */
export const organizationSlugSchema = z
  .string()
  .min(2)
  .max(48)
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, { message: 'Lower-case letters and digits, in words separated by single dashes.' });
export const organizationNameSchema = z.string().trim().min(1).max(100);
export const organizationIdSchema = z
  .string()
  .max(64)
  .regex(/^org_[a-z0-9]{10,40}$/);
export const invitationIdSchema = z
  .string()
  .max(64)
  .regex(/^inv_[a-z0-9]{10,40}$/);
/** The roles a member can be given; `owner` passes only by `org.transferOwnership`. */
export const organizationAssignableRoleSchema = z.enum(['admin', 'member']);
export const organizationRoleSchema = z.enum(['owner', 'admin', 'member']);
export type OrganizationRole = z.infer<typeof organizationRoleSchema>;

export const orgCreateInput = z.strictObject({ name: organizationNameSchema, slug: organizationSlugSchema.optional() });
export const orgIdInput = z.strictObject({ organizationId: organizationIdSchema });
export const orgUpdateInput = z
  .strictObject({
    organizationId: organizationIdSchema,
    name: organizationNameSchema.optional(),
    slug: organizationSlugSchema.optional(),
    /** Owner only: members at a verified domain sign in only through the organization's SSO connection. */
    requireSso: z.boolean().optional(),
  })
  .refine((input) => input.name !== undefined || input.slug !== undefined || input.requireSso !== undefined, {
    message: 'Pass a name, a slug, requireSso, or several.',
  });
export const orgInviteInput = z.strictObject({
  organizationId: organizationIdSchema,
  email: emailSchema,
  role: organizationAssignableRoleSchema,
});
export const orgInvitationRevokeInput = z.strictObject({ organizationId: organizationIdSchema, invitationId: invitationIdSchema });
export const orgAcceptInvitationInput = z.strictObject({ token: linkTokenSchema });
export const orgSetRoleInput = z.strictObject({
  organizationId: organizationIdSchema,
  userId: userIdSchema,
  role: organizationAssignableRoleSchema,
});
export const orgMemberInput = z.strictObject({ organizationId: organizationIdSchema, userId: userIdSchema });
export const orgTransferOwnershipInput = orgMemberInput.extend({ stepUpToken: stepUpTokenSchema.optional() });
export const orgSwitchInput = z.strictObject({ organizationId: organizationIdSchema.nullable() });
export const orgRevokeSessionsInput = z.strictObject({ organizationId: organizationIdSchema, stepUpToken: stepUpTokenSchema.optional() });
export const orgAuditInput = z.strictObject({
  organizationId: organizationIdSchema,
  cursor: cursorSchema.optional(),
  limit: z.number().int().min(1).max(500).optional(),
});

/**
 * Enterprise SSO (docs/api.md, sso). A domain is what DNS names (RFC 1035 §2.3.4, RFC 1123
 * §2.1): ASCII labels of letters, digits and inner hyphens, at least two, lower-cased; an
 * internationalized one in its A-label form (`xn--…`).
 */
export const ssoDomainSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .transform((value) => value.replace(/\.$/, ''))
  .pipe(
    z.string().regex(/^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/, {
      message: 'A domain name such as example.com (an internationalized one in its xn-- form).',
    }),
  );
export const ssoConnectionIdSchema = z
  .string()
  .max(64)
  .regex(/^ssc_[a-z0-9]{10,40}$/);
/** An OpenID Provider's issuer identifier (OIDC Discovery §2): an absolute URL without query or fragment. */
export const ssoIssuerSchema = z
  .url({ protocol: /^https?$/, message: 'An absolute https URL.' })
  .max(2048)
  .refine((value) => !/[?#]/.test(value), { message: 'An issuer has no query or fragment.' });
export const ssoClientIdSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, { message: 'Printable ASCII without spaces.' });
export const ssoClientSecretSchema = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[\x20-\x7e]+$/, { message: 'Printable ASCII.' });
export const ssoScopesSchema = z
  .array(
    z
      .string()
      .min(1)
      .max(128)
      .regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, { message: 'One scope token (RFC 6749 §3.3).' }),
  )
  .min(1)
  .max(20);

/** A SAML entity ID (SAML 2.0 Core §8.3.6: a URI of at most 1024 characters). */
export const samlEntityIdSchema = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^[\x21-\x7e]+$/, { message: 'A URI (printable ASCII without spaces).' });
/** The IdP's SingleSignOnService location (HTTP-Redirect binding): an absolute https URL. */
export const samlSsoUrlSchema = z.url({ protocol: /^https?$/, message: 'An absolute https URL.' }).max(2048);
/** One IdP signing certificate, PEM (`-----BEGIN CERTIFICATE-----`) or bare base64 DER; the service parses it as X.509. */
export const samlCertificateSchema = z
  .string()
  .trim()
  .min(1)
  .max(16_384)
  .regex(/^[\x20-\x7e\r\n\t]+$/, { message: 'A PEM certificate.' });
/** 1–3 certificates: the current one, and the next during a rotation. */
export const samlCertificatesSchema = z.array(samlCertificateSchema).min(1).max(3);
/** A SAML attribute name (`Name` of an `<Attribute>`, SAML 2.0 Core §2.7.3.1). */
export const samlAttributeNameSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, { message: 'Printable ASCII without spaces.' });

const ssoOidcConnectionCreateInput = z.strictObject({
  organizationId: organizationIdSchema,
  type: z.literal('oidc'),
  issuer: ssoIssuerSchema,
  clientId: ssoClientIdSchema,
  clientSecret: ssoClientSecretSchema.optional(),
  scopes: ssoScopesSchema.optional(),
  stepUpToken: stepUpTokenSchema.optional(),
});
const ssoSamlConnectionCreateInput = z.strictObject({
  organizationId: organizationIdSchema,
  type: z.literal('saml'),
  idpEntityId: samlEntityIdSchema,
  idpSsoUrl: samlSsoUrlSchema,
  idpCertificates: samlCertificatesSchema,
  emailAttribute: samlAttributeNameSchema.optional(),
  stepUpToken: stepUpTokenSchema.optional(),
});
export const ssoConnectionCreateInput = z.discriminatedUnion('type', [ssoOidcConnectionCreateInput, ssoSamlConnectionCreateInput]);
const oidcUpdateFields = ['issuer', 'clientId', 'clientSecret', 'scopes'] as const;
const samlUpdateFields = ['idpEntityId', 'idpSsoUrl', 'idpCertificates', 'emailAttribute'] as const;
/** The fields of each connection type `sso.connections.update` takes; one of the other type is refused. */
export const ssoConnectionUpdateFields = { oidc: oidcUpdateFields, saml: samlUpdateFields } as const;
export const ssoConnectionUpdateInput = z
  .strictObject({
    organizationId: organizationIdSchema,
    connectionId: ssoConnectionIdSchema,
    issuer: ssoIssuerSchema.optional(),
    clientId: ssoClientIdSchema.optional(),
    /** A new secret; `null` makes the client public (no secret). */
    clientSecret: ssoClientSecretSchema.nullable().optional(),
    scopes: ssoScopesSchema.optional(),
    idpEntityId: samlEntityIdSchema.optional(),
    idpSsoUrl: samlSsoUrlSchema.optional(),
    idpCertificates: samlCertificatesSchema.optional(),
    /** A new attribute name; `null`: the standard ones again. */
    emailAttribute: samlAttributeNameSchema.nullable().optional(),
    stepUpToken: stepUpTokenSchema.optional(),
  })
  .refine((input) => [...oidcUpdateFields, ...samlUpdateFields].some((field) => input[field] !== undefined), {
    message:
      'Pass at least one field to change (issuer, clientId, clientSecret, scopes; or idpEntityId, idpSsoUrl, idpCertificates, emailAttribute).',
  });
export const ssoConnectionDeleteInput = z.strictObject({
  organizationId: organizationIdSchema,
  connectionId: ssoConnectionIdSchema,
  stepUpToken: stepUpTokenSchema.optional(),
});
export const ssoDomainInput = z.strictObject({ organizationId: organizationIdSchema, domain: ssoDomainSchema });
export const ssoDiscoverInput = z.strictObject({ email: emailSchema });
export const ssoAuthorizeInput = z.union([
  z.strictObject({ email: emailSchema, returnTo: oauthReturnToSchema.optional() }),
  z.strictObject({ organizationId: organizationIdSchema, returnTo: oauthReturnToSchema.optional() }),
]);

/**
 * SCIM provisioning (docs/api.md, sso.scim): the organization's bearer tokens and the roles
 * its identity provider's groups give.
 */
export const scimTokenIdSchema = z
  .string()
  .max(64)
  .regex(/^sct_[a-z0-9]{10,40}$/);
/** A SCIM group's `displayName` (RFC 7643 §4.2), as the identity provider names it. */
export const scimGroupNameSchema = z.string().trim().min(1).max(255);
export const scimTokenCreateInput = z.strictObject({
  organizationId: organizationIdSchema,
  name: z.string().trim().min(1).max(100).optional(),
  stepUpToken: stepUpTokenSchema.optional(),
});
export const scimTokenRevokeInput = z.strictObject({
  organizationId: organizationIdSchema,
  tokenId: scimTokenIdSchema,
  stepUpToken: stepUpTokenSchema.optional(),
});
/** `role: null` removes the mapping: the group then gives no role of its own. */
export const scimMapGroupInput = z.strictObject({
  organizationId: organizationIdSchema,
  displayName: scimGroupNameSchema,
  role: organizationAssignableRoleSchema.nullable(),
  stepUpToken: stepUpTokenSchema.optional(),
});
