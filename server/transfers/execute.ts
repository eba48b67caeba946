// The execution of a transfer once its notice period is over: each call to
// `advanceTransfer` runs the step the transfer's state calls for and moves it
// on, so a killed process resumes where it stopped (the copy resumes file by
// file from transfer_files). Nothing is deleted at the source here.
//   notice -> frozen: the data-protection rules again; the tenancy is frozen (the gateway refuses create)
//   frozen -> copying: running meetings of the tenancy are ended
//   copying -> switching: recordings copied with SHA-256 per file, metadata.xml rewritten for the target
//   switching -> verifying: the tenancy moves to the target co-op and cluster in one transaction
//   verifying -> completed: the target lists every recording, every file matches, every playback URL answers 200; a receipt is signed
// A failure before the switch rolls back (copied files removed at the target, the tenancy active again
// where it was); after the switch the transfer is failed, for an operator to look at.
import { createHash } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Logger } from '../logger.js';
import type { Principal } from '../auth/principal.js';
import { tenancies } from '../tenancies/table.js';
import { memberships } from '../accounts/table.js';
import { findCluster } from '../clusters/service.js';
import { clusterClient } from '../clusters/health.js';
import { findTenancy } from '../tenancies/service.js';
import { fetchTenancyRecordings, TENANCY_META } from '../inventory/service.js';
import { rooms } from '../inventory/table.js';
import { openStorage, type RecordingStorage } from '../storage/index.js';
import { copyFiles, listFiles, verifyFiles, type CopyFile, type CopyRecord, type CopyStateStore } from './copy.js';
import { signReceipt, storeReceipt } from '../receipts/receipt.js';
import type { CheckpointSigner } from '../audit/checkpoints.js';
import { clusterStorage, transferApprovals, transferFiles, transferObjections, transfers } from './table.js';
import { decide, findTransfer, transition, type Transfer, type TransferDeps } from './service.js';
import { freezeDate } from './notice.js';
import { appendAudit } from '../audit/trail.js';
import { ProblemError } from '../http/problem.js';
import { FINAL_STATES } from './lifecycle.js';

export interface ExecutionDeps extends TransferDeps {
  db: Db;
  box: SecretBox;
  log: Logger;
  signer: CheckpointSigner;
}

/** The system acts on its own here: the audit log names it as the local operator of this instance. */
const SYSTEM: Principal = { accountId: '00000000-0000-0000-0000-000000000000', coopId: null, platformAdmin: true, via: 'local', tokenId: null };

const STORAGE_LABEL = (clusterId: string) => `cluster-storage:${clusterId}`;

/** Sets where a cluster's published recordings live; credentials are sealed and never shown again. */
export async function setClusterStorage(
  db: Db,
  box: SecretBox,
  actor: Principal,
  clusterId: string,
  url: string,
  credentials: Record<string, string> | null,
): Promise<void> {
  // Opening it once refuses a malformed URL or a password inside it before anything is stored.
  await openStorage(url, credentials ?? {}).close();
  const sealed = credentials && Object.keys(credentials).length ? box.seal(JSON.stringify(credentials), STORAGE_LABEL(clusterId)) : null;
  await db.transaction(async (tx) => {
    await tx
      .insert(clusterStorage)
      .values({ clusterId, url, credentialsSealed: sealed })
      .onConflictDoUpdate({ target: clusterStorage.clusterId, set: { url, credentialsSealed: sealed, updatedAt: new Date() } });
    await appendAudit(tx, { actor, action: 'cluster.storage', subject: { type: 'cluster', id: clusterId }, after: { url, credentials: sealed !== null } });
  });
}

export async function clusterStorageUrl(db: Db, clusterId: string): Promise<{ url: string; hasCredentials: boolean } | undefined> {
  const [row] = await db.select().from(clusterStorage).where(eq(clusterStorage.clusterId, clusterId));
  return row && { url: row.url, hasCredentials: row.credentialsSealed !== null };
}

async function storageOf(db: Db, box: SecretBox, clusterId: string): Promise<RecordingStorage> {
  const [row] = await db.select().from(clusterStorage).where(eq(clusterStorage.clusterId, clusterId));
  if (!row) throw new Error(`cluster ${clusterId} has no recording storage configured`);
  const creds = row.credentialsSealed ? (JSON.parse(box.open(row.credentialsSealed, STORAGE_LABEL(clusterId))) as Record<string, string>) : {};
  return openStorage(row.url, creds);
}

class DbCopyState implements CopyStateStore {
  constructor(
    private readonly db: Db,
    private readonly transferId: string,
  ) {}
  async done(): Promise<CopyRecord[]> {
    return this.db.select({ path: transferFiles.path, size: transferFiles.size, sha256: transferFiles.sha256, doneAt: transferFiles.doneAt }).from(transferFiles).where(eq(transferFiles.transferId, this.transferId));
  }
  async markDone(r: CopyRecord): Promise<void> {
    await this.db
      .insert(transferFiles)
      .values({ transferId: this.transferId, ...r })
      .onConflictDoUpdate({ target: [transferFiles.transferId, transferFiles.path], set: { size: r.size, sha256: r.sha256, doneAt: r.doneAt } });
  }
}

