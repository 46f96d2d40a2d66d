import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { and, eq, isNull, lt, sql } from 'drizzle-orm';
import { type Database, type Executor, isDuplicateKeyError, runTransaction } from '../../db/client';
import { type PasskeyRow, passkeys, users, webauthnCeremonies } from '../../db/tables';
import { addSeconds, type Clock } from '../clock';
import { newId } from '../crypto/ids';
import { canaryHash } from '../devices/canary';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';

/** docs/api.md: ceremonies are single-use and live 5 minutes. */
const ceremonyTtlInSeconds = 5 * 60;

export interface PasskeySummary {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  backedUp: boolean;
  deviceType: string;
}

/** The outcome of a passkey sign-in: the user, or a signature counter that went backwards. */
export type PasskeyAssertion =
  | { kind: 'verified'; userId: string; passkeyId: string }
  | { kind: 'cloned'; userId: string; passkeyId: string };

/**
 * Passkeys (WebAuthn Level 3, with @simplewebauthn/server): registration and sign-in
 * ceremonies bound to the browser that asked (its `iam_cid`), user verification required,
 * attestation `none`; credential ids, public keys, counters and backup state kept. Every
 * refusal is `PASSKEY_INVALID` and changes nothing (NIST SP 800-63B §5.1.8: multi-factor
 * cryptographic authenticators, verifier-impersonation resistance through the origin and RP ID).
 */
