// The execution of a transfer once its notice period is over: each call to
// `advanceTransfer` claims the transfer (a lease, see lease.ts), runs the step
// its state calls for and moves it on, so a killed process resumes where it
// stopped (the copy resumes file by file from transfer_files). Every step is
// idempotent: run twice, it does its work once.
//   notice -> frozen: the data-protection rules again; the tenancy is frozen (the gateway refuses create)
//   frozen -> copying: running meetings get TRANSFER_MEETING_GRACE minutes, then are ended; recordings past
//                      the tenancy's retention are deleted at the source (chosen first, so a rerun deletes the same)
//   copying -> switching: every recording the inventory lists is found in the source's tree of its state
//                      (published, unpublished, deleted; storage/bbb-layout.ts) and copied into the same tree at the
//                      target with SHA-256 per file; metadata.xml rewritten for the target. A recording found in no
//                      tree stops the transfer here, before anything moved.
//   switching -> verifying: the tenancy, its inventory and its accounts move in one transaction (switch.ts)
//   verifying -> completed: what each recording's state calls for is checked at the target (verify.ts); a receipt is signed
//   completed, after TRANSFER_SOURCE_GRACE_DAYS: the recordings are deleted at the source (source-deletion.ts)
// A failure before the switch rolls back; after it the tenancy is made active where its data is whole and the
// transfer is failed for an operator to retry or resolve (recovery.ts).
import { and, eq, inArray, isNull } from 'drizzle-orm';
import { tenancies } from '../tenancies/table.js';
import { BbbError } from '../bbb/client.js';
import { findCluster } from '../clusters/service.js';
import { clusterClient } from '../clusters/health.js';
import { findTenancy } from '../tenancies/service.js';
import { fetchTenancyRecordings } from '../inventory/service.js';
import { recordingsLeftBehind } from '../inventory/left-behind.js';
import { rooms } from '../inventory/table.js';
import { locateRecording } from '../storage/bbb-layout.js';
import { createHash } from 'node:crypto';
import { copyFiles, listFiles, type CopyFile } from './copy.js';
import { appendAudit } from '../audit/trail.js';
import { transfers, type TransferProgress } from './table.js';
import { decide, findTransfer, type Transfer } from './service.js';
import { freezeWait } from './notice-delivery.js';
import { playbackLinkRewriter } from './playback-links.js';
import { ProblemError } from '../http/problem.js';
import { FINAL_STATES, type TransferState } from './lifecycle.js';
import { openClusterStorage } from './cluster-storage.js';
import { expiredRecordings } from './retention.js';
import { switchTenancy } from './switch.js';
import { deleteAtSource, sourceDeletionDue } from './source-deletion.js';
import { claimTransfer, releaseTransfer, renewTransfer, runnerName } from './lease.js';
import { DbCopyState, moveOn, StepFailure, SYSTEM, timingOf, type ExecutionDeps } from './step-kit.js';
import { verifyAndComplete } from './verify.js';
import { failAfterSwitch, failSourceDeletion, rollBackBeforeSwitch } from './recovery.js';
import { localTarget } from './target.js';

export { DEFAULT_TIMING, type ExecutionDeps, type ExecutionTiming } from './step-kit.js';

/** Why `advanceTransfer` stopped before a final state ('operator': a failure waits for `transfers retry|resolve`). */
/** 'peer': the other instance has the next move (it pulls and verifies the package; or this process cannot speak to it). */
export type Waiting = 'freeze-date' | 'meetings' | 'source-grace' | 'leased' | 'operator' | 'notice-delivery' | 'peer';

export interface Advanced {
  state: TransferState | 'missing';
  waiting?: Waiting;
  /** waiting for the freeze date: when it is */
  until?: string;
  /** waiting for the notice to reach members: how many it has not reached */
  undelivered?: number;
}

const PROCESS_RUNNER = runnerName();
const EXECUTING: readonly TransferState[] = ['notice', 'frozen', 'copying', 'switching', 'verifying'];
const BEFORE_SWITCH: readonly TransferState[] = ['frozen', 'copying', 'switching'];

