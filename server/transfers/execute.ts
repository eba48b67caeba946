// The execution of a transfer once its notice period is over: each call to
// `advanceTransfer` claims the transfer (a lease, see lease.ts), runs the step
// its state calls for and moves it on, so a killed process resumes where it
// stopped (the copy resumes file by file from transfer_files). Every step is
// idempotent: run twice, it does its work once.
//   notice -> frozen: the data-protection rules again; the tenancy is frozen (the gateway refuses create)
//   frozen -> copying: running meetings get TRANSFER_MEETING_GRACE minutes, then are ended; recordings past
//                      the tenancy's retention are deleted at the source (chosen first, so a rerun deletes the same)
//   copying -> switching: recordings copied with SHA-256 per file, metadata.xml rewritten for the target
//   switching -> verifying: the tenancy, its inventory and its accounts move in one transaction (switch.ts)
//   verifying -> completed: the target lists every recording, every file matches, every playback URL answers 200; a receipt is signed
//   completed, after TRANSFER_SOURCE_GRACE_DAYS: the recordings are deleted at the source (source-deletion.ts)
// A failure before the switch rolls back (copied files removed at the target, the tenancy active again
// where it was); after the switch the transfer is failed, for an operator to look at.
import { createHash } from 'node:crypto';
import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { Db, Tx } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Logger } from '../logger.js';
import type { Principal } from '../auth/principal.js';
import { tenancies } from '../tenancies/table.js';
import { BbbError } from '../bbb/client.js';
import { findCluster } from '../clusters/service.js';
import { clusterClient } from '../clusters/health.js';
import { findTenancy } from '../tenancies/service.js';
import { fetchTenancyRecordings, TENANCY_META } from '../inventory/service.js';
import { rooms } from '../inventory/table.js';
import { copyFiles, listFiles, verifyFiles, type CopyFile, type CopyRecord, type CopyStateStore } from './copy.js';
import { signReceipt, storeReceipt } from '../receipts/receipt.js';
import type { CheckpointSigner } from '../audit/checkpoints.js';
import { appendAudit } from '../audit/trail.js';
import { failpoint } from '../failpoints.js';
import { transferApprovals, transferFiles, transfers, type StoredDecision, type TransferProgress } from './table.js';
import { decide, findTransfer, transition, type Transfer, type TransferDeps } from './service.js';
import { freezeDate } from './notice.js';
import { ProblemError } from '../http/problem.js';
import { FINAL_STATES, type TransferState } from './lifecycle.js';
import { openClusterStorage, withClusterStorage } from './cluster-storage.js';
import { expiredRecordings } from './retention.js';
import { switchTenancy } from './switch.js';
import { deleteAtSource, sourceDeletionDue } from './source-deletion.js';
import { claimTransfer, releaseTransfer, renewTransfer, runnerName } from './lease.js';
import type { AuditValue } from '../audit/trail.js';
import type { Outbound } from '../net/outbound.js';

/** The waits and the lease of execution (TRANSFER_MEETING_GRACE, TRANSFER_SOURCE_GRACE_DAYS, TRANSFER_LEASE). */
export interface ExecutionTiming {
  meetingGraceMs: number;
  sourceGraceMs: number;
  leaseMs: number;
}

export const DEFAULT_TIMING: ExecutionTiming = { meetingGraceMs: 30 * 60_000, sourceGraceMs: 14 * 86_400_000, leaseMs: 60_000 };

export interface ExecutionDeps extends TransferDeps {
  db: Db;
  box: SecretBox;
  log: Logger;
  signer: CheckpointSigner;
  /** The outbound-request policy for the clusters' APIs and playback URLs (server/net/outbound.ts). */
  outbound: Outbound;
  /** Where member pages live, for the links in export mails. */
  publicUrl?: string;
  timing?: Partial<ExecutionTiming>;
  /** This runner's name in the lease (default: one per process). */
  runner?: string;
}

