import type { ReactNode } from 'react';
import { Link, Redirect, Route, Router, Switch, useLocation } from 'wouter';
import { consoleBase } from './api';
import { ActivityPage } from './pages/Activity';
import { ChallengePage } from './pages/Challenge';
import { HomePage } from './pages/Home';
import { SecurityPage } from './pages/Security';
import { SessionsPage } from './pages/Sessions';
import { SettingsPage } from './pages/Settings';
import { SignInPage } from './pages/SignIn';
import { SignUpPage } from './pages/SignUp';
import { VerifyPage } from './pages/Verify';
import { useSession } from './session';

/** Pages for a signed-in user; anyone else is sent to the sign-in page. */
function SignedIn({ children }: { children: ReactNode }) {
  const { user, challenge } = useSession();
  if (user === undefined) return <p className="loading">Loading…</p>;
  if (challenge) return <Redirect to="/challenge" />;
  if (!user) return <Redirect to="/sign-in" />;
  return <Shell>{children}</Shell>;
}

function Shell({ children }: { children: ReactNode }) {
  const { user, signOut } = useSession();
  const [location, navigate] = useLocation();
  const links: [string, string][] = [
    ['/', 'Account'],
    ['/security', 'Security'],
    ['/sessions', 'Sessions'],
    ['/activity', 'Activity'],
    ['/settings', 'Settings'],
  ];
  return (
    <>
      <header className="top">
        <span className="brand">IAM</span>
        <nav aria-label="Main">
          {links.map(([path, label]) => (
            <Link key={path} href={path} aria-current={location === path ? 'page' : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            void signOut().then(() => navigate('/sign-in'));
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main" aria-label={user?.email ?? 'Account'}>
        {children}
      </main>
    </>
  );
}

export function App() {
  return (
    <Router base={consoleBase}>
      <Switch>
        <Route path="/sign-in" component={SignInPage} />
        <Route path="/sign-up" component={SignUpPage} />
        <Route path="/verify" component={VerifyPage} />
        <Route path="/challenge" component={ChallengePage} />
        <Route path="/security">
          <SignedIn>
            <SecurityPage />
          </SignedIn>
        </Route>
        <Route path="/sessions">
          <SignedIn>
            <SessionsPage />
          </SignedIn>
        </Route>
        <Route path="/activity">
          <SignedIn>
            <ActivityPage />
          </SignedIn>
        </Route>
        <Route path="/settings">
          <SignedIn>
            <SettingsPage />
          </SignedIn>
        </Route>
        <Route path="/">
          <SignedIn>
            <HomePage />
          </SignedIn>
        </Route>
        <Route>
          <Redirect to="/" />
        </Route>
      </Switch>
    </Router>
  );
}
