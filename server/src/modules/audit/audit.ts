import type { Executor } from '../../db/client';
import { auditEvents } from '../../db/tables';
import { newId } from '../crypto/ids';
import type { ClientInfo } from '../devices/clientInfo';

export type AuditEventType =
  | 'user.signed_up'
  | 'user.email_verified'
  | 'login.succeeded'
  | 'login.failed'
  | 'login.challenged'
  | 'session.created'
  | 'session.refreshed'
  | 'session.revoked'
  | 'session.refresh_reused'
  | 'session.challenged'
  | 'session.challenge_passed'
  | 'challenge.failed'
  | 'password.reset_requested'
  | 'password.reset'
  | 'password.changed'
  | 'mfa.totp_enabled'
  | 'mfa.totp_disabled'
  | 'mfa.backup_code_used'
  | 'mfa.step_up_started'
  | 'mfa.step_up_verified'
  | 'user.email_change_requested'
  | 'user.email_changed'
  | 'user.profile_updated'
  | 'user.data_exported'
  | 'user.deleted'
  | 'user.roles_changed'
  | 'user.disabled'
  | 'user.enabled'
  | 'user.sessions_revoked'
  | 'user.mfa_reset'
  | 'audit.admin_read'
  | 'oauth.linked'
  | 'oauth.unlinked'
  | 'passkey.added'
  | 'passkey.removed'
  | 'passkey.counter_regressed'
  | 'api_key.created'
  | 'api_key.revoked'
  | 'org.created'
  | 'org.updated'
  | 'org.member_invited'
  | 'org.invitation_revoked'
  | 'org.member_joined'
  | 'org.role_changed'
  | 'org.member_removed'
  | 'org.member_left'
  | 'org.ownership_transferred'
  | 'org.sessions_revoked'
  | 'org.scim_token_created'
  | 'org.scim_token_revoked'
  | 'org.scim_group_mapped'
  | 'org.scim_user_provisioned'
  | 'org.scim_user_updated'
  | 'org.scim_user_deactivated'
  | 'org.scim_user_reactivated'
  | 'org.scim_user_deleted'
  | 'org.scim_group_changed';

/** One security event, as `recordAudit` and `recordAudits` take it. */
export interface AuditEvent {
  type: AuditEventType;
  at: Date;
  userId?: string | null;
  /** Who acted when it was not the user (an admin). */
  actorId?: string | null;
  sessionId?: string | null;
  client?: ClientInfo;
  data?: Record<string, unknown>;
  /** The organization an `org.*` event happened in (org.audit lists them). */
  organizationId?: string | null;
}

/** Records a security event; pass the open transaction so it commits with the change. */
export async function recordAudit(executor: Executor, event: AuditEvent): Promise<void> {
  await executor.insert(auditEvents).values(auditRow(event));
}

/**
 * Records several events of one change in one multi-row INSERT (a sign-in writes
 * `session.created` and `login.succeeded` together): one round trip instead of one per row.
 */
export async function recordAudits(executor: Executor, events: readonly AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await executor.insert(auditEvents).values(events.map(auditRow));
}

function auditRow(event: AuditEvent) {
  return {
    id: newId('auditEvent'),
    type: event.type,
    userId: event.userId ?? null,
    actorId: event.actorId ?? null,
    sessionId: event.sessionId ?? null,
    ip: event.client?.ip ?? null,
    userAgent: event.client?.userAgent?.slice(0, 512) ?? null,
    data: event.data ?? null,
    organizationId: event.organizationId ?? null,
    createdAt: event.at,
  };
}
