// The target pulls a transfer's package from the source: a capability for its own federation key,
// the manifest (its SHA-256 must be the one the source signed), then every file the manifest names,
// through the same resumable, checksummed, durable copy a local transfer uses, into the accepted
// cluster's storage. A file whose bytes do not match the manifest is removed and the pull fails,
// audited; nothing else is ever fetched. Each checked metadata.xml is then rewritten to link this
// cluster's playback host (relink.ts). When every file matches, the tenancy is created from its
// content (tenancy-arrival.ts), and the source is told (signed), with the tenancy's gateway URL here.
import { excluded } from '../db/excluded.js';
import { Readable } from 'node:stream';
import { and, eq, isNull } from 'drizzle-orm';
import { federationSigningKey } from '../federation/keys.js';
import { failpoint } from '../failpoints.js';
import { findCluster } from '../clusters/service.js';
import { playbackHostsRewriter } from '../transfers/playback-links.js';
import { openClusterStorage } from '../transfers/cluster-storage.js';
import { copyFiles, type CopyProgress, type CopyRecord, type CopyStateStore } from '../transfers/copy.js';
import { ProblemError, problems } from '../http/problem.js';
import { manifestSchema, sha256Hex, signMessage, VERIFIED_TYP, type Manifest } from '../../federation/transfer-messages.js';
import { setState } from './outgoing.js';
import { deliverOutgoing } from './outbox.js';
import { retryDelayMs } from './delivery.js';
import { removePulledFiles } from './cancel.js';
import { CapabilityHolder, PackageMismatch, packageUrls } from './package-client.js';
import { BatchedSource, PULL_BATCH } from './batch-source.js';
import { establishTenancy, fetchContent, gatewayUrlOf } from './tenancy-arrival.js';
import { isMetadataXml, relinkFiles, rewrittenFiles } from './relink.js';
import type { TenancyContent } from '../../federation/tenancy-content.js';
import { peerTransferFiles, peerTransfers } from './table.js';
import type { PeerTransfer, PeerTransferDeps } from './deps.js';

class PeerCopyState implements CopyStateStore {
  constructor(
    private readonly d: PeerTransferDeps,
    private readonly transferId: string,
  ) {}
  // A file rewritten here (relink.ts) is not the copy's: its bytes are no longer the source's.
  async done(): Promise<CopyRecord[]> {
    return this.d.db
      .select({ path: peerTransferFiles.path, size: peerTransferFiles.size, sha256: peerTransferFiles.sha256, doneAt: peerTransferFiles.doneAt })
      .from(peerTransferFiles)
      .where(and(eq(peerTransferFiles.transferId, this.transferId), isNull(peerTransferFiles.sourceSha256)));
  }
  async markDone(r: CopyRecord): Promise<void> {
    await this.markAllDone([r]);
  }
  async markAllDone(records: CopyRecord[]): Promise<void> {
    failpoint('copy.before-record'); // the crash tests' points, as in a local copy (DbCopyState)
    await this.d.db
      .insert(peerTransferFiles)
      .values(records.map((r) => ({ transferId: this.transferId, ...r })))
      .onConflictDoUpdate({ target: [peerTransferFiles.transferId, peerTransferFiles.path], set: { size: excluded(peerTransferFiles.size), sha256: excluded(peerTransferFiles.sha256), sourceSha256: null, doneAt: excluded(peerTransferFiles.doneAt) } });
    failpoint('copy.after-record');
  }
}

/** The package's files, read from the source over HTTP, many to a request (only createReadStream is asked of a copy's source). */
function packageSource(caps: CapabilityHolder, urls: ReturnType<typeof packageUrls>, manifest: Manifest): BatchedSource {
  return new BatchedSource({
    sizes: new Map(manifest.files.map((f) => [f.path, f.size])),
    fetchMany: (paths) => caps.post(urls.files, { files: paths }),
    async readFrom(path, start) {
      const res = await caps.get(urls.file(path), start > 0 ? { range: `bytes=${start}-` } : {});
      if (res.status !== (start > 0 ? 206 : 200) || !res.body) {
        await res.body?.cancel();
        throw new Error(`the source answered ${res.status} for ${path}`);
      }
      return Readable.fromWeb(res.body as never);
    },
  });
}