/** Why `advanceTransfer` stopped before a final state. */
export type Waiting = 'freeze-date' | 'meetings' | 'source-grace' | 'leased';

export interface Advanced {
  state: TransferState | 'missing';
  waiting?: Waiting;
}

/** The system acts on its own here: the audit log names it as the local operator of this instance. */
const SYSTEM: Principal = { accountId: '00000000-0000-0000-0000-000000000000', coopId: null, platformAdmin: true, via: 'local', tokenId: null };

const PROCESS_RUNNER = runnerName();
const EXECUTING: readonly TransferState[] = ['notice', 'frozen', 'copying', 'switching', 'verifying'];

/** The runner lost its lease (it was too slow, another took over): stop, change nothing. */
class LeaseLost extends Error {
  constructor() {
    super('the lease on this transfer was lost');
  }
}

class DbCopyState implements CopyStateStore {
  constructor(
    private readonly db: Db,
    private readonly transferId: string,
    private readonly onDone: (path: string) => void = () => undefined,
    /** the records already read, when the caller has them */
    private readonly known?: CopyRecord[],
  ) {}
  async done(): Promise<CopyRecord[]> {
    if (this.known) return this.known;
    return this.db.select({ path: transferFiles.path, size: transferFiles.size, sha256: transferFiles.sha256, doneAt: transferFiles.doneAt }).from(transferFiles).where(eq(transferFiles.transferId, this.transferId));
  }
  async markDone(r: CopyRecord): Promise<void> {
    failpoint('copy.before-record');
    await this.db
      .insert(transferFiles)
      .values({ transferId: this.transferId, ...r })
      .onConflictDoUpdate({ target: [transferFiles.transferId, transferFiles.path], set: { size: r.size, sha256: r.sha256, doneAt: r.doneAt } });
    this.onDone(r.path);
    failpoint('copy.after-record');
  }
}

/**
 * Moves a transfer on by one audited transition; the failpoints around the
 * commit are where the crash tests kill the process.
 */
async function moveOn(
  deps: ExecutionDeps,
  t: Transfer,
  to: TransferState,
  action: string,
  extra: { decision?: StoredDecision; details?: Record<string, AuditValue> } = {},
  /** Work that commits with the transition; what it returns joins the audit details. */
  alsoInTx?: (tx: Tx) => Promise<Record<string, AuditValue> | void>,
): Promise<void> {
  failpoint(`transfer.before:${to}`);
  await deps.db.transaction(async (tx) => {
    const more = await alsoInTx?.(tx);
    await transition(tx, SYSTEM, t, to, action, { ...extra, details: { ...extra.details, ...more } });
  });
  failpoint(`transfer.after:${to}`);
}

const timingOf = (deps: ExecutionDeps): ExecutionTiming => ({ ...DEFAULT_TIMING, ...deps.timing });

/**
 * Runs steps until the transfer waits (its freeze date, running meetings in
 * their grace period, the source grace period, another runner's lease) or ends.
 */
