// The witness (C2SP tlog-witness add-checkpoint): cosigns a peer's audit checkpoint when it is
// consistent with the latest one this instance cosigned for that origin, and keeps the evidence
// when it is not. The check of the recorded size and the update are one transaction holding the
// log's row lock, so two requests cannot roll the recorded state back (the race the spec names).
import { desc, eq, isNull } from 'drizzle-orm';
import type { Db, Tx } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Principal } from '../auth/principal.js';
import { NoteError, parseCheckpoint, parseVerifierKey, splitNote, verifyNote, type Checkpoint } from '../audit/note.js';
import { EMPTY_ROOT, verifyConsistency } from '../audit/merkle.js';
import { appendAudit } from '../audit/trail.js';
import { signCosignature } from '../../federation/cosignature.js';
import { witnessKey } from './witness-key.js';
import { witnessedLogs, witnessIncidents } from './table.js';

/** The spec caps proofs at 63 lines. */
const MAX_PROOF_LINES = 63;
/** The sender is unauthenticated; its checkpoint signature is what the audit entry relies on. */
const WITNESS_ACTOR: Principal = { accountId: '00000000-0000-0000-0000-000000000000', coopId: null, platformAdmin: false, via: 'local', tokenId: null };

export type IncidentKind = 'fork' | 'rollback' | 'bad-proof';

export type WitnessAnswer =
  | { status: 200; cosignature: string }
  | { status: 409; size: number }
  | { status: 400 | 403 | 404 | 422; detail: string; incident?: IncidentKind };

export interface AddCheckpointRequest {
  old: number;
  proof: Uint8Array[];
  note: string;
  checkpoint: Checkpoint;
}

class Malformed extends Error {}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** `old <size>\n`, proof lines (base64 hashes), an empty line, then the checkpoint note. */
export function parseAddCheckpoint(body: Uint8Array): AddCheckpointRequest {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    throw new Malformed('the body is not UTF-8');
  }
  const end = text.indexOf('\n\n');
  if (end < 0) throw new Malformed('no empty line after the old size and proof lines');
  const [oldLine = '', ...proofLines] = text.slice(0, end).split('\n');
  const old = /^old (0|[1-9][0-9]*)$/.exec(oldLine);
  if (!old || !Number.isSafeInteger(Number(old[1]))) throw new Malformed('the first line must be "old <size>" (decimal, no leading zeroes)');
  if (proofLines.length > MAX_PROOF_LINES) throw new Malformed(`more than ${MAX_PROOF_LINES} consistency proof lines`);
  const proof = proofLines.map((l, i) => {
    const bytes = Buffer.from(l, 'base64');
    if (bytes.length !== 32 || bytes.toString('base64') !== l) throw new Malformed(`proof line ${i + 1} is not the base64 of a 32-byte hash`);
    return new Uint8Array(bytes);
  });
  const note = text.slice(end + 2);
  try {
    return { old: Number(old[1]), proof, note, checkpoint: parseCheckpoint(splitNote(note).text) };
  } catch (e) {
    if (e instanceof NoteError) throw new Malformed(`checkpoint: ${e.message}`);
    throw e;
  }
}

export interface WitnessDeps {
  db: Db;
  box: SecretBox;
  publicUrl: string;
}

/** Answers one add-checkpoint request body as the spec says, recording incidents and cosignatures. */
export async function addCheckpoint(deps: WitnessDeps, body: Uint8Array): Promise<WitnessAnswer> {
  let req: AddCheckpointRequest;
  try {
    req = parseAddCheckpoint(body);
  } catch (e) {
    if (e instanceof Malformed) return { status: 400, detail: e.message };
    throw e;
  }
  const { old, proof, note, checkpoint: cp } = req;
  const key = await witnessKey(deps.db, deps.box, deps.publicUrl);
  return deps.db.transaction(async (tx) => {
    const [log] = await tx.select().from(witnessedLogs).where(eq(witnessedLogs.origin, cp.origin)).for('update');
    // A retired log (its peer unpinned) keeps what was cosigned, but is not witnessed meanwhile.
    if (!log || log.retiredAt) return { status: 404, detail: `this witness does not witness the log ${JSON.stringify(cp.origin)}` };
    try {
      verifyNote(note, log.vkey);
    } catch (e) {
      if (e instanceof NoteError) return { status: 403, detail: `the checkpoint is not signed by the log's key: ${e.message}` };
      throw e;
    }
    if (old > cp.size) return { status: 400, detail: `old size ${old} is larger than the checkpoint size ${cp.size}` };
    const incident = (kind: IncidentKind, detail: string) => recordIncident(tx, { origin: cp.origin, kind, recorded: log.checkpoint!, presented: note, old, proof, detail });
    if (cp.size < log.size) {
      await incident('rollback', `a checkpoint of size ${cp.size}, smaller than the size ${log.size} already cosigned`);
      return { status: 409, size: log.size };
    }
    if (old !== log.size) return { status: 409, size: log.size };
    if (cp.size === 0 && !sameBytes(cp.rootHash, EMPTY_ROOT)) return { status: 422, detail: 'a checkpoint of size 0 must have the root of the empty tree' };
    if (old === 0 && proof.length > 0) return { status: 422, detail: 'a proof from size 0 must be empty' };
    if (old > 0) {
      const recordedRoot = new Uint8Array(Buffer.from(log.rootHash!, 'base64'));
      if (old === cp.size && !sameBytes(recordedRoot, cp.rootHash)) {
        const detail = `a checkpoint of size ${cp.size} with another root hash than the one already cosigned`;
        await incident('fork', detail);
        return { status: 422, detail, incident: 'fork' };
      }
      if (!verifyConsistency(old, cp.size, proof, recordedRoot, cp.rootHash)) {
        const detail = `the consistency proof from size ${old} does not verify`;
        if (old === cp.size) return { status: 422, detail: `${detail}: a proof between equal sizes is empty` };
        await incident('bad-proof', `${detail}: the log may have forked`);
        return { status: 422, detail, incident: 'bad-proof' };
      }
    }
    const time = Math.floor(Date.now() / 1000);
    const cosignature = signCosignature(splitNote(note).text, key, time);
    await tx.update(witnessedLogs).set({ size: cp.size, rootHash: b64(cp.rootHash), checkpoint: note, updatedAt: new Date() }).where(eq(witnessedLogs.origin, cp.origin));
    // Not an audit entry: the cosignature is itself the signed record, and an entry per cosignature
    // would grow this log, whose new checkpoint the peer witnesses, and so on forever between two
    // instances witnessing each other. Refusals (incidents) and configuration changes are audited.
    return { status: 200, cosignature };
  });
}

