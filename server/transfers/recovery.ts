// When a transfer's step fails: nobody is locked out and nothing is lost.
// Before the switch the transfer rolls back (copies removed at the target, the
// tenancy active at the source, which still holds everything). After the
// switch the tenancy is made active on the side that holds the complete data
// at once: at the target when its files were verified (roll forward), else
// back at the source (nothing is deleted there before the target is verified).
// Either way the transfer is `failed`, its `failure` says what failed, where
// the tenancy is served and what an operator can do:
//   retry   - run the failed step again (verification; or, back at the source, freeze, copy what is missing and switch again;
//             or the source deletion of a completed transfer)
//   resolve - settle it: --roll-forward completes it (the target's files are verified again; the operator's reason stands
//             for the checks that failed), --roll-back ends it with the tenancy at the source and removes the copies at the target.
//             A transfer to another instance whose receipt is overdue is completed without it (receipt-overdue.ts).
import { and, eq, ne } from 'drizzle-orm';
import type { Tx } from '../db/index.js';
import type { Principal } from '../auth/principal.js';
import { appendAudit, type AuditValue } from '../audit/trail.js';
import { problems } from '../http/problem.js';
import { mapUniqueViolation } from '../db/errors.js';
import { tenancies } from '../tenancies/table.js';
import { fetchTenancyRecordings } from '../inventory/service.js';
import { recordingOfPath } from '../storage/bbb-layout.js';
import { withClusterStorage } from './cluster-storage.js';
import { transfers, type TransferFailure } from './table.js';
import { findTransfer, transition, type Transfer } from './service.js';
import { unswitchTenancy } from './switch.js';
import { DbCopyState, StepFailure, SYSTEM, type ExecutionDeps } from './step-kit.js';
import { recordingsOfManifest, signAndComplete, verifyTargetFiles } from './verify.js';
import { localTarget } from './target.js';
import { awaitsPeerReceipt, completeWithoutReceipt } from './receipt-overdue.js';

const conflict = (detail: string) => problems.conflict('transfer-state', detail);

/** What an operator can do about a failure, as the commands to type. */
function actionsFor(t: Pick<Transfer, 'id'>, kind: 'before-switch' | 'at-target' | 'at-source' | 'source-delete'): string[] {
  switch (kind) {
    case 'before-switch':
      return ['nothing is lost: fix the cause (see reason), then request a new transfer (meetplane transfers create ...)'];
    case 'at-target':
      return [
        `meetplane transfers retry ${t.id}   (run the failed check again; the tenancy stays active at the target)`,
        `meetplane transfers resolve ${t.id} --roll-forward --reason TEXT   (complete it: the files are verified again, your reason stands for the failed check)`,
        `meetplane transfers resolve ${t.id} --roll-back --reason TEXT   (move the tenancy back to the source and end the transfer)`,
      ];
    case 'at-source':
      return [
        `meetplane transfers retry ${t.id}   (freeze the tenancy again, copy what is missing, switch and verify again)`,
        `meetplane transfers resolve ${t.id} --roll-back --reason TEXT   (end the transfer; the copies at the target are removed)`,
      ];
    case 'source-delete':
      return [`meetplane transfers retry ${t.id}   (delete the source copy again; the tenancy is active at the target)`];
  }
}

const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 500);

function failureRecord(step: string, err: unknown, servedBy: 'source' | 'target', actions: string[]): TransferFailure {
  const recordId = err instanceof StepFailure ? err.opts.recordId : undefined;
  return { step, reason: reasonOf(err), at: new Date().toISOString(), servedBy, ...(recordId ? { recordId } : {}), actions };
}

const failureDetails = (f: TransferFailure): Record<string, AuditValue> => ({
  step: f.step,
  reason: f.reason,
  servedBy: f.servedBy,
  ...(f.recordId ? { recordId: f.recordId } : {}),
});

