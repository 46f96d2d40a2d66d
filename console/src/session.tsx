import { iamCodeOf } from '@iam/client';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { type Challenge, type SignInResult, type User, useTRPCClient } from './api';
import { onSessionEnded } from './sessionEvents';

/** Who is signed in, as the console knows it: `undefined` while the first refresh is under way. */
interface SessionState {
  user: User | null | undefined;
  /** A challenge a sign-in or a refresh is waiting on (the challenge page answers it). */
  challenge: Challenge | null;
  /** Applies what a sign-in, verification or challenge answered. */
  accept(result: SignInResult | { status: 'authenticated'; user: User }): 'authenticated' | 'challenge' | 'verification_required';
  setUser(user: User | null): void;
  signOut(): Promise<void>;
}

const SessionContext = createContext<SessionState | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const api = useTRPCClient();
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [challenge, setChallenge] = useState<Challenge | null>(null);

  // A page load resumes the session the refresh cookie holds, if any.
  useEffect(() => {
    let cancelled = false;
    api.session.refresh
      .mutate()
      .then((result) => {
        if (cancelled) return;
        if (result.status === 'authenticated') setUser(result.user);
        else {
          setChallenge(result);
          setUser(null);
        }
      })
      .catch((error: unknown) => {
        if (!cancelled) setUser(null);
        if (iamCodeOf(error) === undefined) console.warn('the session could not be resumed', error);
      });
    return () => {
      cancelled = true;
    };
  }, [api]);

  useEffect(
    () =>
      onSessionEnded(() => {
        setChallenge(null);
        setUser(null);
      }),
    [],
  );

  const accept = useCallback<SessionState['accept']>((result) => {
    if (result.status === 'authenticated') {
      setChallenge(null);
      setUser(result.user);
      return 'authenticated';
    }
    if (result.status === 'mfa_required') {
      setChallenge(result);
      return 'challenge';
    }
    return 'verification_required';
  }, []);

  const signOut = useCallback(async () => {
    await api.auth.logout.mutate().catch(() => undefined);
    setChallenge(null);
    setUser(null);
  }, [api]);

  const value = useMemo(() => ({ user, challenge, accept, setUser, signOut }), [user, challenge, accept, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}
