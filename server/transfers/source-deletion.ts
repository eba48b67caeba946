// The last step of a completed transfer: after the source grace period
// (TRANSFER_SOURCE_GRACE_DAYS, counted from completion) the recordings are
// deleted at the source cluster, through its BBB API and from its storage, and
// the deletion is recorded. BBB's deleteRecordings only moves a recording to its
// deleted tree, so each copied recording's format directory is removed from
// every tree (published, unpublished, deleted) and checked gone. It runs only
// after the target was verified, and it is idempotent: a run killed half-way
// deletes the rest next time and records once.
import { createHash } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import type { Principal } from '../auth/principal.js';
import { BbbError } from '../bbb/client.js';
import { findCluster } from '../clusters/service.js';
import { clusterClient } from '../clusters/health.js';
import type { Outbound } from '../net/outbound.js';
import { appendAudit } from '../audit/trail.js';
import { failpoint } from '../failpoints.js';
import { clusterStorageUrl, withClusterStorage } from './cluster-storage.js';
import { RECORDING_TREES, recordingDir, recordingOfPath, recordingsRootUrl } from '../storage/bbb-layout.js';
import { transferFiles, transfers } from './table.js';
import type { Transfer } from './service.js';
import type { Db } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import { localTarget } from './target.js';
import { peerTransfers } from '../peer-transfers/table.js';

/** The files the target holds: those the copy recorded, or (another instance) those the package's manifest named and the target verified. */
async function copiedFiles(db: Db, t: Transfer): Promise<Array<{ path: string; size: number; sha256: string }>> {
  if (!t.peer) return db.select({ path: transferFiles.path, size: transferFiles.size, sha256: transferFiles.sha256 }).from(transferFiles).where(eq(transferFiles.transferId, t.id));
  const [row] = await db.select({ manifest: peerTransfers.manifest }).from(peerTransfers).where(eq(peerTransfers.id, t.id));
  if (!row?.manifest) throw new Error(`transfer ${t.id} to ${t.peer} has no package on record; nothing is deleted`);
  return (JSON.parse(row.manifest) as { files: Array<{ path: string; size: number; sha256: string }> }).files;
}

/** When the source copy of a completed transfer may be deleted. */
export function sourceDeletionDue(t: Pick<Transfer, 'state' | 'stateSince'>, graceMs: number): Date | null {
  return t.state === 'completed' ? new Date(t.stateSince.getTime() + graceMs) : null;
}

export async function deleteAtSource(deps: { db: Db; box: SecretBox; outbound: Outbound }, actor: Principal, t: Transfer): Promise<void> {
  const { db, box } = deps;
  const files = await copiedFiles(db, t);
  const copied = files.map((f) => {
    const r = recordingOfPath(f.path);
    if (!r) throw new Error(`${f.path} is not under a recording tree: this transfer's files predate the recording trees; delete its source copy by hand`);
    return r;
  });
  const recordIds = [...new Set(copied.map((r) => r.recordId))].sort();
  // Each copied recording's format directory, in every tree it could be in by now.
  const dirs = [...new Set(copied.flatMap((r) => RECORDING_TREES.map((tree) => recordingDir(tree, r.format, r.recordId))))].sort();
  // A target on another instance never shares this instance's storage.
  const [from, to] = await Promise.all([clusterStorageUrl(db, t.sourceClusterId), t.peer ? undefined : clusterStorageUrl(db, localTarget(t).clusterId)]);
  // Two clusters publishing from one storage: the source's files are the target's. Nothing to delete.
  const shared = from !== undefined && to !== undefined && recordingsRootUrl(from.url) === recordingsRootUrl(to.url);
  if (!shared && recordIds.length) {
    const source = await findCluster(db, t.sourceClusterId);
    if (source) {
      const client = await clusterClient(db, box, source, { outbound: deps.outbound });
      for (let i = 0; i < recordIds.length; i += 50)
        await client.deleteRecordings(recordIds.slice(i, i + 50)).catch((e: unknown) => {
          // Deleted already (an earlier run, or by hand): the storage check below decides.
          if (!(e instanceof BbbError && e.messageKey === 'notFound')) throw e;
        });
    }
    await withClusterStorage(db, box, t.sourceClusterId, async (storage) => {
      for (const dir of dirs) await storage.remove(dir, { recursive: true });
      // Each recording's directories, not each file: a few round trips per recording (over SFTP too).
      for (const dir of dirs) if (await storage.stat(dir)) throw new Error(`${dir} is still at the source after deletion`);
    });
  }
  failpoint('transfer.before:source-deleted');
  const manifestSha256 = createHash('sha256').update(JSON.stringify(files.map((f) => [f.path, f.size, f.sha256]).sort())).digest('hex');
  await db.transaction(async (tx) => {
    const [row] = await tx
      .update(transfers)
      .set({ sourceDeletedAt: new Date() })
      .where(and(eq(transfers.id, t.id), isNull(transfers.sourceDeletedAt)))
      .returning({ id: transfers.id });
    if (!row) return; // another runner recorded it
    await appendAudit(tx, {
      actor,
      action: 'transfer.source-delete',
      subject: { type: 'transfer', id: t.id },
      details: shared
        ? { skipped: 'the source and target clusters share one recording storage', recordings: recordIds.length }
        : { recordings: recordIds.length, files: files.length, bytes: files.reduce((n, f) => n + f.size, 0), inventoryManifestSha256: manifestSha256 },
    });
  });
}