export function createPasskeyService(deps: { db: Database; clock: Clock; rpId: string; rpName: string; origins: string[] }) {
  const { db, clock } = deps;

  async function startCeremony(
    kind: 'registration' | 'authentication',
    userId: string | null,
    challenge: string,
    client: ClientInfo,
    challengeId: string | null = null,
  ) {
    const now = clock.now();
    const id = newId('ceremony');
    await db.insert(webauthnCeremonies).values({
      id,
      kind,
      userId,
      challengeId,
      challenge,
      canaryHash: client.canary ? canaryHash(client.canary) : null,
      createdAt: now,
      expiresAt: addSeconds(now, ceremonyTtlInSeconds),
    });
    return id;
  }

  /**
   * Spends a live ceremony of this kind started by this browser; null when there is none. An
   * authentication ceremony opened for a challenge answers that challenge only, and one opened
   * for a sign-in answers no challenge.
   */
  async function spendCeremony(
    kind: 'registration' | 'authentication',
    ceremonyId: string,
    client: ClientInfo,
    userId?: string,
    challengeId: string | null = null,
  ) {
    const now = clock.now();
    const [row] = await db.select().from(webauthnCeremonies).where(eq(webauthnCeremonies.id, ceremonyId)).limit(1);
    if (!row || row.kind !== kind || row.consumedAt || row.expiresAt <= now) return null;
    if (userId !== undefined && row.userId !== userId) return null;
    if (kind === 'authentication' && row.challengeId !== challengeId) return null;
    // Bound to the browser that asked: another browser cannot finish it.
    if (!client.canary || row.canaryHash !== canaryHash(client.canary)) return null;
    const [spent] = await db
      .update(webauthnCeremonies)
      .set({ consumedAt: now })
      .where(and(eq(webauthnCeremonies.id, row.id), isNull(webauthnCeremonies.consumedAt)));
    return spent.affectedRows === 1 ? row : null;
  }

  const summary = (row: PasskeyRow): PasskeySummary => ({
    id: row.id,
    name: row.name,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    backedUp: row.backedUp,
    deviceType: row.deviceType,
  });

  return {
    async registrationOptions(
      user: { id: string; email: string; name: string | null },
      client: ClientInfo,
    ): Promise<PublicKeyCredentialCreationOptionsJSON & { ceremonyId: string }> {
      const existing = await db.select().from(passkeys).where(eq(passkeys.userId, user.id));
      const options = await generateRegistrationOptions({
        rpName: deps.rpName,
        rpID: deps.rpId,
        userName: user.email,
        userDisplayName: user.name ?? user.email,
        userID: new TextEncoder().encode(user.id),
        attestationType: 'none',
        excludeCredentials: existing.map((row) => ({ id: row.credentialId, transports: row.transports ?? [] })),
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
        timeout: ceremonyTtlInSeconds * 1000,
      });
      return { ...options, ceremonyId: await startCeremony('registration', user.id, options.challenge, client) };
    },

    async register(
      userId: string,
      input: { response: RegistrationResponseJSON; name?: string | undefined },
      client: ClientInfo,
    ): Promise<PasskeySummary> {
      // The ceremony is the one whose challenge the browser signed.
      const challenge = challengeOf(input.response.response?.clientDataJSON);
      const [started] = challenge
        ? await db
            .select({ id: webauthnCeremonies.id })
            .from(webauthnCeremonies)
            .where(and(eq(webauthnCeremonies.challenge, challenge), eq(webauthnCeremonies.kind, 'registration')))
            .limit(1)
        : [];
      const ceremony = started ? await spendCeremony('registration', started.id, client, userId) : null;
      if (!ceremony) throw new IamError('PASSKEY_INVALID');
      const verified = await verifyRegistrationResponse({
        response: input.response,
        expectedChallenge: ceremony.challenge,
        expectedOrigin: deps.origins,
        expectedRPID: deps.rpId,
        requireUserVerification: true,
      }).catch(() => null);
      if (!verified?.verified) throw new IamError('PASSKEY_INVALID');
      const { credential, credentialDeviceType, credentialBackedUp } = verified.registrationInfo;
      const now = clock.now();
      const row: PasskeyRow = {
        id: newId('passkey'),
        userId,
        credentialId: credential.id,
        publicKey: Buffer.from(credential.publicKey).toString('base64url'),
        counter: credential.counter,
        transports: credential.transports ?? [],
        deviceType: credentialDeviceType,
        backedUp: credentialBackedUp,
        name: input.name?.trim() || 'Passkey',
        createdAt: now,
        lastUsedAt: null,
      };
      try {
        await runTransaction(db, async (tx) => {
          await tx.insert(passkeys).values(row);
          await tx
            .update(users)
            .set({ passkeyCount: sql`${users.passkeyCount} + 1` })
            .where(eq(users.id, userId));
        });
      } catch (error) {
        // The credential is already registered (to this account or another); anything else is
        // the database's failure, not the caller's.
        if (isDuplicateKeyError(error)) throw new IamError('PASSKEY_INVALID');
        throw error;
      }
      return summary(row);
    },

    /**
     * Options for a sign-in, or for answering a challenge (`forChallenge`). A sign-in is
     * discoverable: no allowCredentials, the authenticator offers the user's passkeys (and
     * conditional UI can list them in the browser's autofill). A challenge names the account,
     * so its passkeys are listed and only they are accepted.
     */
    async authenticationOptions(
      client: ClientInfo,
      forChallenge?: { challengeId: string; userId: string },
    ): Promise<PublicKeyCredentialRequestOptionsJSON & { ceremonyId: string }> {
      const own = forChallenge ? await db.select().from(passkeys).where(eq(passkeys.userId, forChallenge.userId)) : [];
      const options = await generateAuthenticationOptions({
        rpID: deps.rpId,
        userVerification: 'required',
        timeout: ceremonyTtlInSeconds * 1000,
        ...(forChallenge
          ? { allowCredentials: own.map((row) => ({ id: row.credentialId, transports: (row.transports ?? []) as never })) }
          : {}),
      });
      const ceremonyId = await startCeremony(
        'authentication',
        forChallenge?.userId ?? null,
        options.challenge,
        client,
        forChallenge?.challengeId ?? null,
      );
      return { ...options, ceremonyId };
    },

    /**
     * Verifies an assertion against a ceremony this browser started: for a sign-in, or (with
     * `forChallenge`) for that challenge, with a passkey of the challenge's account.
     */
    async authenticate(
      input: { ceremonyId: string; response: AuthenticationResponseJSON },
      client: ClientInfo,
      forChallenge?: { challengeId: string; userId: string },
    ): Promise<PasskeyAssertion> {
      const ceremony = await spendCeremony(
        'authentication',
        input.ceremonyId,
        client,
        forChallenge?.userId,
        forChallenge?.challengeId ?? null,
      );
      if (!ceremony) throw new IamError('PASSKEY_INVALID');
      const [row] = await db.select().from(passkeys).where(eq(passkeys.credentialId, input.response.id)).limit(1);
      if (!row || (forChallenge && row.userId !== forChallenge.userId)) throw new IamError('PASSKEY_INVALID');
      let outcome: Awaited<ReturnType<typeof verifyAuthenticationResponse>> | 'counter' | null;
      try {
        outcome = await verifyAuthenticationResponse({
          response: input.response,
          expectedChallenge: ceremony.challenge,
          expectedOrigin: deps.origins,
          expectedRPID: deps.rpId,
          requireUserVerification: true,
          credential: {
            id: row.credentialId,
            publicKey: new Uint8Array(Buffer.from(row.publicKey, 'base64url')),
            counter: row.counter,
            transports: (row.transports ?? []) as never,
          },
        });
      } catch (error) {
        outcome = error instanceof Error && /counter/i.test(error.message) ? 'counter' : null;
      }
      // A counter that went backwards: two authenticators hold one key (W3C WebAuthn §6.1.1).
      if (outcome === 'counter') return { kind: 'cloned', userId: row.userId, passkeyId: row.id };
      if (!outcome?.verified) throw new IamError('PASSKEY_INVALID');
      await db
        .update(passkeys)
        .set({
          counter: outcome.authenticationInfo.newCounter,
          backedUp: outcome.authenticationInfo.credentialBackedUp,
          lastUsedAt: clock.now(),
        })
        .where(eq(passkeys.id, row.id));
      return { kind: 'verified', userId: row.userId, passkeyId: row.id };
    },

    async list(executor: Executor, userId: string): Promise<PasskeySummary[]> {
      const rows = await executor.select().from(passkeys).where(eq(passkeys.userId, userId));
      return rows.map(summary).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    },

    async rename(userId: string, id: string, name: string): Promise<boolean> {
      const [result] = await db
        .update(passkeys)
        .set({ name })
        .where(and(eq(passkeys.id, id), eq(passkeys.userId, userId)));
      return result.affectedRows === 1;
    },

    /** Forgets ceremonies that expired. */
    async sweep(): Promise<number> {
      const [result] = await db.delete(webauthnCeremonies).where(lt(webauthnCeremonies.expiresAt, clock.now()));
      return result.affectedRows;
    },
  };
}

export type PasskeyService = ReturnType<typeof createPasskeyService>;

/** The challenge in a response's clientDataJSON, or null when it is not one. */
function challengeOf(clientDataJSON: unknown): string | null {
  if (typeof clientDataJSON !== 'string' || clientDataJSON.length > 4096) return null;
  try {
    const parsed = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown };
    return typeof parsed.challenge === 'string' && parsed.challenge.length <= 128 ? parsed.challenge : null;
  } catch {
    return null;
  }
}
