// Pseudonymous references to people in audit entries. The log can never be
// erased, so it must hold no personal data: instead of an account id, entries
// carry HMAC-SHA256(per-person key, account id). Whoever holds the key (the
// server, for its auditors' filters) can find a person's entries; destroying
// the key (`forgetPerson`) makes them unlinkable for good.
import { createHmac, randomBytes } from 'node:crypto';
import { eq, inArray } from 'drizzle-orm';
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
  }
  return refs;
}

/** The reference for a filter, without creating a key (undefined when forgotten or never seen). */
export async function existingPersonRef(db: Executor, accountId: string): Promise<string | undefined> {
  const [row] = await db.select().from(auditSubjectKeys).where(eq(auditSubjectKeys.accountId, accountId)).limit(1);
  return row ? refOf(row.key, accountId) : undefined;
}

/** Destroys the person's key. Returns false when there was none. */
export async function forgetPersonKey(tx: Executor, accountId: string): Promise<boolean> {
  const deleted = await tx.delete(auditSubjectKeys).where(eq(auditSubjectKeys.accountId, accountId)).returning({ id: auditSubjectKeys.accountId });
  return deleted.length > 0;
}
