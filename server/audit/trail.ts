// Appends one entry to the audit log inside the caller's transaction, so a
// change and its record commit together or not at all. The entry is written as
// pending (people already pseudonymised, its JSON checked), without any lock:
// writers never wait for each other. The sequencer (sequencer.ts) gives it its
// index and time and adds it to the tree shortly after it commits; every
// reader of the log runs the sequencer first, so a committed change is always
// seen with its entry.
import { sql, type SQL } from 'drizzle-orm';
import { rowsOf, type Tx } from '../db/index.js';
import type { Principal } from '../auth/principal.js';
import { canonicalJson } from './canonical.js';
import { keysStillStored, PersonRef, personRefs, refsFromKeys, seenPersonKeys, unseePersonKeys } from './subjects.js';
import { sequenceAllIn } from './sequencer.js';
import { noteAppend } from './wake.js';

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

/** Writes the entry as pending in the caller's transaction; returns its pending id. */
export async function appendAudit(tx: Tx, input: AuditInput): Promise<{ pending: number }> {
  const people = collectPeople(input);
  if (input.actor.via !== 'local') people.push(input.actor.accountId);
  // One statement in the common case: keys this process has seen, checked as it inserts.
  const seen = seenPersonKeys(people);
  let pending = seen && (await insertPending(tx, pendingRow(input, refsFromKeys(seen)), keysStillStored(seen)));
  if (pending === undefined) {
    if (seen) unseePersonKeys(people);
    pending = await insertPending(tx, pendingRow(input, await personRefs(tx, people)));
  }
  if (pending === undefined) throw new Error('audit entry was not written');
  noteAppend();
  return { pending };
}

interface PendingRow {
  actorRef: string | null;
  action: string;
  subjectType: string;
  subjectId: string;
  body: string;
}

function pendingRow(input: AuditInput, refs: Map<string, string>): PendingRow {
  const pseudo = <T>(v: T): T => pseudonymise(v, refs) as T;
  const actorRef = input.actor.via === 'local' ? null : refs.get(input.actor.accountId)!;
  const subjectId = pseudo(input.subject.id) as unknown as string;
  // Everything but index and time, which the sequencer adds; checked here so a value
  // without an exact JSON form fails the change itself.
  const body = canonicalJson({
    v: AUDIT_SCHEMA_VERSION,
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
  return { actorRef, action: input.action, subjectType: input.subject.type, subjectId, body };
}

/** Inserts the row when `condition` holds; its id, or undefined when it did not. */
async function insertPending(tx: Tx, r: PendingRow, condition: SQL = sql`true`): Promise<number | undefined> {
  const [row] = rowsOf<{ id: string | number }>(
    await tx.execute(sql`insert into audit_pending (actor_ref, action, subject_type, subject_id, body)
      select ${r.actorRef}::text, ${r.action}::text, ${r.subjectType}::text, ${r.subjectId}::text, ${r.body}::text where ${condition} returning id`),
  );
  return row === undefined ? undefined : Number(row.id);
}

/**
 * Appends and sequences at once, in the caller's transaction (which then holds
 * the log's lock until it ends), for the few callers that need the entry's
 * index before they commit: key rotations, which sign a checkpoint covering it.
 */
export async function appendAuditNow(tx: Tx, input: AuditInput): Promise<{ index: number }> {
  const { pending } = await appendAudit(tx, input);
  const index = (await sequenceAllIn(tx)).get(pending);
  if (index === undefined) throw new Error(`audit entry ${pending} was not sequenced in its own transaction`);
  return { index };
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