export async function advanceTransfer(deps: ExecutionDeps, transferId: string, now = new Date()): Promise<Advanced> {
  const timing = timingOf(deps);
  const runner = deps.runner ?? PROCESS_RUNNER;
  const first = await findTransfer(deps.db, transferId);
  if (!first) return { state: 'missing' };
  if (FINAL_STATES.has(first.state) && (first.state !== 'completed' || first.sourceDeletedAt)) return { state: first.state };
  if (!(await claimTransfer(deps.db, transferId, runner, timing.leaseMs))) return { state: first.state, waiting: 'leased' };
  try {
    for (;;) {
      const t = (await findTransfer(deps.db, transferId))!;
      if (t.state === 'completed') {
        if (t.sourceDeletedAt) return { state: t.state };
        // Completed by this very run (after `now` was taken): count from the wall clock then.
        if (sourceDeletionDue(t, timing.sourceGraceMs)!.getTime() > Math.max(now.getTime(), Date.now())) return { state: t.state, waiting: 'source-grace' };
        await deleteAtSource(deps, SYSTEM, t);
        continue;
      }
      if (FINAL_STATES.has(t.state)) return { state: t.state };
      if (t.state === 'notice' && (freezeDate(t)?.getTime() ?? Infinity) > now.getTime()) return { state: t.state, waiting: 'freeze-date' };
      if (!EXECUTING.includes(t.state)) return { state: t.state };
      if (!(await renewTransfer(deps.db, t.id, runner, timing.leaseMs))) return { state: t.state, waiting: 'leased' };
      try {
        const waiting = await step(deps, t, now, runner);
        if (waiting) return { state: t.state, waiting };
      } catch (err) {
        if (err instanceof LeaseLost) return { state: t.state, waiting: 'leased' };
        // Another runner moved it meanwhile: look again instead of rolling back its work.
        if (err instanceof ProblemError && err.status === 412) continue;
        const reason = (err as Error).message.slice(0, 300);
        deps.log.warn({ transfer: t.id, state: t.state, reason }, 'transfer step failed');
        if (['frozen', 'copying'].includes(t.state)) await rollBack(deps, t, reason);
        else if (['switching', 'verifying'].includes(t.state)) await deps.db.transaction((tx) => transition(tx, SYSTEM, t, 'failed', 'transfer.fail', { details: { reason } }));
        else throw err;
      }
    }
  } finally {
    await releaseTransfer(deps.db, transferId, runner);
  }
}

/** Runs the step of `t`'s state; returns what it waits for, or nothing when it moved the transfer on. */
async function step(deps: ExecutionDeps, t: Transfer, now: Date, runner: string): Promise<Waiting | void> {
  switch (t.state) {
    case 'notice':
      return freeze(deps, t, now);
    case 'frozen':
      return endMeetingsAndExpire(deps, t, now);
    case 'copying':
      return copy(deps, t, runner);
    case 'switching':
      return moveOn(deps, t, 'verifying', 'transfer.switch', {}, async (tx) => ({
        ...(await switchTenancy(tx, { box: deps.box, actor: SYSTEM, publicUrl: deps.publicUrl ?? '', now: new Date() }, t)),
      }));
    case 'verifying':
      return verifyAndComplete(deps, t);
  }
}

/** notice -> frozen: the data-protection rules once more, with the notice period now behind. */
async function freeze(deps: ExecutionDeps, t: Transfer, now: Date): Promise<void> {
  const { decision } = await decide(deps.db, { ...deps, now: () => now }, t, 'freeze');
  const allowed = decision.decision === 'allow';
  await moveOn(deps, t, allowed ? 'frozen' : 'rejected', 'transfer.freeze', { decision }, async (tx) => {
    if (allowed) await tx.update(tenancies).set({ state: 'frozen', updatedAt: new Date() }).where(eq(tenancies.id, t.tenancyId));
  });
}

/**
 * frozen -> copying: meetings still running at the source get the grace
 * period, then are ended; recordings past the tenancy's retention are chosen
 * (stored first, so a rerun deletes the same ones), deleted at the source and
 * recorded, and never copied.
 */