/** The runner lost its lease (it was too slow, another took over): stop, change nothing. */
class LeaseLost extends Error {
  constructor() {
    super('the lease on this transfer was lost');
  }
}

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
  if (first.state === 'completed' && first.failure) return { state: first.state, waiting: 'operator' };
  if (!(await claimTransfer(deps.db, transferId, runner, timing.leaseMs))) return { state: first.state, waiting: 'leased' };
  try {
    for (;;) {
      const t = (await findTransfer(deps.db, transferId))!;
      if (t.state === 'completed') {
        if (t.sourceDeletedAt) return { state: t.state };
        if (t.failure) return { state: t.state, waiting: 'operator' };
        // Completed by this very run (after `now` was taken): count from the wall clock then.
        if (sourceDeletionDue(t, timing.sourceGraceMs)!.getTime() > Math.max(now.getTime(), Date.now())) return { state: t.state, waiting: 'source-grace' };
        try {
          await deleteAtSource(deps, SYSTEM, t);
        } catch (err) {
          if (err instanceof ProblemError && err.status === 412) continue;
          deps.log.warn({ transfer: t.id, reason: (err as Error).message.slice(0, 300) }, 'source deletion failed');
          await failSourceDeletion(deps, t, err);
        }
        continue;
      }
      if (FINAL_STATES.has(t.state)) return { state: t.state };
      if (t.state === 'notice') {
        const wait = await freezeWait(deps.db, t, now);
        if (wait) return { state: t.state, ...wait };
      }
      if (!EXECUTING.includes(t.state)) return { state: t.state };
      if (!(await renewTransfer(deps.db, t.id, runner, timing.leaseMs))) return { state: t.state, waiting: 'leased' };
      try {
        const waiting = await step(deps, t, now, runner);
        if (waiting) return { state: t.state, waiting };
      } catch (err) {
        if (err instanceof LeaseLost) return { state: t.state, waiting: 'leased' };
        // Another runner moved it meanwhile: look again instead of rolling back its work.
        if (err instanceof ProblemError && err.status === 412) continue;
        deps.log.warn({ transfer: t.id, state: t.state, reason: (err as Error).message.slice(0, 300) }, 'transfer step failed');
        // A step that failed after its transition committed did its work: go on from where it is now.
        const current = (await findTransfer(deps.db, t.id))!;
        if (current.version !== t.version) continue;
        if (BEFORE_SWITCH.includes(current.state)) await rollBackBeforeSwitch(deps, current, err);
        else if (current.state === 'verifying') await failAfterSwitch(deps, current, err);
        else if (current.state !== 'completed') throw err;
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
      return t.peer ? awaitPeer(deps, t) : copy(deps, t, runner);
    case 'switching':
      if (t.peer) return switchOut(deps, t);
      return moveOn(deps, t, 'verifying', 'transfer.switch', {}, async (tx) => ({
        ...(await switchTenancy(tx, { box: deps.box, actor: SYSTEM, publicUrl: deps.publicUrl ?? '', now: new Date() }, t)),
      }));
    case 'verifying':
      return t.peer ? completeAtPeer(deps, t) : verifyAndComplete(deps, t);
  }
}

/**
 * copying, to another instance: the package of the frozen tenancy is sent; the target pulls every
 * file and checks it against the manifest, then confirms. The source waits as long as that takes
 * (never switching without the confirmation); the target withdrawing or failing rolls back here.
 */
async function awaitPeer(deps: ExecutionDeps, t: Transfer): Promise<Waiting | void> {
  if (!deps.peerSteps) return 'peer';
  const at = await deps.peerSteps.package(t);
  if (at.state === 'waiting') return 'peer';
  if (at.state === 'ended') throw new StepFailure('copy', at.reason);
  await moveOn(deps, t, 'switching', 'transfer.copied', { details: { files: at.files, bytes: at.bytes, verifiedBy: t.peer! } });
}

/** switching -> verifying, to another instance: moved out and forwarded in one transaction, then the target is told. */
async function switchOut(deps: ExecutionDeps, t: Transfer): Promise<Waiting | void> {
  if (!deps.peerSteps) return 'peer';
  const steps = deps.peerSteps;
  await moveOn(deps, t, 'verifying', 'transfer.switch', {}, (tx) => steps.switchOut(tx, t, new Date()));
  await steps.announce(t);
}

/**
 * verifying -> completed, to another instance: the target verified every file before the switch; it is
 * told (again, if a crash came between); the transfer completes once the receipt both instances signed
 * is stored here (until then it waits for the target, 'peer').
 */
async function completeAtPeer(deps: ExecutionDeps, t: Transfer): Promise<Waiting | void> {
  if (!deps.peerSteps) return 'peer';
  await deps.peerSteps.announce(t);
  if ((await deps.peerSteps.receipt(t)) === 'waiting') return 'peer';
  await moveOn(deps, t, 'completed', 'transfer.complete', { details: { verifiedBy: t.peer!, receipt: 'stored' } });
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
  const behind = await recordingsLeftBehind(deps, t.tenancyId, t.sourceClusterId);
  if (behind) throw new StepFailure('copy', `${behind.reason}: nothing was moved`, behind.recordId ? { recordId: behind.recordId } : {});
  const recordings = (await fetchTenancyRecordings(db, box, { id: t.tenancyId, clusterId: t.sourceClusterId }, { outbound: deps.outbound })).filter((r) => !skip.has(r.recordID));
  const from = await openClusterStorage(db, box, t.sourceClusterId);
  const to = await openClusterStorage(db, box, localTarget(t).clusterId);
  try {
    // Every recording is found before anything is copied: one in no tree stops the transfer here, before the switch.
    const files: CopyFile[] = [];
    const filesOf = new Map<string, string[]>();
    for (const r of recordings) {
      const formats = r.playback.map((f) => f.type);
      const { found, missing } = await locateRecording(from, r.recordID, r.state, formats);
      if (!formats.length || missing.length)
        throw new StepFailure(
          'copy',
          `recording ${r.recordID} (${r.state}${formats.length ? `, format ${missing.join(', ')}` : ', no playback format listed'}) is in none of the source's published, unpublished or deleted trees; nothing was moved`,
          { recordId: r.recordID },
        );
      for (const f of found) {
        const listed = await listFiles(from, `${f.dir}/`);
        files.push(...listed);
        filesOf.set(r.recordID, [...(filesOf.get(r.recordID) ?? []), ...listed.map((l) => l.path)]);
      }
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
    // metadata.xml links the source's playback hosts: rewrite them for the target, and record what the target now holds.
    const relink = playbackLinkRewriter((await findCluster(db, t.sourceClusterId))!, (await findCluster(db, localTarget(t).clusterId))!);
    for (const m of manifest.filter((f) => f.path.endsWith('/metadata.xml'))) {
      const xml = relink(await to.readText(m.path));
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

/**
 * Advances every transfer that is due: past its freeze date, interrupted
 * between steps (a process was killed), or completed with its source deletion
 * due. Returns the ids and where each stopped.
 */
export async function advanceDueTransfers(deps: ExecutionDeps, now = new Date()): Promise<Array<{ id: string } & Advanced>> {
  const open = await deps.db
    .select({ id: transfers.id, tenancyId: transfers.tenancyId, state: transfers.state, noticeSentAt: transfers.noticeSentAt, noticeDays: transfers.noticeDays, freezeAt: transfers.freezeAt, stateSince: transfers.stateSince })
    .from(transfers)
    .where(and(inArray(transfers.state, [...EXECUTING, 'completed']), isNull(transfers.sourceDeletedAt), isNull(transfers.failure)));
  const out: Array<{ id: string } & Advanced> = [];
  const { sourceGraceMs } = timingOf(deps);
  const held = deps.heldTransfers ? await deps.heldTransfers(deps.db) : new Set<string>();
  for (const t of open) {
    if (t.state === 'notice' && (held.has(t.id) || (await freezeWait(deps.db, t, now)))) continue;
    if (t.state === 'completed' && sourceDeletionDue(t, sourceGraceMs)!.getTime() > now.getTime()) continue;
    out.push({ id: t.id, ...(await advanceTransfer(deps, t.id, now)) });
  }
  return out;
}
