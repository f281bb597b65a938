// The audit log: admin and security events with actor, time, source IP and target. Entries are
// written by the services that make the change; they name things, never carry a secret.

import { timeOrderedId } from '../time-ordered-id.js';
import type { Kysely } from 'kysely';
import { requireAdmin, type Actor } from '../access/actor.js';
import type { AuditLogTable, Database } from '../db/schema.js';

export type AuditActor = Pick<Actor, 'userId' | 'label' | 'ip'> & { organizationId: string | null };

export interface AuditEvent {
  action: string;
  targetKind: string;
  targetId?: string | null;
  targetLabel?: string | null;
  detail?: string | null;
}

export type AuditEntry = AuditLogTable;

/** Who the audit log names for what Keyward does by itself (the start-up sweep, spending alerts). */
export const SYSTEM_AUDIT_ACTOR: Omit<AuditActor, 'organizationId'> = { userId: null, label: 'Keyward (system)', ip: null };

export async function recordAudit(db: Kysely<Database>, actor: AuditActor, event: AuditEvent): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      // Time-ordered (UUIDv7): the append-only log appends at the end of its primary-key index.
      id: timeOrderedId(),
      organization_id: actor.organizationId,
      created_at: Date.now(),
      actor_user_id: actor.userId,
      actor_label: actor.label.slice(0, 254),
      source_ip: actor.ip,
      action: event.action,
      target_kind: event.targetKind,
      target_id: event.targetId ?? null,
      target_label: event.targetLabel?.slice(0, 254) ?? null,
      detail: event.detail?.slice(0, 500) ?? null,
    })
    .execute();
}

/** Newest first, one page at a time; administrators only. */
export async function listAudit(db: Kysely<Database>, actor: Actor, page: { limit: number; offset: number }) {
  requireAdmin(actor);
  const organizationId = actor.organizationId;
  const rows = await db
    .selectFrom('audit_log')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit + 1)
    .offset(page.offset)
    .execute();
  return { entries: rows.slice(0, page.limit), more: rows.length > page.limit };
}