/** Removes what the copy put at the target (each recording's directory); logged, not thrown, when the target cannot be reached. */
async function removeCopies(deps: ExecutionDeps, t: Transfer): Promise<number> {
  // Another instance removes what it pulled when the offer is withdrawn (the peer-transfers job does that).
  if (t.peer) return 0;
  const copied = await new DbCopyState(deps.db, t.id).done();
  const dirs = new Set(copied.map((f) => recordingOfPath(f.path)?.dir).filter((d): d is string => d !== undefined));
  try {
    await withClusterStorage(deps.db, deps.box, localTarget(t).clusterId, async (to) => {
      for (const dir of dirs) await to.remove(dir, { recursive: true });
    });
  } catch (err) {
    deps.log.warn({ transfer: t.id, error: reasonOf(err) }, 'could not remove copies at the target');
  }
  return copied.length;
}

/** Before the switch nothing has moved but copies: remove them, unfreeze the tenancy where it was. */
export async function rollBackBeforeSwitch(deps: ExecutionDeps, t: Transfer, err: unknown): Promise<void> {
  const step = err instanceof StepFailure ? err.step : t.state;
  const failure = failureRecord(step, err, 'source', actionsFor(t, 'before-switch'));
  const copiesRemoved = await removeCopies(deps, t);
  await deps.db.transaction(async (tx) => {
    await tx.update(tenancies).set({ state: 'active', updatedAt: new Date() }).where(eq(tenancies.id, t.tenancyId));
    await transition(tx, SYSTEM, t, 'rolled_back', 'transfer.roll-back', { details: { ...failureDetails(failure), copiesRemoved }, set: { failure } });
  });
}

/**
 * A step after the switch failed: the tenancy is made active where its data
 * is whole, and the transfer is failed with the failure on record.
 */
export async function failAfterSwitch(deps: ExecutionDeps, t: Transfer, err: unknown): Promise<void> {
  const sf = err instanceof StepFailure ? err : new StepFailure('verify', reasonOf(err), { filesVerified: false });
  if (sf.opts.filesVerified) {
    const failure = failureRecord(sf.step, sf, 'target', actionsFor(t, 'at-target'));
    await deps.db.transaction(async (tx) => {
      await tx.update(tenancies).set({ state: 'active', updatedAt: new Date() }).where(eq(tenancies.id, t.tenancyId));
      await transition(tx, SYSTEM, t, 'failed', 'transfer.fail', { details: { ...failureDetails(failure), rolledForward: true }, set: { failure } });
    });
    return;
  }
  const failure = failureRecord(sf.step, sf, 'source', actionsFor(t, 'at-source'));
  await deps.db.transaction(async (tx) => {
    const back = await unswitchTenancy(tx, t, new Date());
    await transition(tx, SYSTEM, t, 'failed', 'transfer.fail', { details: { ...failureDetails(failure), rolledBack: true, ...back }, set: { failure } });
  });
}

/** The source deletion of a completed transfer failed: the tenancy is served at the target; it waits for an operator's retry. */
export async function failSourceDeletion(deps: ExecutionDeps, t: Transfer, err: unknown): Promise<void> {
  const failure = failureRecord('source-delete', err, 'target', actionsFor(t, 'source-delete'));
  await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(transfers)
      .set({ failure, version: t.version + 1, updatedAt: new Date() })
      .where(and(eq(transfers.id, t.id), eq(transfers.version, t.version)))
      .returning({ id: transfers.id });
    if (!row) throw problems.preconditionFailed('(changed meanwhile)');
    await appendAudit(tx, { actor: SYSTEM, action: 'transfer.source-delete-fail', subject: { type: 'transfer', id: t.id }, details: failureDetails(failure) });
  });
}

/**
 * Runs the failed step again, by the runner: a transfer failed at the target
 * verifies again; one rolled back to the source is frozen there again (the
 * copy resumes, the switch and the verification follow); a completed one
 * whose source deletion failed deletes again.
 */
