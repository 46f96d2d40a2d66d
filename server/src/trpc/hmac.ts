import { hmacHeaderNames } from '@iam/shared';
import type { Request, Response } from 'express';
import type { Services } from '../modules/auth/services';
import { IamError } from '../modules/errors/iamError';
import type { SignedRequest } from '../modules/hmac/verifier';
import { consumeLimits } from '../modules/rateLimit/guards';

/** A service authenticated for `bff.*`: by a verified HMAC signature, or trusted in-process. */
export interface ServiceIdentity {
  keyId: string;
}

declare global {
  namespace Express {
    interface Locals {
      /**
       * The raw body of a request that carries an HMAC signature, read by the app before tRPC
       * (`captureSignedBody`); null when another middleware consumed the body first.
       */
      signedBody?: Uint8Array | null;
    }
  }
}

/** True when the request carries a signature, so its raw body must be kept for the verifier. */
export function isSignedRequest(req: Pick<Request, 'headers'>): boolean {
  return req.headers[hmacHeaderNames.signature] !== undefined;
}

/**
 * The request as the verifier needs it. The path is `originalUrl`: the request target as
 * sent, whatever path the app is mounted under. The procedures are those tRPC itself
 * resolved from the URL (decoded, split for a batch), so the allowlist judges exactly what
 * will run.
 */
export function signedRequestOf(req: Request, res: Response, procedures: readonly string[]): SignedRequest {
  const noBody = req.method === 'GET' || req.method === 'HEAD';
  return {
    method: req.method,
    pathWithQuery: req.originalUrl,
    headers: req.headers,
    body: noBody ? new Uint8Array(0) : (res.locals.signedBody ?? null),
    procedures,
  };
}

/**
 * Verifies a request's signature once, however many calls its batch holds: the nonce is
 * claimed once and every call shares the verdict. A refusal counts one failure against the
 * caller's IP; past `hmacFailuresPerIp` the answer is RATE_LIMITED instead.
 */
export function createServiceVerifier(
  services: Services,
  request: SignedRequest,
  caller: { ip: string | null; requestId: string },
): () => Promise<ServiceIdentity> {
  let verdict: Promise<ServiceIdentity> | undefined;
  const verify = async (): Promise<ServiceIdentity> => {
    const result = await services.hmac.verify(request);
    if (result.ok) return { keyId: result.keyId };
    services.logger.warn(
      { requestId: caller.requestId, ip: caller.ip, keyId: result.keyId, code: result.code, reason: result.reason },
      'signed request refused',
    );
    await consumeLimits(services.limits, [['hmacFailuresPerIp', caller.ip]]);
    throw new IamError(result.code);
  };
  return () => {
    verdict ??= verify();
    return verdict;
  };
}
