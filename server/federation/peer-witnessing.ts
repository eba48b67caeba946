// Witnessing from the trust the instance already has: a pinned peer's verified `meetplane` metadata
// names its audit log (origin, checkpoint verifier key) and its witness (add-checkpoint URL,
// cosignature/v1 key). This instance witnesses that log and asks that witness to cosign its own
// checkpoints; unpinning the peer stops both. Rows an admin added by hand (via_entity null) are
// never changed or removed from here, and a peer cannot take over a log origin or a witness URL
// that an admin or another peer holds. Every change is audited.
import { and, eq, isNotNull, isNull } from 'drizzle-orm';
import type { Db, Tx } from '../db/index.js';
import type { Principal } from '../auth/principal.js';
import { appendAudit } from '../audit/trail.js';
import { NoteError, parseVerifierKey } from '../audit/note.js';
import { parseCosignerVkey } from '../../federation/cosignature.js';
import { TrustChainError, verifyPinnedPeer, type TrustChainResolver } from '../../federation/trust-chain.js';
import { cosigningWitnesses, federationPeers, witnessedLogs } from './table.js';

/** The actor of changes the instance makes itself, from a peer's re-read metadata. */
export const FEDERATION_ACTOR: Principal = { accountId: '00000000-0000-0000-0000-000000000000', coopId: null, platformAdmin: false, via: 'local', tokenId: null };

/** How often each process re-reads its pinned peers' metadata (a rotated key is picked up within this). */
export const PEER_WITNESS_SYNC_MS = 10 * 60_000;

export interface PeerWitnessing {
  log?: { origin: string; vkey: string };
  witness?: { url: string; vkey: string };
  /** What in the metadata could not be used, and why. */
  notes: string[];
}

/** What this instance does with a peer's log and witness, as shown to the admin. */
export interface WitnessingView {
  /** The peer's log origin this instance witnesses (by hand or from the metadata), if any. */
  log: string | null;
  /** The peer's witness this instance asks to cosign its checkpoints, if any. */
  witness: string | null;
  notes: string[];
}

