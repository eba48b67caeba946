// verifying -> completed: the target holds every recording in the tree of its
// state and plays the published ones; then both co-ops sign the receipt.
// What is checked depends on the recording's state (its tree):
//   every recording: every file at the target, with its size and SHA-256;
//   published and unpublished: the target's BBB lists it, in that state;
//   published: every playback URL answers 200 (an unpublished one answers 404 on any BBB).
import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Principal } from '../auth/principal.js';
import type { AuditValue } from '../audit/trail.js';
import { tenancies } from '../tenancies/table.js';
import { fetchTenancyRecordings, TENANCY_META } from '../inventory/service.js';
import { recordingOfPath, type RecordingTree } from '../storage/bbb-layout.js';
import { signReceipt, storeReceipt } from '../receipts/receipt.js';
import { person } from '../audit/subjects.js';
import { failpoint } from '../failpoints.js';
import { verifyFiles, type CopyRecord } from './copy.js';
import { withClusterStorage } from './cluster-storage.js';
import { transferApprovals } from './table.js';
import type { Transfer } from './service.js';
import { moveGreenlight } from './greenlight-step.js';
import { DbCopyState, moveOn, StepFailure, SYSTEM, type ExecutionDeps } from './step-kit.js';
import { localTarget } from './target.js';

/** Each copied recording and the tree it was copied into, from the manifest's paths. */
export function recordingsOfManifest(manifest: ReadonlyArray<Pick<CopyRecord, 'path'>>): Map<string, RecordingTree> {
  const out = new Map<string, RecordingTree>();
  for (const f of manifest) {
    const r = recordingOfPath(f.path);
    if (!r) throw new Error(`${f.path} is not under a recording tree (published/, unpublished/ or deleted/)`);
    out.set(r.recordId, r.tree);
  }
  return out;
}

export const manifestHash = (manifest: ReadonlyArray<Pick<CopyRecord, 'path' | 'size' | 'sha256'>>): string =>
  createHash('sha256').update(JSON.stringify(manifest.map((f) => [f.path, f.size, f.sha256]).sort())).digest('hex');

/** Files and SHA-256 at the target; throws a StepFailure saying the files did not verify. */
export async function verifyTargetFiles(deps: ExecutionDeps, t: Transfer): Promise<CopyRecord[]> {
  const manifest = await new DbCopyState(deps.db, t.id).done();
  try {
    failpoint('verify.files');
    const mismatches = await withClusterStorage(deps.db, deps.box, localTarget(t).clusterId, (to) => verifyFiles(to, manifest));
    if (mismatches.length) throw new Error(`${mismatches.length} files differ at the target (first: ${mismatches[0]!.path}, ${mismatches[0]!.reason})`);
  } catch (err) {
    throw new StepFailure('verify-files', (err as Error).message, { filesVerified: false, cause: err });
  }
  return manifest;
}

/** Everything the target must show, by state; throws a StepFailure naming the check and the recording. */
export async function verifyTarget(deps: ExecutionDeps, t: Transfer): Promise<CopyRecord[]> {
  const manifest = await verifyTargetFiles(deps, t);
  const copied = recordingsOfManifest(manifest);
  let listed;
  try {
    failpoint('verify.listing');
    listed = new Map(
      (await fetchTenancyRecordings(deps.db, deps.box, { id: t.tenancyId, clusterId: localTarget(t).clusterId }, { outbound: deps.outbound }))
        .filter((r) => r.metadata[TENANCY_META] === t.tenancyId)
        .map((r) => [r.recordID, r]),
    );
  } catch (err) {
    throw new StepFailure('verify-listing', `the target's recordings could not be listed: ${(err as Error).message}`, { filesVerified: true, cause: err });
  }
  for (const [id, tree] of copied) {
    if (tree === 'deleted') continue; // BBB lists deleted recordings to no one
    const r = listed.get(id);
    if (!r) throw new StepFailure('verify-listing', `the target does not list recording ${id} (${tree})`, { filesVerified: true, recordId: id });
    if (r.state !== tree) throw new StepFailure('verify-listing', `the target lists recording ${id} as ${r.state}, not ${tree}`, { filesVerified: true, recordId: id });
  }
  for (const [id, tree] of copied) {
    if (tree !== 'published') continue;
    for (const f of listed.get(id)!.playback) {
      try {
        failpoint('verify.playback');
        const res = await deps.outbound.fetch(f.url, { signal: AbortSignal.timeout(10_000) });
        await res.body?.cancel();
        if (res.status !== 200) throw new Error(`answered ${res.status}`);
      } catch (err) {
        throw new StepFailure('verify-playback', `playback ${f.url} of recording ${id}: ${(err as Error).message}`, { filesVerified: true, recordId: id, cause: err });
      }
    }
  }
  return manifest;
}

/**
 * The receipt signed by both co-ops, stored with the completion; the tenancy
 * is active at the target. `details` joins the completion's audit entry (an
 * operator's resolution says so there).
 */
export async function signAndComplete(deps: ExecutionDeps, t: Transfer, manifest: CopyRecord[], opts: { actor?: Principal; details?: Record<string, AuditValue> } = {}): Promise<void> {
  const { db } = deps;
  const sha = manifestHash(manifest);
  let receipt;
  try {
    failpoint('verify.receipt');
    const approvals = await db.select().from(transferApprovals).where(eq(transferApprovals.transferId, t.id));
    const checkpoint = await deps.signer.issue(db);
    receipt = await signReceipt(db, deps.box, {
      transferId: t.id,
      tenancyId: t.tenancyId,
      sourceCoopId: t.sourceCoopId,
      targetCoopId: localTarget(t).coopId,
      inventoryManifestSha256: sha,
      policySetHash: t.lastDecision?.policySetHash || deps.rules.policySetHash,
      approvals: approvals.length ? approvals.map((a) => ({ role: a.role, ref: person(a.accountId) })) : [{ role: 'system', ref: 'none' }],
      auditCheckpoint: checkpoint.note,
      completedAt: new Date(),
    });
  } catch (err) {
    throw new StepFailure('receipt', `the receipt could not be signed: ${(err as Error).message}`, { filesVerified: true, cause: err });
  }
  const recordingsCount = new Set(manifest.map((f) => recordingOfPath(f.path)?.recordId)).size;
  try {
    await moveOn(
      deps,
      t,
      'completed',
      'transfer.complete',
      { details: { recordings: recordingsCount, files: manifest.length, inventoryManifestSha256: sha, ...opts.details }, set: { failure: null } },
      async (tx) => {
        await storeReceipt(tx, t.id, receipt);
        await tx.update(tenancies).set({ state: 'active', updatedAt: new Date() }).where(eq(tenancies.id, t.tenancyId));
      },
      opts.actor ?? SYSTEM,
    );
  } catch (err) {
    if (err instanceof Error && 'status' in err && (err as { status: number }).status === 412) throw err;
    throw new StepFailure('complete', `the completion could not be stored: ${(err as Error).message}`, { filesVerified: true, cause: err });
  }
}

/** verifying -> completed, by the runner: the recordings verified, then the members' Greenlight rooms moved and verified. */
export async function verifyAndComplete(deps: ExecutionDeps, t: Transfer): Promise<void> {
  const manifest = await verifyTarget(deps, t);
  const greenlight = await moveGreenlight(deps, t);
  const details: Record<string, AuditValue> = greenlight?.imported
    ? { greenlight: { rooms: greenlight.rooms.length, roomsResolving: greenlight.imported.roomsResolving, users: greenlight.counts.users } }
    : {};
  await signAndComplete(deps, t, manifest, { details });
}