async function endMeetingsAndExpire(deps: ExecutionDeps, t: Transfer, now: Date): Promise<Waiting | void> {
  const { db, box } = deps;
  const source = (await findCluster(db, t.sourceClusterId))!;
  const client = await clusterClient(db, box, source, { outbound: deps.outbound });
  const own = new Set((await db.select({ meetingId: rooms.meetingId }).from(rooms).where(eq(rooms.tenancyId, t.tenancyId))).map((r) => r.meetingId));
  const running = (await client.getMeetings()).filter((m) => m.running && own.has(m.meetingID));
  if (running.length && t.stateSince.getTime() + timingOf(deps).meetingGraceMs > now.getTime()) return 'meetings';
  for (const m of running)
    await client.end(m.meetingID).catch((e: unknown) => {
      if (!(e instanceof BbbError && e.messageKey === 'notFound')) throw e; // ended meanwhile
    });

  const { retentionDays } = (await findTenancy(db, t.tenancyId))!;
  let expired = t.retentionExpired;
  if (!expired) {
    const listed = await fetchTenancyRecordings(db, box, { id: t.tenancyId, clusterId: t.sourceClusterId }, { outbound: deps.outbound });
    expired = expiredRecordings(deps.rules, t.requestedBy, listed, retentionDays, now).expired;
    const [row] = await db
      .update(transfers)
      .set({ retentionExpired: expired })
      .where(and(eq(transfers.id, t.id), eq(transfers.version, t.version), isNull(transfers.retentionExpired)))
      .returning({ id: transfers.id });
    if (!row) throw new ProblemError(412, 'precondition-failed', 'Precondition Failed', 'changed meanwhile');
  }
  for (let i = 0; i < expired.length; i += 50)
    await client.deleteRecordings(expired.slice(i, i + 50)).catch((e: unknown) => {
      if (!(e instanceof BbbError && e.messageKey === 'notFound')) throw e; // deleted by an earlier run
    });
  await moveOn(deps, t, 'copying', 'transfer.copy-start', { details: { meetingsEnded: running.length, retentionDeleted: expired.length } }, async (tx) => {
    if (expired.length)
      await appendAudit(tx, {
        actor: SYSTEM,
        action: 'transfer.retention-delete',
        subject: { type: 'transfer', id: t.id },
        details: { retentionDays, recordings: expired.length, recordIds: expired, policyIds: ['dp-retention'], policySetHash: deps.rules.policySetHash },
      });
  });
}

/** copying -> switching: every file of every recording, with SHA-256, resumable; metadata.xml names the target. */
async function copy(deps: ExecutionDeps, t: Transfer, runner: string): Promise<void> {
  const { db, box } = deps;
  const { leaseMs } = timingOf(deps);
  const skip = new Set(t.retentionExpired ?? []);
  const recordings = (await fetchTenancyRecordings(db, box, { id: t.tenancyId, clusterId: t.sourceClusterId }, { outbound: deps.outbound })).filter((r) => !skip.has(r.recordID));
  const from = await openClusterStorage(db, box, t.sourceClusterId);
  const to = await openClusterStorage(db, box, t.targetClusterId);
  try {
    const files: CopyFile[] = [];
    const filesOf = new Map<string, string[]>();
    for (const r of recordings)
      for (const f of r.playback) {
        const listed = await listFiles(from, `${f.type}/${r.recordID}/`);
        files.push(...listed);
        filesOf.set(r.recordID, [...(filesOf.get(r.recordID) ?? []), ...listed.map((l) => l.path)]);
      }
    // What earlier runs recorded, read once: it seeds the progress and the copy's resume.
    const done = new Set<string>();
    const recorded = await new DbCopyState(db, t.id).done();
    const state = new DbCopyState(db, t.id, (p) => done.add(p), recorded);
    const sizes = new Map(files.map((f) => [f.path, f.size]));
    for (const r of recorded) if (sizes.get(r.path) === r.size) done.add(r.path);

    // Progress is stored with the lease renewal, about once a second; a lost lease stops the copy.
    const abort = new AbortController();
    let saving = Promise.resolve();
    const save = (p: { filesDone: number; filesTotal: number; bytesDone: number; bytesTotal: number; bytesPerSecond: number; etaSeconds: number | null }) => {
      const progress: TransferProgress = {
        ...p,
        recordingsDone: [...filesOf.values()].filter((paths) => paths.every((x) => done.has(x))).length,
        recordingsTotal: recordings.length,
        at: new Date().toISOString(),
      };
      saving = saving.then(async () => {
        if (!(await renewTransfer(db, t.id, runner, leaseMs, { progress }))) abort.abort(new LeaseLost());
      });
    };
    const { manifest } = await copyFiles({ from, to, files, state, signal: abort.signal, onProgress: save });
    await saving;
    if (abort.signal.aborted) throw new LeaseLost();
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
    await moveOn(deps, t, 'switching', 'transfer.copied', { details: { recordings: recordings.length, files: manifest.length, bytes } });
  } finally {
    await from.close();
    await to.close();
  }
}

