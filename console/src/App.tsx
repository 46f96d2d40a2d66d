import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { Link, Redirect, Route, Router, Switch, useLocation } from 'wouter';
import { consoleBase, useTRPC } from './api';
import { ActivityPage } from './pages/Activity';
import { AdminAuditPage } from './pages/admin/Audit';
import { AdminDashboardPage } from './pages/admin/Dashboard';
import { AdminUserDetailPage } from './pages/admin/UserDetail';
import { AdminUsersPage } from './pages/admin/Users';
import { ChallengePage } from './pages/Challenge';
import { HomePage } from './pages/Home';
import { AcceptInvitationPage } from './pages/orgs/AcceptInvitation';
import { OrganizationPage } from './pages/orgs/Organization';
import { OrganizationsPage } from './pages/orgs/Organizations';
import { SingleSignOnPage } from './pages/orgs/SingleSignOn';
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

/** Operator pages: only for a user whose roles include `admin` (the service checks again on every call). */
function AdminOnly({ children }: { children: ReactNode }) {
  const { user } = useSession();
  if (!user?.roles.includes('admin')) return <Redirect to="/" />;
  return <>{children}</>;
}

/**
 * How often an open page checks that its session still holds: one revoked elsewhere or an
 * account disabled by an admin is refused at the next check, and the client then ends it.
 */
const sessionCheckIntervalInMs = 15_000;

function Shell({ children }: { children: ReactNode }) {
  const { user, signOut } = useSession();
  const [location, navigate] = useLocation();
  const trpc = useTRPC();
  useQuery(trpc.auth.me.queryOptions(undefined, { refetchInterval: sessionCheckIntervalInMs, refetchIntervalInBackground: false }));
  const links: [string, string][] = [
    ['/', 'Account'],
    ['/security', 'Security'],
    ['/sessions', 'Sessions'],
    ['/activity', 'Activity'],
    ['/organizations', 'Organizations'],
    ['/settings', 'Settings'],
  ];
  if (user?.roles.includes('admin')) links.push(['/admin', 'Admin']);
  return (
    <>
      <header className="top">
        <span className="brand">IAM</span>
        <nav aria-label="Main">
          {links.map(([path, label]) => (
            <Link
              key={path}
              href={path}
              aria-current={location === path || (path === '/organizations' && location.startsWith('/organizations/')) ? 'page' : undefined}
            >
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
        <Route path="/accept-invitation" component={AcceptInvitationPage} />
        <Route path="/organizations/:id/sso">
          <SignedIn>
            <SingleSignOnPage />
          </SignedIn>
        </Route>
        <Route path="/organizations/:id">
          <SignedIn>
            <OrganizationPage />
          </SignedIn>
        </Route>
        <Route path="/organizations">
          <SignedIn>
            <OrganizationsPage />
          </SignedIn>
        </Route>
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
        <Route path="/admin/users/:id">
          <SignedIn>
            <AdminOnly>
              <AdminUserDetailPage />
            </AdminOnly>
          </SignedIn>
        </Route>
        <Route path="/admin/users">
          <SignedIn>
            <AdminOnly>
              <AdminUsersPage />
            </AdminOnly>
          </SignedIn>
        </Route>
        <Route path="/admin/audit">
          <SignedIn>
            <AdminOnly>
              <AdminAuditPage />
            </AdminOnly>
          </SignedIn>
        </Route>
        <Route path="/admin">
          <SignedIn>
            <AdminOnly>
              <AdminDashboardPage />
            </AdminOnly>
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
