// Appends one entry to the audit trail inside the caller's transaction, so a
// change and its record commit together or not at all. Appends are serialised
// with a transaction-scoped advisory lock: one total order, no gaps, even with
// several meetplane processes on one PostgreSQL.
import { sql } from 'drizzle-orm';
import { rowsOf, type Tx } from '../db/index.js';
import type { Principal } from '../auth/principal.js';
import { auditEntries } from './table.js';
import { canonicalBytes } from './canonical.js';
import { leafHash } from './merkle.js';

export const AUDIT_LOCK_KEY = 7243502;
export const AUDIT_SCHEMA_VERSION = 1;

/** A JSON value without personal data or secrets (entries can never be erased). */
export type AuditValue = string | number | boolean | null | AuditValue[] | { [k: string]: AuditValue };

export interface AuditInput {
  actor: Principal;
  action: string;
  subject: { type: string; id: string };
  outcome?: 'success' | 'denied' | 'failure';
  before?: Record<string, AuditValue> | null;
  after?: Record<string, AuditValue> | null;
  details?: Record<string, AuditValue>;
}

export async function appendAudit(tx: Tx, input: AuditInput): Promise<{ index: number }> {
  await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`);
  const [head] = rowsOf<{ next: string | number }>(
    await tx.execute(sql`select coalesce(max(idx) + 1, 0) as next from audit_entries`),
  );
  const index = Number(head?.next ?? 0);
  const now = new Date();
  const entry = canonicalBytes({
    v: AUDIT_SCHEMA_VERSION,
    index,
    time: now.toISOString(),
    actor: { account: input.actor.accountId, coop: input.actor.coopId, via: input.actor.via },
    action: input.action,
    subject: input.subject,
    outcome: input.outcome ?? 'success',
    ...(input.before !== undefined ? { before: input.before } : {}),
    ...(input.after !== undefined ? { after: input.after } : {}),
    ...(input.details ? { details: input.details } : {}),
  });
  await tx.insert(auditEntries).values({
    idx: index,
    createdAt: now,
    actorId: input.actor.via === 'local' ? null : input.actor.accountId,
    action: input.action,
    subjectType: input.subject.type,
    subjectId: input.subject.id,
    entry,
    leafHash: leafHash(entry),
  });
  return { index };
}
