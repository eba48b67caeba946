// The package's two messages as received: the manifest at the target (it starts the pull), and the
// target's verification at the source. Each holds only for the transfer's accepted terms and its one
// manifest: a manifest changed after it was sent, or a verification of another, is refused.
import { and, eq } from 'drizzle-orm';
import { problems } from '../http/problem.js';
import type { ManifestClaims, VerifiedClaims } from '../../federation/transfer-messages.js';
import { setState } from './outgoing.js';
import { packageUrls } from './package-client.js';
import { peerTransfers } from './table.js';
import type { Peer } from './peer.js';
import type { PeerTransfer, PeerTransferDeps } from './deps.js';

async function rowOf(d: PeerTransferDeps, tx: Parameters<Parameters<PeerTransferDeps['db']['transaction']>[0]>[0], id: string, side: 'source' | 'target', peer: Peer) {
  const [row] = await tx
    .select()
    .from(peerTransfers)
    .where(and(eq(peerTransfers.id, id), eq(peerTransfers.side, side), eq(peerTransfers.peer, peer.entityId)))
    .for('update');
  if (!row) throw problems.notFound('transfer');
  return row;
}

/** At the target: the manifest of an accepted transfer; the pull starts (the background job runs it). */
export async function receiveManifest(d: PeerTransferDeps, peer: Peer, m: ManifestClaims): Promise<PeerTransfer> {
  const urls = packageUrls(peer.entityId, m.transfer_id);
  if (m.manifest_url !== urls.manifest || m.capability_url !== urls.capability) throw problems.conflict('package-elsewhere', 'the package must be served under the source\'s own transfer endpoint');
  return d.db.transaction(async (tx) => {
    const row = await rowOf(d, tx, m.transfer_id, 'target', peer);
    if (m.offer_sha256 !== row.offerSha256) throw problems.conflict('manifest-for-other-terms', 'the manifest is not for the terms accepted');
    if (row.manifestSha256) {
      if (row.manifestSha256 === m.manifest_sha256) return row; // the same manifest again
      throw problems.conflict('manifest-changed', 'a different manifest was already received for this transfer; it cannot change after it was sent');
    }
    if (row.state !== 'accepted') throw problems.conflict('peer-transfer-state', `a ${row.state} transfer takes no manifest`);
    return setState(tx, row, 'pulling', 'peer-transfer.manifest-received', { manifestSha256: m.manifest_sha256, attempts: 0, nextAttemptAt: new Date(), lastError: null }, { files: m.files, bytes: m.bytes, manifestSha256: m.manifest_sha256 });
  });
}

/**
 * At the source: the target confirms every file of the manifest is stored and matches, and names its
 * gateway URL of the tenancy (created there, frozen until the source switches): kept to forward calls to.
 */
export async function receiveVerified(d: PeerTransferDeps, peer: Peer, v: VerifiedClaims): Promise<PeerTransfer> {
  return d.db.transaction(async (tx) => {
    const row = await rowOf(d, tx, v.transfer_id, 'source', peer);
    if (v.manifest_sha256 !== row.manifestSha256) throw problems.conflict('verified-other-manifest', 'the verification is for another manifest than this instance packaged');
    // Front ends' calls are forwarded there: only to the target's own gateway.
    if (!v.gateway_url.startsWith(`${peer.entityId}/t/`)) throw problems.conflict('gateway-elsewhere', "the tenancy's gateway must be under the target's own entity id");
    if (row.state === 'verified' || row.state === 'switched') return row; // the same verification again
    if (row.state !== 'packaged') throw problems.conflict('peer-transfer-state', `a ${row.state} transfer takes no verification`);
    const files = (JSON.parse(row.manifest!) as { files: Array<{ size: number }> }).files;
    if (v.files !== files.length || v.bytes !== files.reduce((n, f) => n + f.size, 0)) throw problems.conflict('verified-other-manifest', 'the verification counts other files or bytes than the manifest');
    return setState(tx, row, 'verified', 'peer-transfer.verified', { outgoingJwt: null, nextAttemptAt: null, targetGatewayUrl: v.gateway_url }, { files: v.files, bytes: v.bytes, manifestSha256: v.manifest_sha256, gatewayUrl: v.gateway_url });
  });
}
