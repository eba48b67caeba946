// This instance's own audit log, witnessed: it sends its newest checkpoint with a consistency
// proof to each configured witness (C2SP tlog-witness add-checkpoint) and keeps the cosignature
// lines they return, so the checkpoint endpoint can serve them appended to the note. A witness
// answering 409 says which size it holds; the request is made once more from there.
import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import type { Principal } from '../auth/principal.js';
import type { Outbound } from '../net/outbound.js';
import { appendAudit } from '../audit/trail.js';
import { consistencyProof } from '../audit/merkle.js';
import { DbNodeReader, latestCheckpoint } from '../audit/store.js';
import { parseCosignerVkey, verifyCosignatures } from '../../federation/cosignature.js';
import { checkpointCosignatures, cosigningWitnesses } from './table.js';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/** Adds a witness to ask (its add-checkpoint URL and its cosignature/v1 vkey); audited. Added by hand, it is the admin's from then on. */
export async function addCosigningWitness(db: Db, actor: Principal, input: { url: string; vkey: string }) {
  parseCosignerVkey(input.vkey);
  return db.transaction(async (tx) => {
    await tx
      .insert(cosigningWitnesses)
      .values({ url: input.url, vkey: input.vkey, addedBy: actor.via === 'local' ? null : actor.accountId })
      .onConflictDoUpdate({ target: cosigningWitnesses.url, set: { vkey: input.vkey, viaEntity: null } });
    await appendAudit(tx, { actor, action: 'witness.cosigner.add', subject: { type: 'cosigning-witness', id: input.url }, after: { vkey: input.vkey } });
    return { url: input.url, vkey: input.vkey, viaEntity: null };
  });
}

export type CosignOutcome = { url: string; size: number; outcome: 'cosigned' | 'refused' | 'unreachable'; detail?: string };

/** Asks every configured witness to cosign the newest checkpoint; one witness failing stops no other. */
export async function collectCosignatures(db: Db, outbound: Outbound): Promise<CosignOutcome[]> {
  const checkpoint = await latestCheckpoint(db);
  if (!checkpoint) return [];
  const witnesses = await db.select().from(cosigningWitnesses);
  return Promise.all(witnesses.map((w) => askWitness(db, outbound, w, checkpoint)));
}

async function askWitness(
  db: Db,
  outbound: Outbound,
  w: typeof cosigningWitnesses.$inferSelect,
  cp: { size: number; note: string },
): Promise<CosignOutcome> {
  const cosigner = parseCosignerVkey(w.vkey);
  let old = w.size > cp.size ? 0 : w.size;
  for (let attempt = 0; attempt < 2; attempt++) {
    const proof = old > 0 && old < cp.size ? await consistencyProof(new DbNodeReader(db), old, cp.size) : [];
    let res: Response;
    try {
      res = await outbound.fetch(w.url, { method: 'POST', body: `old ${old}\n${proof.map((h) => `${b64(h)}\n`).join('')}\n${cp.note}`, redirect: 'manual' });
    } catch (e) {
      return { url: w.url, size: cp.size, outcome: 'unreachable', detail: (e as Error).message };
    }
    const text = await res.text();
    if (res.status === 409 && res.headers.get('content-type') === 'text/x.tlog.size' && /^(0|[1-9][0-9]*)\n$/.test(text) && Number(text) !== old && Number(text) <= cp.size) {
      old = Number(text);
      continue;
    }
    if (res.status !== 200) return { url: w.url, size: cp.size, outcome: 'refused', detail: `${res.status}: ${text.slice(0, 300)}` };
    // Only lines by the configured key are kept, and only if they verify over this checkpoint.
    let valid;
    try {
      valid = verifyCosignatures(cp.note + text, [cosigner]);
    } catch (e) {
      return { url: w.url, size: cp.size, outcome: 'refused', detail: `the answer does not verify: ${(e as Error).message}` };
    }
    const line = text.split('\n').find((l) => l.startsWith(`\u2014 ${cosigner.name} `));
    if (valid.length === 0 || !line) return { url: w.url, size: cp.size, outcome: 'refused', detail: 'no cosignature by the configured witness key' };
    await db.transaction(async (tx) => {
      await tx.insert(checkpointCosignatures).values({ size: cp.size, witness: w.vkey, line: `${line}\n` }).onConflictDoUpdate({ target: [checkpointCosignatures.size, checkpointCosignatures.witness], set: { line: `${line}\n`, receivedAt: new Date() } });
      await tx.update(cosigningWitnesses).set({ size: cp.size }).where(eq(cosigningWitnesses.url, w.url));
    });
    return { url: w.url, size: cp.size, outcome: 'cosigned' };
  }
  return { url: w.url, size: cp.size, outcome: 'refused', detail: 'the witness holds a size this log cannot prove from' };
}

/** The checkpoint note with the cosignatures collected for its size appended. */
export async function withCosignatures(db: Db, size: number, note: string): Promise<string> {
  const rows = await db.select({ line: checkpointCosignatures.line }).from(checkpointCosignatures).where(and(eq(checkpointCosignatures.size, size)));
  return note + rows.map((r) => r.line).join('');
}