/** One attempt at the pull of a `pulling` transfer; a transient failure plans the next, a mismatch fails it. */
export async function pullTransfer(d: PeerTransferDeps, row: PeerTransfer, signal?: AbortSignal): Promise<PeerTransfer> {
  if (row.side !== 'target' || row.state !== 'pulling') throw problems.conflict('peer-transfer-state', `a ${row.state} transfer is not being pulled`);
  const urls = packageUrls(row.peer, row.id);
  const caps = new CapabilityHolder(d, urls.capability);
  const cluster = await findCluster(d.db, row.targetCluster);
  if (!cluster || cluster.coopId !== row.targetCoopId) throw problems.conflict('cluster-gone', `cluster "${row.targetCluster}" of the target co-op is gone`);
  try {
    const res = await caps.get(urls.manifest);
    const text = await res.text();
    if (!res.ok) throw new Error(`the source answered ${res.status} for the manifest`);
    if (sha256Hex(text) !== row.manifestSha256) throw new PackageMismatch('the manifest served is not the one the source signed');
    const parsed = manifestSchema.safeParse(JSON.parse(text));
    if (!parsed.success || parsed.data.transfer_id !== row.id) throw new PackageMismatch('the manifest is malformed or for another transfer');
    const manifest: Manifest = parsed.data;
    // Kept: a withdrawal removes every file it names (also one cut off before it was recorded).
    if (!row.manifest) await d.db.update(peerTransfers).set({ manifest: text }).where(eq(peerTransfers.id, row.id));
    // Fetched once, when needed: for the source's playback hosts, and to create the tenancy.
    let content: Promise<TenancyContent> | undefined;
    const contentOnce = () => (content ??= fetchContent(caps, urls, manifest, row.id));
    const to = await openClusterStorage(d.db, d.box, cluster.id);
    try {
      // Rewritten by an earlier run after its check: kept as they are, never fetched again.
      const rewritten = await rewrittenFiles(d, row.id, manifest, to);
      const toCopy = manifest.files.filter((f) => !rewritten.has(f.path));
      // Progress is kept about once a second, for `peer-transfers show` at the target.
      let saving = Promise.resolve();
      const onProgress = (p: CopyProgress) => {
        saving = saving.then(async () => void (await d.db.update(peerTransfers).set({ progress: { ...p, at: new Date().toISOString() } }).where(eq(peerTransfers.id, row.id))));
      };
      // As many workers as a request's files: those waiting for bytes are what the next request asks.
      const from = packageSource(caps, urls, manifest);
      const { manifest: stored } = await copyFiles({ from, to, files: toCopy.map((f) => ({ path: f.path, size: f.size })), state: new PeerCopyState(d, row.id), signal, onProgress, concurrency: PULL_BATCH.files });
      await saving;
      const expected = new Map(manifest.files.map((f) => [f.path, f.sha256]));
      const wrong = stored.filter((r) => expected.get(r.path) !== r.sha256);
      if (wrong.length > 0) {
        // Not kept: a file that is not what the source signed would be served as a member's recording.
        for (const w of wrong) {
          await to.remove(w.path);
          await d.db.delete(peerTransferFiles).where(and(eq(peerTransferFiles.transferId, row.id), eq(peerTransferFiles.path, w.path)));
        }
        throw new PackageMismatch(`${wrong.length} file(s) do not match the manifest's SHA-256, e.g. ${wrong[0]!.path}`);
      }
      // Checked: now each metadata.xml links this cluster's playback host instead of the source's.
      const toRelink = toCopy.filter((f) => isMetadataXml(f.path));
      if (toRelink.length) await relinkFiles(d, row.id, to, toRelink, playbackHostsRewriter((await contentOnce()).playback_hosts, cluster));
      failpoint('peer-transfers.relinked'); // a crash after the rewrite, before the tenancy's creation
    } finally {
      await to.close();
    }
    // Null: withdrawn meanwhile (nothing created; see below).
    const tenancy = await establishTenancy(d, row, contentOnce, cluster);
    failpoint('peer-transfers.tenancy-created'); // a crash between the tenancy's creation and `pulled`
    const bytes = manifest.files.reduce((n, f) => n + f.size, 0);
    const gatewayUrl = tenancy ? gatewayUrlOf(d.publicUrl, tenancy.slug) : null;
    const jwt = gatewayUrl
      ? await signMessage(VERIFIED_TYP, { iss: d.publicUrl, aud: row.peer, transfer_id: row.id, manifest_sha256: row.manifestSha256!, files: manifest.files.length, bytes, gateway_url: gatewayUrl }, await federationSigningKey(d.db, d.box))
      : null;
    const pulled = await d.db.transaction(async (tx) => {
      const [current] = await tx.select().from(peerTransfers).where(eq(peerTransfers.id, row.id)).for('update');
      if (current?.state !== 'pulling' || !jwt) return current ?? row; // withdrawn meanwhile: see below
      return setState(tx, current, 'pulled', 'peer-transfer.pulled', { outgoingJwt: jwt, attempts: 0, nextAttemptAt: new Date(), lastError: null }, { files: manifest.files.length, bytes, manifestSha256: row.manifestSha256!, tenancy: tenancy!.id, gatewayUrl });
    });
    // Withdrawn while this pull ran: what it copied after the withdrawal removed the rest goes too.
    if (pulled.state === 'cancelled') await removePulledFiles(d, pulled);
    return deliverOutgoing(d, pulled);
  } catch (err) {
    if (err instanceof PackageMismatch) {
      return d.db.transaction(async (tx) => {
        const [current] = await tx.select().from(peerTransfers).where(eq(peerTransfers.id, row.id)).for('update');
        return setState(tx, current!, 'failed', 'peer-transfer.pull-failed', { nextAttemptAt: null, lastError: err.message }, { reason: err.message });
      });
    }
    if (err instanceof ProblemError && err.status < 500) throw err;
    const attempts = row.attempts + 1;
    const message = (err as Error).message.slice(0, 500);
    const [next] = await d.db
      .update(peerTransfers)
      .set({ attempts, nextAttemptAt: new Date(Date.now() + retryDelayMs(attempts)), lastError: message, updatedAt: new Date() })
      .where(eq(peerTransfers.id, row.id))
      .returning();
    return next ?? row;
  }
}