async function recordIncident(
  tx: Tx,
  i: { origin: string; kind: IncidentKind; recorded: string; presented: string; old: number; proof: Uint8Array[]; detail: string },
): Promise<void> {
  const [row] = await tx
    .insert(witnessIncidents)
    .values({ origin: i.origin, kind: i.kind, recordedCheckpoint: i.recorded, presentedCheckpoint: i.presented, oldSize: i.old, proof: i.proof.map(b64) })
    .returning({ id: witnessIncidents.id });
  await appendAudit(tx, {
    actor: WITNESS_ACTOR,
    action: 'witness.incident',
    subject: { type: 'witnessed-log', id: i.origin },
    outcome: 'denied',
    details: { incident: row!.id, kind: i.kind, detail: i.detail, recorded: i.recorded, presented: i.presented },
  });
}

/**
 * Adds (or re-keys, keeping the recorded state) a log to witness; audited. Added by hand, it is the
 * admin's from then on, even if a peer's metadata named it first: unpinning that peer keeps it.
 */
export async function addWitnessedLog(db: Db, actor: Principal, input: { origin: string; vkey: string }) {
  const verifier = parseVerifierKey(input.vkey);
  if (verifier.name !== input.origin) throw new NoteError('malformed-key', `the key's name "${verifier.name}" is not the origin "${input.origin}"`);
  return db.transaction(async (tx) => {
    const [before] = await tx.select().from(witnessedLogs).where(eq(witnessedLogs.origin, input.origin)).for('update');
    const [row] = await tx
      .insert(witnessedLogs)
      .values({ origin: input.origin, vkey: input.vkey, addedBy: actor.via === 'local' ? null : actor.accountId })
      .onConflictDoUpdate({ target: witnessedLogs.origin, set: { vkey: input.vkey, viaEntity: null, retiredAt: null } })
      .returning();
    await appendAudit(tx, {
      actor,
      action: 'witness.log.add',
      subject: { type: 'witnessed-log', id: input.origin },
      before: before && !before.retiredAt ? { vkey: before.vkey, ...(before.viaEntity ? { viaEntity: before.viaEntity } : {}) } : null,
      after: { vkey: input.vkey },
    });
    return logView(row!);
  });
}

export function logView(r: typeof witnessedLogs.$inferSelect) {
  return { origin: r.origin, vkey: r.vkey, size: r.size, rootHash: r.rootHash, updatedAt: r.updatedAt?.toISOString() ?? null, viaEntity: r.viaEntity };
}

/** The logs witnessed now (retired ones are kept, unshown, for their recorded state). */
export async function listWitnessedLogs(db: Db) {
  return (await db.select().from(witnessedLogs).where(isNull(witnessedLogs.retiredAt)).orderBy(witnessedLogs.origin)).map(logView);
}

export async function listIncidents(db: Db) {
  const rows = await db.select().from(witnessIncidents).orderBy(desc(witnessIncidents.detectedAt));
  return rows.map((r) => ({
    id: r.id,
    origin: r.origin,
    kind: r.kind,
    detectedAt: r.detectedAt.toISOString(),
    oldSize: r.oldSize,
    proof: r.proof,
    recordedCheckpoint: r.recordedCheckpoint,
    presentedCheckpoint: r.presentedCheckpoint,
  }));
}
