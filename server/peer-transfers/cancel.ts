// Withdrawing a transfer between instances before anything moved for good. The source's admin
// cancels it (an offer not yet answered, an accepted or packaged one); the target is told with a
// signed message and forgets it: an offer no longer to be answered, a pull stopped, and every file
// already pulled removed from its cluster's storage (a copy of members' recordings with no transfer
// behind it must not stay). A target that already holds a verified package is past withdrawing.
import { and, eq } from 'drizzle-orm';
import type { Principal } from '../auth/principal.js';
import { problems } from '../http/problem.js';
import { findCluster } from '../clusters/service.js';
import { openClusterStorage } from '../transfers/cluster-storage.js';
import { federationSigningKey } from '../federation/keys.js';
import { CANCEL_TYP, signMessage, type CancelClaims, type Manifest } from '../../federation/transfer-messages.js';
import { PARTIAL_SUFFIX } from '../transfers/copy.js';
import { setState } from './outgoing.js';
import { deliverOutgoing } from './outbox.js';
import { endLifecycle } from './lifecycle-link.js';
import { removeArrivedTenancy } from './tenancy-arrival.js';
import { peerTransferFiles, peerTransfers } from './table.js';
import type { Peer } from './peer.js';
import type { PeerTransfer, PeerTransferDeps } from './deps.js';

const CANCELLABLE_AT_SOURCE = new Set<PeerTransfer['state']>(['offering', 'offered', 'accepted', 'packaged']);
const CANCELLABLE_AT_TARGET = new Set<PeerTransfer['state']>(['offered', 'accepted', 'pulling', 'failed']);

export async function cancelPeerTransfer(d: PeerTransferDeps, actor: Principal, row: PeerTransfer, reason: string): Promise<PeerTransfer> {
  if (row.side !== 'source') throw problems.conflict('peer-transfer-state', 'the source instance withdraws a transfer; the target refuses it');
  if (!CANCELLABLE_AT_SOURCE.has(row.state)) throw problems.conflict('peer-transfer-state', `a ${row.state} transfer cannot be withdrawn`);
  const jwt = await signMessage(CANCEL_TYP, { iss: d.publicUrl, aud: row.peer, transfer_id: row.id, reason }, await federationSigningKey(d.db, d.box));
  const cancelled = await d.db.transaction(async (tx) => {
    const [current] = await tx.select().from(peerTransfers).where(and(eq(peerTransfers.id, row.id), eq(peerTransfers.version, row.version))).for('update');
    if (!current) throw problems.preconditionFailed('(changed meanwhile)');
    // An offer never delivered needs no message: the target never heard of it.
    const tell = current.state !== 'offering';
    await endLifecycle(tx, current.id, 'cancelled', 'transfer.cancel', undefined, actor);
    return setState(tx, current, 'cancelled', 'peer-transfer.cancel', { outgoingJwt: tell ? jwt : null, attempts: 0, nextAttemptAt: tell ? new Date() : null, lastError: null }, {}, actor);
  });
  return deliverOutgoing(d, cancelled);
}

/** At the target: the source withdrew the transfer. Idempotent. */
export async function receiveCancel(d: PeerTransferDeps, peer: Peer, c: CancelClaims): Promise<PeerTransfer> {
  const [row] = await d.db.select().from(peerTransfers).where(and(eq(peerTransfers.id, c.transfer_id), eq(peerTransfers.side, 'target'), eq(peerTransfers.peer, peer.entityId)));
  if (!row) throw problems.notFound('transfer');
  if (row.state === 'cancelled') return row;
  if (!CANCELLABLE_AT_TARGET.has(row.state)) throw problems.conflict('peer-transfer-state', `a ${row.state} transfer cannot be withdrawn any more`);
  const removed = await removePulledFiles(d, row);
  return d.db.transaction(async (tx) => {
    const [current] = await tx.select().from(peerTransfers).where(eq(peerTransfers.id, row.id)).for('update');
    const tenancyRemoved = await removeArrivedTenancy(tx, current!);
    // An answer still owed is owed no more.
    return setState(tx, current!, 'cancelled', 'peer-transfer.cancelled', { outgoingJwt: null, nextAttemptAt: null, progress: null, tenancyId: null }, { filesRemoved: removed, tenancyRemoved });
  });
}

/**
 * Removes from the target cluster's storage every file of the pull: those recorded, and every file the
 * manifest names with its partial (a file cut off, or in place but not yet recorded, is the pull's too).
 */
export async function removePulledFiles(d: PeerTransferDeps, row: PeerTransfer): Promise<number> {
  const [current] = await d.db.select().from(peerTransfers).where(eq(peerTransfers.id, row.id));
  const recorded = await d.db.select({ path: peerTransferFiles.path }).from(peerTransferFiles).where(eq(peerTransferFiles.transferId, row.id));
  const named = current?.manifest ? (JSON.parse(current.manifest) as Manifest).files.map((f) => f.path) : [];
  const paths = [...new Set([...recorded.map((r) => r.path), ...named])];
  const cluster = await findCluster(d.db, row.targetCluster);
  if (paths.length === 0 || !cluster) return 0;
  const storage = await openClusterStorage(d.db, d.box, cluster.id);
  let removed = 0;
  try {
    for (const path of paths) {
      if (await storage.exists(path)) removed++;
      await storage.remove(path);
      await storage.remove(`${path}${PARTIAL_SUFFIX}`);
    }
    await d.db.delete(peerTransferFiles).where(eq(peerTransferFiles.transferId, row.id));
  } finally {
    await storage.close();
  }
  return removed;
}