/** verifying -> completed: the target holds and plays everything; both co-ops sign the receipt. */
async function verifyAndComplete(deps: ExecutionDeps, t: Transfer): Promise<void> {
  const { db } = deps;
  const manifest = await new DbCopyState(db, t.id).done();
  const mismatches = await withClusterStorage(db, deps.box, t.targetClusterId, (to) => verifyFiles(to, manifest));
  if (mismatches.length) throw new Error(`${mismatches.length} files differ at the target (first: ${mismatches[0]!.path}, ${mismatches[0]!.reason})`);
  const listed = await fetchTenancyRecordings(db, deps.box, { id: t.tenancyId, clusterId: t.targetClusterId }, { outbound: deps.outbound });
  const expected = new Set(manifest.map((f) => f.path.split('/')[1]!));
  const seen = new Set(listed.filter((r) => r.metadata[TENANCY_META] === t.tenancyId).map((r) => r.recordID));
  const missing = [...expected].filter((id) => !seen.has(id));
  if (missing.length) throw new Error(`the target does not list ${missing.length} recordings (first: ${missing[0]})`);
  for (const r of listed)
    for (const f of r.playback) {
      const res = await deps.outbound.fetch(f.url, { signal: AbortSignal.timeout(10_000) });
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
  await moveOn(deps, t, 'completed', 'transfer.complete', { details: { recordings: expected.size, files: manifest.length, inventoryManifestSha256: manifestSha256 } }, async (tx) => {
    await storeReceipt(tx, t.id, receipt);
    await tx.update(tenancies).set({ state: 'active', updatedAt: new Date() }).where(eq(tenancies.id, t.tenancyId));
  });
}

/**
 * Advances every transfer that is due: past its freeze date, interrupted
 * between steps (a process was killed), or completed with its source deletion
 * due. Returns the ids and where each stopped.
 */
export async function advanceDueTransfers(deps: ExecutionDeps, now = new Date()): Promise<Array<{ id: string } & Advanced>> {
  const open = await deps.db
    .select({ id: transfers.id, state: transfers.state, noticeSentAt: transfers.noticeSentAt, noticeDays: transfers.noticeDays, stateSince: transfers.stateSince })
    .from(transfers)
    .where(and(inArray(transfers.state, [...EXECUTING, 'completed']), isNull(transfers.sourceDeletedAt)));
  const out: Array<{ id: string } & Advanced> = [];
  const { sourceGraceMs } = timingOf(deps);
  for (const t of open) {
    if (t.state === 'notice' && (freezeDate(t)?.getTime() ?? Infinity) > now.getTime()) continue;
    if (t.state === 'completed' && sourceDeletionDue(t, sourceGraceMs)!.getTime() > now.getTime()) continue;
    out.push({ id: t.id, ...(await advanceTransfer(deps, t.id, now)) });
  }
  return out;
}

/** Before the switch nothing has moved but copies: remove them, unfreeze the tenancy where it was. */
async function rollBack(deps: ExecutionDeps, t: Transfer, reason: string): Promise<void> {
  const copied = await new DbCopyState(deps.db, t.id).done();
  try {
    await withClusterStorage(deps.db, deps.box, t.targetClusterId, async (to) => {
      for (const dir of new Set(copied.map((f) => f.path.split('/').slice(0, 2).join('/')))) await to.remove(dir, { recursive: true });
    });
  } catch (err) {
    deps.log.warn({ transfer: t.id, error: (err as Error).message }, 'could not remove copies at the target');
  }
  await deps.db.transaction(async (tx) => {
    await tx.update(tenancies).set({ state: 'active', updatedAt: new Date() }).where(eq(tenancies.id, t.tenancyId));
    await transition(tx, SYSTEM, t, 'rolled_back', 'transfer.roll-back', { details: { reason, copiesRemoved: copied.length } });
  });
}
