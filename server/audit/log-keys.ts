// The audit log's identity: the origin its checkpoints name and the Ed25519 key
// that signs them. Both are fixed when the log is created and stored (the
// private key sealed under the master key), so PUBLIC_URL can change without
// the log changing; only an announced rotation (rotation.ts) replaces them.
import { desc, eq, isNull } from 'drizzle-orm';
import type { Db, Executor } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import { LOCAL_OPERATOR } from '../auth/principal.js';
import { generateNoteKey, NoteError, noteKeyFromPrivate, openNote, type NoteKey } from './note.js';
import { auditKeys, auditLogKeys } from './table.js';
import { latestCheckpoint } from './store.js';
import { appendAudit } from './trail.js';
import { lockLog } from './lock.js';

/** Binds a sealed private key to its vkey, so it cannot be moved to another row. */
export const sealLabel = (vkey: string) => `audit-log-key:${vkey}`;
/** How keys were sealed before the identity was stored (audit_keys). */
export const LEGACY_LABEL = 'audit-checkpoint-key';

/** Every key change holds the log's lock: nothing is sequenced and no checkpoint is signed meanwhile. */
export { lockLog };

export class LogKeyError extends Error {}

/** The active row, still sealed (opening it is the caller's choice: see CheckpointSigner's cache). */
export async function activeLogKeyRow(db: Executor) {
  const [row] = await db.select().from(auditLogKeys).where(isNull(auditLogKeys.retiredAt)).limit(1);
  return row;
}

export function openLogKey(box: SecretBox, row: { vkey: string; origin: string; privateSealed: string }): NoteKey {
  const key = noteKeyFromPrivate(row.origin, box.open(row.privateSealed, sealLabel(row.vkey)));
  if (key.vkey !== row.vkey) throw new LogKeyError(`stored audit key does not match its vkey ${row.vkey}`);
  return key;
}

/** Stores `key` as the signing key; the caller has retired the previous one in the same transaction. */
export async function storeLogKey(tx: Executor, box: SecretBox, key: NoteKey): Promise<void> {
  await tx.insert(auditLogKeys).values({ vkey: key.vkey, origin: key.name, privateSealed: box.seal(key.privateKey, sealLabel(key.vkey)) });
}

export async function retireLogKey(tx: Executor, vkey: string): Promise<void> {
  await tx.update(auditLogKeys).set({ retiredAt: new Date() }).where(eq(auditLogKeys.vkey, vkey));
}

/**
 * Makes sure the log has an identity, once per database: a new log takes
 * `originForNewLog` (from PUBLIC_URL) and a fresh key; a log started before
 * the identity was stored keeps the origin of its newest checkpoint and the key
 * that signed it, whatever PUBLIC_URL says now. Either is audited. Several
 * processes may start at once: the lock lets one decide.
 */
export async function establishLogKey(db: Db, box: SecretBox, originForNewLog: string): Promise<void> {
  if (await activeLogKeyRow(db)) return;
  await db.transaction(async (tx) => {
    await lockLog(tx);
    if (await activeLogKeyRow(tx)) return;
    const adopted = await adoptLegacyKey(tx, box, originForNewLog);
    const key = adopted?.key ?? generateNoteKey(originForNewLog);
    await storeLogKey(tx, box, key);
    await appendAudit(tx, {
      actor: LOCAL_OPERATOR,
      action: adopted ? 'audit.key.adopt' : 'audit.key.create',
      subject: { type: 'audit-log', id: key.name },
      details: { origin: key.name, vkey: key.vkey, ...(adopted ? { from: adopted.from } : {}) },
    });
  });
}

/**
 * The key of a log started before its identity was stored (one key per origin
 * PUBLIC_URL ever gave): the one that signed the newest checkpoint, or, when
 * nothing was signed yet, the one published for the current PUBLIC_URL (else
 * the newest).
 */
async function adoptLegacyKey(tx: Executor, box: SecretBox, originForNewLog: string): Promise<{ key: NoteKey; from: string } | undefined> {
  const rows = await tx.select().from(auditKeys).orderBy(desc(auditKeys.createdAt));
  if (rows.length === 0) return undefined;
  const newest = await latestCheckpoint(tx);
  if (!newest) {
    const row = rows.find((r) => r.name === originForNewLog) ?? rows[0]!;
    return { key: noteKeyFromPrivate(row.name, box.open(row.privateSealed, LEGACY_LABEL)), from: 'stored key' };
  }
  const origin = newest.note.slice(0, newest.note.indexOf('\n'));
  const row = rows.find((r) => r.name === origin);
  if (!row) throw new LogKeyError(`the newest audit checkpoint (size ${newest.size}) names origin "${origin}", but no key for it is stored`);
  const key = noteKeyFromPrivate(row.name, box.open(row.privateSealed, LEGACY_LABEL));
  openNote(newest.note, key.vkey); // the key really signed it (throws otherwise)
  return { key, from: `checkpoint at size ${newest.size}` };
}

/** Every key the log has had, oldest first (the active one has retiredAt null). */
export async function listLogKeys(db: Executor) {
  return db
    .select({ vkey: auditLogKeys.vkey, origin: auditLogKeys.origin, createdAt: auditLogKeys.createdAt, retiredAt: auditLogKeys.retiredAt })
    .from(auditLogKeys)
    .orderBy(auditLogKeys.createdAt);
}

/** The vkey of the log key that signed `note` for its own origin, if any. */
export async function signerOf(db: Executor, note: string): Promise<string | undefined> {
  const origin = note.slice(0, note.indexOf('\n'));
  for (const k of (await listLogKeys(db)).reverse()) {
    if (k.origin !== origin) continue;
    try {
      openNote(note, k.vkey);
      return k.vkey;
    } catch (e) {
      if (!(e instanceof NoteError)) throw e;
    }
  }
  return undefined;
}
