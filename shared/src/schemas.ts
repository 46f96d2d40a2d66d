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

/** Verification and MFA codes: digits only, 6 to 10 of them. */
export const codeSchema = z
  .string()
  .trim()
  .regex(/^[0-9]{6,10}$/, { message: 'Enter the code from the email.' });

/** Emailed link secrets: base64url, bounded. */
export const linkTokenSchema = z
  .string()
  .min(16)
  .max(128)
  .regex(/^[A-Za-z0-9_-]+$/);

export const signupInput = z.strictObject({
  email: emailSchema,
  password: passwordSchema,
  name: nameSchema.optional(),
});

export const verifyEmailInput = z.union([
  z.strictObject({ challengeId: idSchema, code: codeSchema }),
  z.strictObject({ token: linkTokenSchema }),
]);

export const loginInput = z.strictObject({
  email: emailSchema,
  password: z
    .string()
    .min(1)
    .max(passwordMaxLength * 4),
});

export const requestPasswordResetInput = z.strictObject({ email: emailSchema });
export const resetPasswordInput = z.strictObject({ token: linkTokenSchema, password: passwordSchema });
export const changePasswordInput = z.strictObject({
  currentPassword: loginInput.shape.password,
  newPassword: passwordSchema,
});

export const challengeCodeInput = z.strictObject({ challengeId: idSchema, code: codeSchema });
export const challengeIdInput = z.strictObject({ challengeId: idSchema });
export const linkTokenInput = z.strictObject({ token: linkTokenSchema });

export const sessionIdInput = z.strictObject({ sessionId: idSchema });

export const revokeAllInput = z.strictObject({ includeCurrent: z.boolean().optional() }).optional();

export type SignupInput = z.infer<typeof signupInput>;
export type VerifyEmailInput = z.infer<typeof verifyEmailInput>;
export type LoginInput = z.infer<typeof loginInput>;
