// Appends one entry to the audit log inside the caller's transaction, so a
// change and its record commit together or not at all. Appends are serialised
// with a transaction-scoped advisory lock: one total order, no gaps and no
// fork, even with several meetplane processes on one PostgreSQL. The tree
// nodes the new leaf completes are stored in the same transaction, so proofs
// never need to recompute anything.
import { sql } from 'drizzle-orm';
import type { Tx } from '../db/index.js';
import type { Principal } from '../auth/principal.js';
import { auditEntries } from './table.js';
import { canonicalBytes } from './canonical.js';
import { completedNodes, leafHash } from './merkle.js';
import { DbNodeReader, insertNodes, treeSize } from './store.js';
import { PersonRef, personRefs } from './subjects.js';

export const AUDIT_LOCK_KEY = 7243502;
export const AUDIT_SCHEMA_VERSION = 1;

/**
 * A JSON value without personal data or secrets (entries can never be erased).
 * Account ids go in as PersonRef and come out pseudonymised.
 */
export type AuditValue = string | number | boolean | null | PersonRef | AuditValue[] | { [k: string]: AuditValue };

export interface PolicyDecision {
  decision: 'allow' | 'deny';
  policyIds: string[];
  policySetHash: string;
}

export interface AuditInput {
  actor: Principal;
  action: string;
  subject: { type: string; id: string | PersonRef };
  outcome?: 'success' | 'denied' | 'failure';
  before?: Record<string, AuditValue> | null;
  after?: Record<string, AuditValue> | null;
  details?: Record<string, AuditValue>;
  /** The policy decision that allowed (or refused) the action. */
  decision?: PolicyDecision;
  /** SHA-256 (hex) of documents the action relied on, by name. */
  evidence?: Record<string, string>;
}

export async function appendAudit(tx: Tx, input: AuditInput): Promise<{ index: number; leafHash: Uint8Array }> {
  await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`);
  const index = await treeSize(tx);
  const now = new Date();
  const people = collectPeople(input);
  if (input.actor.via !== 'local') people.push(input.actor.accountId);
  const refs = await personRefs(tx, people);
  const pseudo = <T>(v: T): T => pseudonymise(v, refs) as T;
  const actorRef = input.actor.via === 'local' ? null : refs.get(input.actor.accountId)!;
  const subjectId = pseudo(input.subject.id) as unknown as string;
  const entry = canonicalBytes({
    v: AUDIT_SCHEMA_VERSION,
    index,
    time: now.toISOString(),
    actor: {
      ref: actorRef,
      coop: input.actor.coopId,
      via: input.actor.via,
      // A machine client is no person: the entry names it (its client_id) beside the reference.
      ...(input.actor.machine && input.actor.clientId ? { client: input.actor.clientId } : {}),
      ...(input.actor.delegation ? { delegation: input.actor.delegation } : {}),
    },
    action: input.action,
    subject: { type: input.subject.type, id: subjectId },
    outcome: input.outcome ?? 'success',
    ...(input.before !== undefined ? { before: pseudo(input.before) } : {}),
    ...(input.after !== undefined ? { after: pseudo(input.after) } : {}),
    ...(input.details ? { details: pseudo(input.details) } : {}),
    ...((input.decision ?? input.actor.authorization) ? { decision: input.decision ?? input.actor.authorization! } : {}),
    ...(input.evidence ? { evidence: input.evidence } : {}),
  });
  const leaf = leafHash(entry);
  await tx.insert(auditEntries).values({
    idx: index,
    createdAt: now,
    actorRef,
    action: input.action,
    subjectType: input.subject.type,
    subjectId,
    entry,
    leafHash: leaf,
  });
  await insertNodes(tx, await completedNodes(new DbNodeReader(tx), index, leaf));
  return { index, leafHash: leaf };
}

function collectPeople(value: unknown, into: string[] = []): string[] {
  if (value instanceof PersonRef) into.push(value.accountId);
  else if (Array.isArray(value)) value.forEach((v) => collectPeople(v, into));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => collectPeople(v, into));
  return into;
}

function pseudonymise(value: unknown, refs: Map<string, string>): unknown {
  if (value instanceof PersonRef) return refs.get(value.accountId)!;
  if (Array.isArray(value)) return value.map((v) => pseudonymise(v, refs));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, pseudonymise(v, refs)]));
  return value;
}
