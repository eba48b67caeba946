// The source's package, once the tenancy is frozen: every file of every recording, with its size and
// SHA-256 (read from the source cluster's storage), and the SHA-256 of the tenancy's content (its
// rooms, recordings, members and secret: tenancy-content.ts), as one JSON manifest whose SHA-256 the
// signed manifest message names. The target pulls exactly these (files-routes.ts serves them).
// Recordings the caller leaves out (past the tenancy's retention, deleted at the source) are in
// neither, whatever the source cluster still lists (BBB's deleted tree, a cluster slow to forget).
import type { Principal } from '../auth/principal.js';
import { problems } from '../http/problem.js';
import { findTenancy } from '../tenancies/service.js';
import { fetchTenancyRecordings } from '../inventory/service.js';
import { recordingsLeftBehind } from '../inventory/left-behind.js';
import { locateRecording } from '../storage/bbb-layout.js';
import { openClusterStorage } from '../transfers/cluster-storage.js';
import { listFiles, sha256Of } from '../transfers/copy.js';
import { federationSigningKey } from '../federation/keys.js';
import { MANIFEST_TYP, sha256Hex, signMessage, type Manifest } from '../../federation/transfer-messages.js';
import { setState } from './outgoing.js';
import { deliverOutgoing } from './outbox.js';
import { buildTenancyContent } from './tenancy-content.js';
import { peerTransfers, tenancyContentLabel } from './table.js';
import { and, eq } from 'drizzle-orm';
import type { PeerTransfer, PeerTransferDeps } from './deps.js';

/** Every file of the tenancy's recordings on its (source) cluster, hashed; sorted by path. */
export async function buildManifest(d: PeerTransferDeps, tenancy: { id: string; clusterId: string }, transferId: string, leaveOut: readonly string[] = []): Promise<Omit<Manifest, 'tenancy_sha256'>> {
  const left = new Set(leaveOut);
  const behind = await recordingsLeftBehind(d, tenancy.id, tenancy.clusterId);
  if (behind) throw problems.conflict('recordings-left-behind', `${behind.reason}: nothing can be packaged`);
  const storage = await openClusterStorage(d.db, d.box, tenancy.clusterId);
  try {
    const recordings = (await fetchTenancyRecordings(d.db, d.box, tenancy, { outbound: d.outbound })).filter((r) => !left.has(r.recordID));
    const files: Manifest['files'] = [];
    for (const r of recordings) {
      const formats = r.playback.map((f) => f.type);
      const { found, missing } = await locateRecording(storage, r.recordID, r.state, formats);
      if (!formats.length || missing.length) throw problems.conflict('recording-missing', `recording ${r.recordID} is in none of the source's recording trees; nothing can be packaged`);
      for (const f of found) for (const file of await listFiles(storage, `${f.dir}/`)) files.push({ path: file.path, size: file.size, sha256: await sha256Of(storage, file.path) });
    }
    files.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
    return { transfer_id: transferId, files };
  } finally {
    await storage.close();
  }
}

/**
 * Packages an accepted transfer whose tenancy is frozen, and sends the target the signed manifest
 * message (retried until taken). The freeze between instances (after the members' notice) is the
 * lifecycle's; this refuses a tenancy that is not frozen. `leaveOut`: record ids never to package
 * (the transfer's recordings past retention).
 */
export async function packageTransfer(d: PeerTransferDeps, actor: Principal, row: PeerTransfer, leaveOut: readonly string[] = []): Promise<PeerTransfer> {
  if (row.side !== 'source' || row.state !== 'accepted') throw problems.conflict('peer-transfer-state', `a ${row.state} transfer cannot be packaged; it must be accepted by the target`);
  const tenancy = await findTenancy(d.db, row.tenancyId!);
  if (tenancy?.state !== 'frozen') throw problems.conflict('tenancy-not-frozen', 'the tenancy must be frozen before its package is made (its recordings must not change)');
  // The content's exact text is kept (sealed: it holds the secret) and served as it is: the manifest names its SHA-256.
  const content = JSON.stringify(await buildTenancyContent(d.db, d.box, tenancy, row.id, leaveOut));
  const manifest: Manifest = { ...(await buildManifest(d, tenancy, row.id, leaveOut)), tenancy_sha256: sha256Hex(content) };
  const text = JSON.stringify(manifest);
  const manifestSha256 = sha256Hex(text);
  const base = `${d.publicUrl}/federation/transfers/${row.id}`;
  const bytes = manifest.files.reduce((n, f) => n + f.size, 0);
  const jwt = await signMessage(
    MANIFEST_TYP,
    { iss: d.publicUrl, aud: row.peer, transfer_id: row.id, offer_sha256: row.offerSha256!, manifest_sha256: manifestSha256, files: manifest.files.length, bytes, manifest_url: `${base}/manifest`, capability_url: `${base}/capability` },
    await federationSigningKey(d.db, d.box),
  );
  const packaged = await d.db.transaction(async (tx) => {
    const [current] = await tx.select().from(peerTransfers).where(and(eq(peerTransfers.id, row.id), eq(peerTransfers.version, row.version))).for('update');
    if (!current) throw problems.preconditionFailed('(changed meanwhile)');
    return setState(tx, current, 'packaged', 'peer-transfer.package', { manifest: text, manifestSha256, tenancyContentSealed: d.box.seal(content, tenancyContentLabel(row.id)), outgoingJwt: jwt, attempts: 0, nextAttemptAt: new Date(), lastError: null }, { files: manifest.files.length, bytes, manifestSha256, tenancySha256: manifest.tenancy_sha256 }, actor);
  });
  return deliverOutgoing(d, packaged);
}
