import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useSearch } from 'wouter';
import { useTRPC } from '../../api';
import { Card } from '../../components/Form';
import { messageOf } from '../../errors';
import { formatDateTime } from '../../format';
import { AdminNav } from './AdminNav';
import './admin.css';

/** The audit types an operator filters by most (docs/api.md, admin and webhooks). */
const eventTypes = [
  'login.succeeded',
  'login.failed',
  'login.challenged',
  'challenge.failed',
  'session.created',
  'session.revoked',
  'session.challenged',
  'session.refresh_reused',
  'user.signed_up',
  'user.disabled',
  'user.enabled',
  'user.deleted',
  'user.roles_changed',
  'user.sessions_revoked',
  'user.mfa_reset',
  'password.changed',
  'password.reset',
  'mfa.totp_enabled',
  'mfa.totp_disabled',
  'mfa.step_up_verified',
  'passkey.added',
  'passkey.removed',
  'audit.admin_read',
] as const;

const pageSize = 50;

interface Filters {
  types?: string[];
  userId?: string;
  ip?: string;
  from?: Date;
  to?: Date;
}

/** `datetime-local` text (the browser's time zone) as an instant, or nothing. */
function instantOf(text: string): Date | undefined {
  if (!text) return undefined;
  const at = new Date(text);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** The audit log, newest first, filtered by type, user, address and time, a keyset page at a time. */
export function AdminAuditPage() {
  const trpc = useTRPC();
  const initialUser = new URLSearchParams(useSearch()).get('userId') ?? '';
  const [type, setType] = useState('');
  const [userId, setUserId] = useState(initialUser);
  const [ip, setIp] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [filters, setFilters] = useState<Filters>(initialUser ? { userId: initialUser } : {});
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const cursor = cursors.at(-1);
  const events = useQuery(
    trpc.admin.audit.query.queryOptions(
      { ...filters, limit: pageSize, ...(cursor ? { cursor } : {}) },
      { placeholderData: (previous) => previous },
    ),
  );
  return (
    <>
      <AdminNav />
      <h1>Audit log</h1>
      <Card title="Filter events">
        <form
          className="filters"
          onSubmit={(event) => {
            event.preventDefault();
            const next: Filters = {};
            if (type) next.types = [type];
            if (userId.trim()) next.userId = userId.trim();
            if (ip.trim()) next.ip = ip.trim();
            const fromAt = instantOf(from);
            const toAt = instantOf(to);
            if (fromAt) next.from = fromAt;
            if (toAt) next.to = toAt;
            setFilters(next);
            setCursors([undefined]);
          }}
        >
          <div className="field">
            <label htmlFor="audit-type">Event type</label>
            <select id="audit-type" value={type} onChange={(event) => setType(event.target.value)}>
              <option value="">Any</option>
              {eventTypes.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="audit-user">User id</label>
            <input id="audit-user" value={userId} placeholder="usr_…" onChange={(event) => setUserId(event.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="audit-ip">IP address</label>
            <input id="audit-ip" value={ip} onChange={(event) => setIp(event.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="audit-from">From</label>
            <input id="audit-from" type="datetime-local" value={from} onChange={(event) => setFrom(event.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="audit-to">Until</label>
            <input id="audit-to" type="datetime-local" value={to} onChange={(event) => setTo(event.target.value)} />
          </div>
          <div className="field">
            <button type="submit">Show events</button>
          </div>
        </form>
      </Card>
      {events.error && (
        <p role="alert" className="error">
          {messageOf(events.error)}
        </p>
      )}
      {events.data && (
        <section aria-labelledby="events-title">
          <h2 id="events-title">{events.data.items.length === 0 ? 'No events match' : 'Events, newest first'}</h2>
          {events.data.items.length > 0 && (
            // biome-ignore lint/a11y/noNoninteractiveTabindex: a region that scrolls sideways must be reachable by keyboard (WCAG 2.1.1)
            <section className="table-scroll" aria-label="Audit events (scrolls sideways)" tabIndex={0}>
              <table className="admin-table">
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Event</th>
                    <th scope="col">User</th>
                    <th scope="col">By</th>
                    <th scope="col">Address</th>
                    <th scope="col">Details</th>
                  </tr>
                </thead>
                <tbody>
                  {events.data.items.map((item) => (
                    <tr key={item.id}>
                      <td>{formatDateTime(item.at)}</td>
                      <td>{item.type}</td>
                      <td>{item.userId ? <Link href={`/admin/users/${item.userId}`}>{item.userId}</Link> : '—'}</td>
                      <td>{item.actorId ? <Link href={`/admin/users/${item.actorId}`}>{item.actorId}</Link> : '—'}</td>
                      <td>{item.ip ?? '—'}</td>
                      <td className="wrap">{item.details ? JSON.stringify(item.details) : '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          )}
          <nav className="pager" aria-label="Pages of events">
            <button type="button" className="secondary" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
              Newer
            </button>
            <span className="muted">Page {cursors.length}</span>
            <button
              type="button"
              className="secondary"
              disabled={!events.data.nextCursor}
              onClick={() => events.data.nextCursor && setCursors([...cursors, events.data.nextCursor])}
            >
              Older
            </button>
          </nav>
        </section>
      )}
      {!events.data && !events.error && <p className="loading">Loading…</p>}
    </>
  );
}
