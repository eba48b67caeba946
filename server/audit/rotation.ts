// Rotating the log's key (and, optionally, its origin) so that a verifier who
// pinned the old key can follow: in one transaction, under the append lock,
//  1. an `audit.key.rotate` entry at index t announces the new origin and vkey,
//  2. the checkpoint of size t + 1 (covering it) is signed by the OLD key and
//     co-signed by the new one (C2SP signed notes carry several signatures),
//  3. the new key becomes the signing key; the old one is retired.
// A verifier trusting the old key finds the entry, proves it is in a
// checkpoint that key signed, and moves on; one trusting the new key can walk
// back the same way through the co-signature (cli/audit/verifier.ts).
import type { Db } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Principal } from '../auth/principal.js';
import { generateNoteKey, isValidKeyName } from './note.js';
import { signCheckpoint } from './checkpoints.js';
import { activeLogKeyRow, lockLog, LogKeyError, openLogKey, retireLogKey, storeLogKey } from './log-keys.js';
import { appendAuditNow } from './trail.js';
import { ROTATE_ACTION } from './announcement.js';

export interface Rotation {
  previous: { origin: string; vkey: string };
  current: { origin: string; vkey: string };
  /** Index of the announcing entry. */
  index: number;
  /** The old key's last checkpoint (size index + 1), co-signed by the new key. */
  transition: { size: number; note: string };
}

/** An origin is also the key's name in the signed note: one line, no spaces, no '+'. */
export function assertOrigin(origin: string): void {
  if (!isValidKeyName(origin)) throw new LogKeyError(`"${origin}" cannot be a log origin: one line, no spaces and no "+" (e.g. example.org/audit)`);
}

export async function rotateLogKey(db: Db, box: SecretBox, actor: Principal, opts: { origin?: string } = {}): Promise<Rotation> {
  const origin = opts.origin;
  if (origin !== undefined) assertOrigin(origin);
  return db.transaction(async (tx) => {
    await lockLog(tx);
    const row = await activeLogKeyRow(tx);
    if (!row) throw new LogKeyError('the audit log has no signing key yet: start the server once first');
    const old = openLogKey(box, row);
    const next = generateNoteKey(origin ?? old.name);
    await retireLogKey(tx, old.vkey);
    await storeLogKey(tx, box, next);
    const previous = { origin: old.name, vkey: old.vkey };
    const current = { origin: next.name, vkey: next.vkey };
    const { index } = await appendAuditNow(tx, {
      actor,
      action: ROTATE_ACTION,
      subject: { type: 'audit-log', id: next.name },
      details: { previousOrigin: previous.origin, previousVkey: previous.vkey, origin: current.origin, vkey: current.vkey },
    });
    const transition = await signCheckpoint(tx, old, next);
    return { previous, current, index, transition };
  });
}