export async function retryTransfer(db: ExecutionDeps['db'], actor: Principal, t: Transfer): Promise<Transfer> {
  const f = t.failure;
  if (!f) throw conflict(`a ${t.state.replace('_', ' ')} transfer with no failure on record has nothing to retry`);
  const details = { ...failureDetails(f), retried: true };
  if (t.state === 'completed') {
    return db.transaction(async (tx) => {
      const [row] = await tx
        .update(transfers)
        .set({ failure: null, version: t.version + 1, updatedAt: new Date() })
        .where(and(eq(transfers.id, t.id), eq(transfers.version, t.version)))
        .returning();
      if (!row) throw problems.preconditionFailed('(changed meanwhile)');
      await appendAudit(tx, { actor, action: 'transfer.retry', subject: { type: 'transfer', id: t.id }, details });
      return row;
    });
  }
  if (t.state !== 'failed') throw conflict(`a ${t.state.replace('_', ' ')} transfer cannot be retried`);
  return mapUniqueViolation(
    () =>
      db.transaction(async (tx) => {
        if (f.servedBy === 'target') return transition(tx, actor, t, 'verifying', 'transfer.retry', { details, set: { failure: null } });
        await freezeAtSource(tx, t);
        return transition(tx, actor, t, 'frozen', 'transfer.retry', { details, set: { failure: null } });
      }),
    () => conflict('another transfer of this tenancy is in progress'),
  );
}

async function freezeAtSource(tx: Tx, t: Transfer): Promise<void> {
  const [row] = await tx
    .update(tenancies)
    .set({ state: 'frozen', updatedAt: new Date() })
    .where(and(eq(tenancies.id, t.tenancyId), eq(tenancies.clusterId, t.sourceClusterId), eq(tenancies.state, 'active')))
    .returning({ id: tenancies.id });
  if (!row) throw conflict('the tenancy is no longer active at the source cluster; it cannot be frozen again for this transfer');
}

/** An operator settles a failed transfer: roll forward (complete it) or roll back (the tenancy at the source, the transfer ended). */
export async function resolveTransfer(
  deps: ExecutionDeps,
  actor: Principal,
  t: Transfer,
  input: { direction: 'roll-forward' | 'roll-back'; reason: string },
): Promise<Transfer> {
  if (awaitsPeerReceipt(t)) return completeWithoutReceipt(deps, actor, t, input);
  const f = t.failure;
  // Only a completed transfer's failure (its source deletion) is retried rather than resolved; a rolled-back one is over.
  const hint = t.state === 'completed' && t.failure ? ' (retry its failed step instead)' : '';
  if (t.state !== 'failed' || !f) throw conflict(`only a failed transfer can be resolved; this one is ${t.state.replace('_', ' ')}${hint}`);
  const details: Record<string, AuditValue> = { resolution: input.direction, reason: input.reason, failedStep: f.step, failure: f.reason };
  if (input.direction === 'roll-forward') {
    if (f.servedBy !== 'target') throw conflict('the target was not verified to hold every file, and the tenancy is back at the source: retry the transfer or roll it back');
    let manifest;
    try {
      manifest = await verifyTargetFiles(deps, t);
    } catch (err) {
      throw conflict(`cannot roll forward: ${reasonOf(err)}`);
    }
    try {
      await signAndComplete(deps, t, manifest, { actor, details });
    } catch (err) {
      throw conflict(`cannot roll forward: ${reasonOf(err)}`);
    }
    return (await findTransfer(deps.db, t.id))!;
  }
  if (f.servedBy === 'target') {
    // Recordings made at the target since the switch would be left behind, out of the tenancy's reach.
    const copied = recordingsOfManifest(await new DbCopyState(deps.db, t.id).done());
    let since: string[];
    try {
      since = (await fetchTenancyRecordings(deps.db, deps.box, { id: t.tenancyId, clusterId: localTarget(t).clusterId }, { outbound: deps.outbound }))
        .map((r) => r.recordID)
        .filter((id) => !copied.has(id));
    } catch (err) {
      throw conflict(`cannot roll back: the target's recordings could not be listed to check for new ones (${reasonOf(err)})`);
    }
    if (since.length) throw conflict(`cannot roll back: the target holds ${since.length} recordings of the tenancy made since the switch (first: ${since[0]}); they would be left behind`);
  }
  const after = await deps.db.transaction(async (tx) => {
    const back = f.servedBy === 'target' ? await unswitchTenancy(tx, t, new Date()) : {};
    // Already at the source: make sure it is served there.
    if (f.servedBy === 'source')
      await tx.update(tenancies).set({ state: 'active', updatedAt: new Date() }).where(and(eq(tenancies.id, t.tenancyId), ne(tenancies.state, 'archived')));
    return transition(tx, actor, t, 'rolled_back', 'transfer.resolve', { details: { ...details, ...back }, set: { failure: null } });
  });
  await removeCopies(deps, after);
  return after;
}