const str = (v: unknown, max = 1000): string | undefined => (typeof v === 'string' && v.length > 0 && v.length <= max ? v : undefined);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** Reads the log and witness a peer's verified metadata names, refusing what does not hold together. */
export function witnessingOf(entityId: string, metadata: Record<string, unknown>): PeerWitnessing {
  const meetplane = obj(metadata.meetplane);
  const out: PeerWitnessing = { notes: [] };
  const log = obj(meetplane.audit_log);
  const origin = str(log.origin, 500);
  const logKey = str(log.verifier_key);
  if (origin && logKey) {
    try {
      const name = parseVerifierKey(logKey).name;
      if (name === origin) out.log = { origin, vkey: logKey };
      else out.notes.push(`its audit_log.verifier_key is named ${name}, not its origin ${origin}`);
    } catch (e) {
      if (!(e instanceof NoteError)) throw e;
      out.notes.push(`its audit_log.verifier_key: ${e.message}`);
    }
  } else out.notes.push('its metadata names no audit log');
  const witness = obj(meetplane.witness);
  const url = str(witness.add_checkpoint_url);
  const vkey = str(witness.vkey);
  if (url && vkey) {
    // Only the peer's own URLs: trusting the peer is no reason to send checkpoints wherever it says.
    if (!url.startsWith(`${entityId}/`) || !/^https?:\/\//.test(url)) out.notes.push(`its witness URL ${url} is not under its entity id`);
    else {
      try {
        parseCosignerVkey(vkey);
        out.witness = { url, vkey };
      } catch (e) {
        out.notes.push(`its witness.vkey: ${(e as Error).message}`);
      }
    }
  } else out.notes.push('its metadata names no witness');
  return out;
}

/** Brings the rows that came from `entityId` in line with `want`, in one transaction; audited. */
export async function applyPeerWitnessing(db: Db, actor: Principal, entityId: string, want: PeerWitnessing): Promise<WitnessingView> {
  return db.transaction(async (tx) => {
    // Holding the peer's row: an unpinning at the same time waits, and then stops what this added.
    const [peer] = await tx.select().from(federationPeers).where(eq(federationPeers.entityId, entityId)).for('update');
    if (!peer || !peer.witness) {
      await stopPeerWitnessing(tx, actor, entityId);
      return { log: null, witness: null, notes: [peer ? 'witnessing is off for this peer' : 'not a pinned peer'] };
    }
    const notes = [...want.notes];
    return { log: await applyLog(tx, actor, entityId, want.log, notes), witness: await applyWitness(tx, actor, entityId, want.witness, notes), notes };
  });
}

async function applyLog(tx: Tx, actor: Principal, entityId: string, want: PeerWitnessing['log'], notes: string[]): Promise<string | null> {
  const held = await tx.select().from(witnessedLogs).where(and(eq(witnessedLogs.viaEntity, entityId), isNull(witnessedLogs.retiredAt))).for('update');
  for (const r of held) if (r.origin !== want?.origin) await retireLog(tx, actor, r, 'no longer named in its metadata');
  if (!want) return null;
  const details = { viaEntity: entityId };
  const [row] = await tx.select().from(witnessedLogs).where(eq(witnessedLogs.origin, want.origin)).for('update');
  if (!row) {
    const [added] = await tx.insert(witnessedLogs).values({ origin: want.origin, vkey: want.vkey, viaEntity: entityId }).onConflictDoNothing().returning();
    if (added) await appendAudit(tx, { actor, action: 'witness.log.add', subject: { type: 'witnessed-log', id: want.origin }, after: { vkey: want.vkey }, details });
    return want.origin;
  }
  if (!row.retiredAt && row.viaEntity !== entityId) {
    if (row.viaEntity === null) {
      if (row.vkey !== want.vkey) notes.push(`${want.origin} was added by hand with another key; left as it is`);
      return want.origin;
    }
    notes.push(`${want.origin} is witnessed for ${row.viaEntity}; not taken over`);
    return null;
  }
  if (row.retiredAt || row.vkey !== want.vkey) {
    // A retired row comes back with what it cosigned: the log cannot be rolled back past it.
    await tx.update(witnessedLogs).set({ vkey: want.vkey, viaEntity: entityId, retiredAt: null }).where(eq(witnessedLogs.origin, want.origin));
    await appendAudit(tx, { actor, action: 'witness.log.add', subject: { type: 'witnessed-log', id: want.origin }, before: row.retiredAt ? null : { vkey: row.vkey }, after: { vkey: want.vkey }, details });
  }
  return want.origin;
}

async function applyWitness(tx: Tx, actor: Principal, entityId: string, want: PeerWitnessing['witness'], notes: string[]): Promise<string | null> {
  const held = await tx.select().from(cosigningWitnesses).where(eq(cosigningWitnesses.viaEntity, entityId)).for('update');
  for (const r of held) if (r.url !== want?.url) await removeWitness(tx, actor, r, 'no longer named in its metadata');
  if (!want) return null;
  const details = { viaEntity: entityId };
  const [row] = await tx.select().from(cosigningWitnesses).where(eq(cosigningWitnesses.url, want.url)).for('update');
  if (!row) {
    const [added] = await tx.insert(cosigningWitnesses).values({ url: want.url, vkey: want.vkey, viaEntity: entityId }).onConflictDoNothing().returning();
    if (added) await appendAudit(tx, { actor, action: 'witness.cosigner.add', subject: { type: 'cosigning-witness', id: want.url }, after: { vkey: want.vkey }, details });
    return want.url;
  }
  if (row.viaEntity !== entityId) {
    if (row.viaEntity === null) {
      if (row.vkey !== want.vkey) notes.push(`${want.url} was added by hand with another key; left as it is`);
      return want.url;
    }
    notes.push(`${want.url} is asked for ${row.viaEntity}; not taken over`);
    return null;
  }
  if (row.vkey !== want.vkey) {
    await tx.update(cosigningWitnesses).set({ vkey: want.vkey }).where(eq(cosigningWitnesses.url, want.url));
    await appendAudit(tx, { actor, action: 'witness.cosigner.add', subject: { type: 'cosigning-witness', id: want.url }, before: { vkey: row.vkey }, after: { vkey: want.vkey }, details });
  }
  return want.url;
}

async function retireLog(tx: Tx, actor: Principal, r: typeof witnessedLogs.$inferSelect, reason: string) {
  await tx.update(witnessedLogs).set({ retiredAt: new Date() }).where(eq(witnessedLogs.origin, r.origin));
  await appendAudit(tx, { actor, action: 'witness.log.stop', subject: { type: 'witnessed-log', id: r.origin }, before: { vkey: r.vkey }, after: null, details: { viaEntity: r.viaEntity, reason, size: r.size } });
}

async function removeWitness(tx: Tx, actor: Principal, r: typeof cosigningWitnesses.$inferSelect, reason: string) {
  await tx.delete(cosigningWitnesses).where(eq(cosigningWitnesses.url, r.url));
  await appendAudit(tx, { actor, action: 'witness.cosigner.remove', subject: { type: 'cosigning-witness', id: r.url }, before: { vkey: r.vkey }, after: null, details: { viaEntity: r.viaEntity, reason } });
}

/** Stops witnessing `entityId`'s log and asking its witness (what came from it only); in the caller's transaction. */
export async function stopPeerWitnessing(tx: Tx, actor: Principal, entityId: string): Promise<void> {
  const logs = await tx.select().from(witnessedLogs).where(and(eq(witnessedLogs.viaEntity, entityId), isNull(witnessedLogs.retiredAt))).for('update');
  for (const r of logs) await retireLog(tx, actor, r, 'unpinned');
  const witnesses = await tx.select().from(cosigningWitnesses).where(eq(cosigningWitnesses.viaEntity, entityId)).for('update');
  for (const r of witnesses) await removeWitness(tx, actor, r, 'unpinned');
}

/**
 * Re-reads a pinned peer's configuration (verified with the pinned key) and applies what it says.
 * A peer that cannot be reached or verified now keeps its entries: the next sync tries again.
 */
export async function syncPeerWitnessing(db: Db, resolver: TrustChainResolver, actor: Principal, entityId: string): Promise<WitnessingView> {
  const [peer] = await db.select().from(federationPeers).where(eq(federationPeers.entityId, entityId));
  if (!peer || !peer.witness) return applyPeerWitnessing(db, actor, entityId, { notes: [] });
  let metadata: Record<string, unknown>;
  try {
    metadata = (await verifyPinnedPeer(resolver, entityId, peer.thumbprint)).metadata ?? {};
  } catch (e) {
    if (!(e instanceof TrustChainError)) throw e;
    return { log: null, witness: null, notes: [`not re-read: ${e.message}`] };
  }
  return applyPeerWitnessing(db, actor, entityId, witnessingOf(entityId, metadata));
}

/** Syncs every pinned peer, and stops what came from an entity that is no longer one. */
export async function syncAllPeers(db: Db, resolver: TrustChainResolver, actor: Principal = FEDERATION_ACTOR): Promise<Array<WitnessingView & { entityId: string }>> {
  const peers = (await db.select({ entityId: federationPeers.entityId }).from(federationPeers)).map((p) => p.entityId);
  const sources = new Set([
    ...(await db.selectDistinct({ e: witnessedLogs.viaEntity }).from(witnessedLogs).where(and(isNotNull(witnessedLogs.viaEntity), isNull(witnessedLogs.retiredAt)))).map((r) => r.e!),
    ...(await db.selectDistinct({ e: cosigningWitnesses.viaEntity }).from(cosigningWitnesses).where(isNotNull(cosigningWitnesses.viaEntity))).map((r) => r.e!),
  ]);
  const out = [];
  for (const entityId of new Set([...peers, ...sources])) out.push({ entityId, ...(await syncPeerWitnessing(db, resolver, actor, entityId)) });
  return out;
}

/** Each process re-reads its peers' metadata every PEER_WITNESS_SYNC_MS (in the background, unref'd). */
export class PeerWitnessSync {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly resolver: TrustChainResolver,
    private readonly onError: (err: unknown) => void,
    private readonly intervalMs = PEER_WITNESS_SYNC_MS,
  ) {}

  start(): void {
    void this.run(); // pins made before this version (or while this process was down) take effect now
    this.#timer = setInterval(() => void this.run(), this.intervalMs);
    this.#timer.unref();
  }

  run(): Promise<unknown> {
    this.#running = this.#running.then(() => syncAllPeers(this.db, this.resolver).catch(this.onError));
    return this.#running;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }
}
