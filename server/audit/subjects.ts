// Pseudonymous references to people in audit entries. The log can never be
// erased, so it must hold no personal data: instead of an account id, entries
// carry HMAC-SHA256(per-person key, account id). Whoever holds the key (the
// server, for its auditors' filters) can find a person's entries; destroying
// the key (`forgetPerson`) makes them unlinkable for good.
import { createHmac, randomBytes } from 'node:crypto';
import { eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../db/index.js';
import { auditSubjectKeys } from './table.js';

/** Marks an account id that must be pseudonymised before it enters an entry. */
export class PersonRef {
  constructor(readonly accountId: string) {}
}

export const person = (accountId: string) => new PersonRef(accountId);

function refOf(key: Uint8Array, accountId: string): string {
  return 'p:' + createHmac('sha256', key).update(accountId).digest('hex').slice(0, 32);
}

/**
 * Keys this process has read, so that an audit append can skip reading them
 * again. Never trusted alone: the append writes its entry only if each key it
 * used is still stored, checked in the same statement (keysStillStored), and
 * reads them again otherwise. A key forgotten or replaced so fails the check.
 */
const seenKeys = new Map<string, Uint8Array>();
const SEEN_KEYS_MAX = 10_000;

function remember(accountId: string, key: Uint8Array): void {
  if (seenKeys.size >= SEEN_KEYS_MAX) seenKeys.clear();
  seenKeys.set(accountId, key);
}

/** The keys of all these accounts if this process has seen each, else undefined. */
export function seenPersonKeys(accountIds: string[]): Map<string, Uint8Array> | undefined {
  const keys = new Map<string, Uint8Array>();
  for (const id of accountIds) {
    const key = seenKeys.get(id);
    if (!key) return undefined;
    keys.set(id, key);
  }
  return keys;
}

export function unseePersonKeys(accountIds: string[]): void {
  for (const id of accountIds) seenKeys.delete(id);
}

export function refsFromKeys(keys: Map<string, Uint8Array>): Map<string, string> {
  return new Map([...keys].map(([id, key]) => [id, refOf(key, id)]));
}

/** A condition true when every one of these keys is still stored as it is. */
export function keysStillStored(keys: Map<string, Uint8Array>): SQL {
  if (keys.size === 0) return sql`true`;
  return sql.join(
    [...keys].map(([id, key]) => sql`exists (select 1 from audit_subject_keys where account_id = ${id}::uuid and key = ${Buffer.from(key)}::bytea)`),
    sql` and `,
  );
}

/** The references for these accounts, creating keys for accounts seen first. */
export async function personRefs(tx: Executor, accountIds: string[]): Promise<Map<string, string>> {
  const ids = [...new Set(accountIds)];
  const refs = new Map<string, string>();
  if (ids.length === 0) return refs;
  const rows = await tx.select().from(auditSubjectKeys).where(inArray(auditSubjectKeys.accountId, ids));
  for (const r of rows) refs.set(r.accountId, refOf(r.key, r.accountId));
  const missing = ids.filter((id) => !refs.has(id));
  if (missing.length > 0) {
    const fresh = missing.map((accountId) => ({ accountId, key: new Uint8Array(randomBytes(32)) }));
    await tx.insert(auditSubjectKeys).values(fresh).onConflictDoNothing();
    // Re-read: a concurrent writer may have created the key first.
    const again = await tx.select().from(auditSubjectKeys).where(inArray(auditSubjectKeys.accountId, missing));
    for (const r of again) refs.set(r.accountId, refOf(r.key, r.accountId));
    rows.push(...again);
  }
  for (const r of rows) remember(r.accountId, r.key);
  return refs;
}

/** The reference for a filter, without creating a key (undefined when forgotten or never seen). */
export async function existingPersonRef(db: Executor, accountId: string): Promise<string | undefined> {
  const [row] = await db.select().from(auditSubjectKeys).where(eq(auditSubjectKeys.accountId, accountId)).limit(1);
  return row ? refOf(row.key, accountId) : undefined;
}

/** Destroys the person's key. Returns false when there was none. */
export async function forgetPersonKey(tx: Executor, accountId: string): Promise<boolean> {
  seenKeys.delete(accountId);
  const deleted = await tx.delete(auditSubjectKeys).where(eq(auditSubjectKeys.accountId, accountId)).returning({ id: auditSubjectKeys.accountId });
  return deleted.length > 0;
}