/** Runs steps until the transfer waits (for its freeze date) or ends. Returns the state it stopped in. */
export async function advanceTransfer(deps: ExecutionDeps, transferId: string, now = new Date()): Promise<string> {
  for (;;) {
    const t = await findTransfer(deps.db, transferId);
    if (!t || FINAL_STATES.has(t.state)) return t?.state ?? 'missing';
    if (t.state === 'notice' && (freezeDate(t)?.getTime() ?? Infinity) > now.getTime()) return t.state;
    if (!['notice', 'frozen', 'copying', 'switching', 'verifying'].includes(t.state)) return t.state;
    try {
      await step(deps, t, now);
    } catch (err) {
      // Another worker moved it meanwhile: look again instead of rolling back its work.
      if (err instanceof ProblemError && err.status === 412) continue;
      const reason = (err as Error).message.slice(0, 300);
      deps.log.warn({ transfer: t.id, state: t.state, reason }, 'transfer step failed');
      if (['frozen', 'copying'].includes(t.state)) await rollBack(deps, t, reason);
      else if (['switching', 'verifying'].includes(t.state)) await deps.db.transaction((tx) => transition(tx, SYSTEM, t, 'failed', 'transfer.fail', { details: { reason } }));
      else throw err;
    }
  }
}

async function step(deps: ExecutionDeps, t: Transfer, now: Date): Promise<void> {
  const { db } = deps;
  switch (t.state) {
    case 'notice': {
      const { decision } = await decide(db, { ...deps, now: () => now }, t, 'freeze');
      await db.transaction(async (tx) => {
        if (decision.decision === 'allow') await tx.update(tenancies).set({ state: 'frozen', updatedAt: new Date() }).where(eq(tenancies.id, t.tenancyId));
        await transition(tx, SYSTEM, t, decision.decision === 'allow' ? 'frozen' : 'rejected', 'transfer.freeze', { decision });
      });
      return;
    }
    case 'frozen': {
      // Running meetings are ended; a grace period before this is left to the operator for now.
      const source = (await findCluster(db, t.sourceClusterId))!;
      const client = await clusterClient(db, deps.box, source);
      const running = await db.select({ meetingId: rooms.meetingId }).from(rooms).where(and(eq(rooms.tenancyId, t.tenancyId), eq(rooms.running, true)));
      for (const r of running) await client.end(r.meetingId).catch(() => undefined);
      await db.transaction((tx) => transition(tx, SYSTEM, t, 'copying', 'transfer.copy-start', { details: { meetingsEnded: running.length } }));
      return;
    }
    case 'copying': {
      const tenancy = (await findTenancy(db, t.tenancyId))!;
      const recordings = await fetchTenancyRecordings(db, deps.box, { id: tenancy.id, clusterId: t.sourceClusterId });
      const from = await storageOf(db, deps.box, t.sourceClusterId);
      const to = await storageOf(db, deps.box, t.targetClusterId);
      try {
        const files: CopyFile[] = [];
        for (const r of recordings) for (const f of r.playback) files.push(...(await listFiles(from, `${f.type}/${r.recordID}/`)));
        const state = new DbCopyState(db, t.id);
        const { manifest } = await copyFiles({ from, to, files, state });
        // metadata.xml names the playback host: rewrite it for the target, and record what the target now holds.
        const sourceHost = new URL((await findCluster(db, t.sourceClusterId))!.apiUrl).host;
        const targetHost = new URL((await findCluster(db, t.targetClusterId))!.apiUrl).host;
        for (const m of manifest.filter((f) => f.path.endsWith('/metadata.xml'))) {
          const xml = (await to.readText(m.path)).split(sourceHost).join(targetHost);
          await to.writeText(m.path, xml);
          const bytes = Buffer.from(xml, 'utf8');
          await state.markDone({ path: m.path, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), doneAt: new Date() });
        }
        const bytes = manifest.reduce((n, f) => n + f.size, 0);
        await db.transaction((tx) => transition(tx, SYSTEM, t, 'switching', 'transfer.copied', { details: { recordings: recordings.length, files: manifest.length, bytes } }));
      } finally {
        await from.close();
        await to.close();
      }
      return;
    }
    case 'switching': {
      await db.transaction(async (tx) => {
        // Members who objected stay out: their memberships do not move.
        const objectors = (await tx.select({ id: transferObjections.accountId }).from(transferObjections).where(eq(transferObjections.transferId, t.id))).map((o) => o.id);
        if (objectors.length) await tx.delete(memberships).where(and(eq(memberships.tenancyId, t.tenancyId), inArray(memberships.accountId, objectors)));
        await tx.update(tenancies).set({ coopId: t.targetCoopId, clusterId: t.targetClusterId, updatedAt: new Date() }).where(eq(tenancies.id, t.tenancyId));
        await transition(tx, SYSTEM, t, 'verifying', 'transfer.switch', { details: { membershipsLeftOut: objectors.length } });
      });
      return;
    }
    case 'verifying': {
      const manifest = await new DbCopyState(db, t.id).done();
      const to = await storageOf(db, deps.box, t.targetClusterId);
      try {
        const mismatches = await verifyFiles(to, manifest);
        if (mismatches.length) throw new Error(`${mismatches.length} files differ at the target (first: ${mismatches[0]!.path}, ${mismatches[0]!.reason})`);
      } finally {
        await to.close();
      }
      const listed = await fetchTenancyRecordings(db, deps.box, { id: t.tenancyId, clusterId: t.targetClusterId });
      const expected = new Set(manifest.map((f) => f.path.split('/')[1]!));
      const seen = new Set(listed.filter((r) => r.metadata[TENANCY_META] === t.tenancyId).map((r) => r.recordID));
      const missing = [...expected].filter((id) => !seen.has(id));
      if (missing.length) throw new Error(`the target does not list ${missing.length} recordings (first: ${missing[0]})`);
      for (const r of listed) for (const f of r.playback) {
        const res = await fetch(f.url, { signal: AbortSignal.timeout(10_000) });
        await res.body?.cancel();
        if (res.status !== 200) throw new Error(`playback ${f.url} answered ${res.status}`);
      }
      const manifestSha256 = createHash('sha256').update(JSON.stringify(manifest.map((f) => [f.path, f.size, f.sha256]).sort())).digest('hex');
      const approvals = await db.select().from(transferApprovals).where(eq(transferApprovals.transferId, t.id));
      const checkpoint = await deps.signer.issue(db);
      const receipt = await signReceipt(db, deps.box, {
        transferId: t.id,
        tenancyId: t.tenancyId,
        sourceCoopId: t.sourceCoopId,
        targetCoopId: t.targetCoopId,
        inventoryManifestSha256: manifestSha256,
        policySetHash: t.lastDecision?.policySetHash || deps.rules.policySetHash,
        approvals: approvals.length ? approvals.map((a) => ({ role: a.role, ref: a.accountId })) : [{ role: 'system', ref: 'none' }],
        auditCheckpoint: checkpoint.note,
        completedAt: new Date(),
      });
      await db.transaction(async (tx) => {
        await storeReceipt(tx, t.id, receipt);
        await tx.update(tenancies).set({ state: 'active', updatedAt: new Date() }).where(eq(tenancies.id, t.tenancyId));
        await transition(tx, SYSTEM, t, 'completed', 'transfer.complete', { details: { recordings: expected.size, files: manifest.length, inventoryManifestSha256: manifestSha256 } });
      });
      return;
    }
  }
}

