// A BFF (backend for frontend) that keeps the browser's session on the server: the browser only
// holds the BFF's own session cookie, and the BFF keeps the refresh token, the access token and
// the device canary for it, calling the service with HMAC-signed `bff.*` procedures.
// The handlers take an express-like request (`req.ip`, `req.headers`, `req.session` as with
// express-session); mount them on your routes, e.g.
//   app.post('/api/sign-in', async (req, res) => res.json(await bff.signIn(req, req.body)));
// test/src/bff/signIn.test.ts drives exactly these functions against a real service.
import { createBffClient, isIamError } from '@iam/client';

/** What the BFF keeps for one browser, in its own session store (never sent to the browser). */
export interface BrowserSession {
  canaryId?: string;
  refreshToken?: string;
  accessToken?: string;
}

/** The part of an express request the BFF reads. */
export interface BrowserRequest {
  ip: string;
  headers: Record<string, string | string[] | undefined>;
  session: BrowserSession;
}

/** What the browser is told: signed in, or the prompt to show. */
export type SignInStep =
  | { status: 'signed_in'; userId: string }
  | { status: 'code_required'; challengeId: string; methods: string[] }
  | { status: 'verify_email'; challengeId: string };

export function createBff(options: { url: string; keyId: string; secret: string; now?: () => number }) {
  const iam = createBffClient(options);

  /** The browser as the service needs to see it: its address, user agent and device canary. */
  function clientOf(req: BrowserRequest) {
    const userAgent = req.headers['user-agent'];
    return {
      ip: req.ip,
      userAgent: typeof userAgent === 'string' ? userAgent : '',
      ...(req.session.canaryId ? { canaryId: req.session.canaryId } : {}),
    };
  }

  /** Keeps what an answer hands back: always the canary, and the tokens of a completed sign-in. */
  function keep(
    req: BrowserRequest,
    result:
      | { status: 'authenticated'; user: { id: string }; accessToken: string; refreshToken: string; canaryId: string }
      | { status: 'mfa_required'; challengeId: string; methods: string[]; canaryId: string }
      | { status: 'verification_required'; challengeId: string; canaryId: string },
  ): SignInStep {
    req.session.canaryId = result.canaryId;
    if (result.status === 'authenticated') {
      req.session.refreshToken = result.refreshToken;
      req.session.accessToken = result.accessToken;
      return { status: 'signed_in', userId: result.user.id };
    }
    if (result.status === 'mfa_required') return { status: 'code_required', challengeId: result.challengeId, methods: result.methods };
    return { status: 'verify_email', challengeId: result.challengeId };
  }

  return {
    /** POST /api/sign-up: a code is mailed; the canary that signed up must verify it. */
    async signUp(req: BrowserRequest, body: { email: string; password: string; name?: string }): Promise<SignInStep> {
      const result = await iam.bff.signup.mutate({ ...body, client: clientOf(req) });
      return keep(req, result);
    },

    /** POST /api/verify-email: the code from the mail; signs in. */
    async verifyEmail(req: BrowserRequest, body: { challengeId: string; code: string }): Promise<SignInStep> {
      return keep(req, await iam.bff.verifyEmail.mutate({ ...body, client: clientOf(req) }));
    },

    /** POST /api/sign-in: tokens, or a code to ask for (a new browser, an authenticator app…). */
    async signIn(req: BrowserRequest, body: { email: string; password: string }): Promise<SignInStep> {
      return keep(req, await iam.bff.login.mutate({ ...body, client: clientOf(req) }));
    },

    /** POST /api/sign-in/code: the code of a sign-in (or refresh) challenge. */
    async answerChallenge(req: BrowserRequest, body: { challengeId: string; code: string }): Promise<SignInStep> {
      return keep(req, await iam.bff.verifyChallenge.mutate({ ...body, client: clientOf(req) }));
    },

    /**
     * Every authenticated route: who the browser is. The access token is checked with
     * `bff.introspect` and renewed with `bff.refresh` when it is expired or close to it; null
     * when the browser must sign in again, a challenge when the refresh asks for proof.
     */
    async currentUser(req: BrowserRequest): Promise<{ userId: string; roles: string[] } | SignInStep | null> {
      const { accessToken, refreshToken } = req.session;
      if (accessToken) {
        const token = await iam.bff.introspect.mutate({ accessToken });
        if (token.active && !token.refreshRecommended) return { userId: token.sub, roles: token.roles };
      }
      if (!refreshToken) return null;
      try {
        const refreshed = await iam.bff.refresh.mutate({ refreshToken, client: clientOf(req) });
        const step = keep(req, refreshed);
        if (step.status !== 'signed_in') return step;
        const token = await iam.bff.introspect.mutate({ accessToken: req.session.accessToken ?? '' });
        return token.active ? { userId: token.sub, roles: token.roles } : null;
      } catch (error) {
        if (!isIamError(error, 'REFRESH_TOKEN_INVALID') && !isIamError(error, 'REFRESH_TOKEN_REUSED')) throw error;
        delete req.session.refreshToken;
        delete req.session.accessToken;
        return null;
      }
    },

    /** POST /api/sign-out: ends the session at the service; the canary stays (it names the device). */
    async signOut(req: BrowserRequest): Promise<void> {
      const { accessToken, refreshToken } = req.session;
      if (accessToken || refreshToken) {
        await iam.bff.logout.mutate({
          ...(refreshToken ? { refreshToken } : {}),
          ...(accessToken ? { accessToken } : {}),
          client: clientOf(req),
        });
      }
      delete req.session.refreshToken;
      delete req.session.accessToken;
    },
  };
}
