import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'wouter';
import { useTRPC } from '../../api';
import { Card } from '../../components/Form';
import { messageOf } from '../../errors';
import { formatDateTime } from '../../format';
import { AdminNav } from './AdminNav';
import './admin.css';

const pageSize = 25;

/** Every user, by email prefix or id, a keyset page at a time. */
export function AdminUsersPage() {
  const trpc = useTRPC();
  const [text, setText] = useState('');
  const [status, setStatus] = useState<'' | 'active' | 'disabled'>('');
  const [filters, setFilters] = useState<{ query?: string; status?: 'active' | 'disabled' }>({});
  // The cursors of the pages before this one: Previous pops, Next pushes.
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const cursor = cursors.at(-1);
  const list = useQuery(
    trpc.admin.users.list.queryOptions(
      { ...filters, limit: pageSize, ...(cursor ? { cursor } : {}) },
      { placeholderData: (previous) => previous },
    ),
  );
  return (
    <>
      <AdminNav />
      <h1>Users</h1>
      <Card title="Find users">
        <form
          className="filters"
          onSubmit={(event) => {
            event.preventDefault();
            const query = text.trim();
            setFilters({ ...(query ? { query } : {}), ...(status ? { status } : {}) });
            setCursors([undefined]);
          }}
        >
          <div className="field">
            <label htmlFor="user-search">Email prefix or user id</label>
            <input id="user-search" type="search" value={text} onChange={(event) => setText(event.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="user-status">Status</label>
            <select id="user-status" value={status} onChange={(event) => setStatus(event.target.value as typeof status)}>
              <option value="">Any</option>
              <option value="active">Active</option>
              <option value="disabled">Disabled</option>
            </select>
          </div>
          <div className="field">
            <button type="submit">Search</button>
          </div>
        </form>
      </Card>
      {list.error && (
        <p role="alert" className="error">
          {messageOf(list.error)}
        </p>
      )}
      {list.data && (
        <section aria-labelledby="users-title">
          <h2 id="users-title">{list.data.items.length === 0 ? 'No users match' : 'Results'}</h2>
          {list.data.items.length > 0 && (
            // biome-ignore lint/a11y/noNoninteractiveTabindex: a region that scrolls sideways must be reachable by keyboard (WCAG 2.1.1)
            <section className="table-scroll" aria-label="Users (scrolls sideways)" tabIndex={0}>
              <table className="admin-table">
                <thead>
                  <tr>
                    <th scope="col">Email</th>
                    <th scope="col">Name</th>
                    <th scope="col">Roles</th>
                    <th scope="col">Status</th>
                    <th scope="col">Second factor</th>
                    <th scope="col">Live sessions</th>
                    <th scope="col">Last sign-in</th>
                  </tr>
                </thead>
                <tbody>
                  {list.data.items.map((user) => (
                    <tr key={user.id}>
                      <td>
                        <Link href={`/admin/users/${user.id}`}>{user.email}</Link>
                      </td>
                      <td>{user.name ?? '—'}</td>
                      <td>{user.roles.join(', ') || '—'}</td>
                      <td className={user.disabled ? 'status-disabled' : undefined}>
                        {user.disabled ? 'Disabled' : user.emailVerified ? 'Active' : 'Unverified'}
                      </td>
                      <td>
                        {[user.mfa.totp ? 'App' : null, user.mfa.passkeys ? `${user.mfa.passkeys} passkeys` : null]
                          .filter(Boolean)
                          .join(', ') || 'None'}
                      </td>
                      <td>{user.sessions}</td>
                      <td>{user.lastSignInAt ? formatDateTime(user.lastSignInAt) : 'Never'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          )}
          <nav className="pager" aria-label="Pages of users">
            <button type="button" className="secondary" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
              Previous page
            </button>
            <span className="muted">Page {cursors.length}</span>
            <button
              type="button"
              className="secondary"
              disabled={!list.data.nextCursor}
              onClick={() => list.data.nextCursor && setCursors([...cursors, list.data.nextCursor])}
            >
              Next page
            </button>
          </nav>
        </section>
      )}
      {!list.data && !list.error && <p className="loading">Loading…</p>}
    </>
  );
}