/**
 * Advances every transfer that is due: past its freeze date, or interrupted
 * between steps (a process was killed). Returns the ids and the state each reached.
 */
export async function advanceDueTransfers(deps: ExecutionDeps, now = new Date()): Promise<Array<{ id: string; state: string }>> {
  const open = await deps.db
    .select({ id: transfers.id, state: transfers.state, noticeSentAt: transfers.noticeSentAt, noticeDays: transfers.noticeDays })
    .from(transfers)
    .where(inArray(transfers.state, ['notice', 'frozen', 'copying', 'switching', 'verifying']));
  const out: Array<{ id: string; state: string }> = [];
  for (const t of open) {
    if (t.state === 'notice' && (freezeDate(t)?.getTime() ?? Infinity) > now.getTime()) continue;
    out.push({ id: t.id, state: await advanceTransfer(deps, t.id, now) });
  }
  return out;
}

/** Before the switch nothing has moved but copies: remove them, unfreeze the tenancy where it was. */
async function rollBack(deps: ExecutionDeps, t: Transfer, reason: string): Promise<void> {
  const copied = await new DbCopyState(deps.db, t.id).done();
  try {
    const to = await storageOf(deps.db, deps.box, t.targetClusterId);
    try {
      for (const dir of new Set(copied.map((f) => f.path.split('/').slice(0, 2).join('/')))) await to.remove(dir, { recursive: true });
    } finally {
      await to.close();
    }
  } catch (err) {
    deps.log.warn({ transfer: t.id, error: (err as Error).message }, 'could not remove copies at the target');
  }
  await deps.db.transaction(async (tx) => {
    await tx.update(tenancies).set({ state: 'active', updatedAt: new Date() }).where(eq(tenancies.id, t.tenancyId));
    await transition(tx, SYSTEM, t, 'rolled_back', 'transfer.roll-back', { details: { reason, copiesRemoved: copied.length } });
  });
}


