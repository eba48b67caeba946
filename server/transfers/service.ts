// Transfers of a tenancy from one co-op to another: the control part of the
// lifecycle (create, check, approve, object, cancel). Every transition goes
// through the state machine, is decided by the data-protection rules where
// the design says so, and is audited with the decision and its policy-set hash.
import { and, asc, eq, inArray, or, sql } from 'drizzle-orm';
import type { Db, Executor, Tx } from '../db/index.js';
import { uuidv7 } from '../ids.js';
import { appendAudit, type AuditValue } from '../audit/trail.js';
import { person } from '../audit/subjects.js';
import type { Principal } from '../auth/principal.js';
import { problems, ProblemError } from '../http/problem.js';
import { mapUniqueViolation, pgConstraint, pgErrorCode, UNIQUE_VIOLATION } from '../db/errors.js';
import { findCoop } from '../coops/service.js';
import { findCluster } from '../clusters/service.js';
import { findTenancy } from '../tenancies/service.js';
import { memberships } from '../accounts/table.js';
import type { DataProtectionRules } from '../../policies/data-protection/rules.js';
import type { JurisdictionRegistry } from './jurisdictions.js';
import { transferFacts, type TransferEvidence } from './facts.js';
import { assertTransition, FINAL_STATES, type TransferState } from './lifecycle.js';
import { noticeReach } from './notice-delivery.js';
import { transferFrontends } from '../greenlight/transfer-move.js';
import { processingAgreements, transferApprovals, transferObjections, transfers, type StoredDecision } from './table.js';
import { ACTIVE_AT_SOURCE, peerTransfers } from '../peer-transfers/table.js';
import { localTarget } from './target.js';

export type Transfer = typeof transfers.$inferSelect;
export type ApprovalRole = (typeof transferApprovals.$inferSelect)['role'];

export interface TransferDeps {
  rules: DataProtectionRules;
  /** The least notice members must be given, in days (a policy parameter). */
  minNoticeDays: number;
  registry: JurisdictionRegistry;
  /** Health of a cluster as last polled: online, and participants now. */
  clusterStatus(clusterId: string): Promise<{ online: boolean; load: number }>;
  now?: () => Date;
}

export interface TransferInput {
  tenancyId: string;
  targetCoopId: string;
  targetClusterId: string;
  evidence: TransferEvidence;
  noticeDays: number;
  /** a planned freeze date and time; the freeze still waits for every member's full notice */
  freezeAt?: Date | null;
  /** the target co-op's Greenlight the members' rooms move to (slug or id), null to leave them; see transferFrontends */
  targetGreenlight?: string | null;
}

const conflict = (detail: string) => problems.conflict('transfer-state', detail);

function auditView(t: Transfer): Record<string, AuditValue> {
  return {
    tenancy: t.tenancyId,
    sourceCoop: t.sourceCoopId,
    sourceCluster: t.sourceClusterId,
    targetCoop: t.targetCoopId,
    targetCluster: t.targetClusterId,
    state: t.state,
    noticeDays: t.noticeDays,
    ...(t.freezeAt ? { freezeAt: t.freezeAt.toISOString() } : {}),
    ...(t.targetGreenlightId ? { sourceGreenlight: t.sourceGreenlightId, targetGreenlight: t.targetGreenlightId } : {}),
    version: t.version,
  };
}

/** Evidence documents enter the log as their hashes only. */
export function evidenceHashes(e: Pick<TransferEvidence, 'sccsDocuments' | 'impactAssessment'>): Record<string, string> {
  const out: Record<string, string> = {};
  e.sccsDocuments.forEach((h, i) => (out[`sccs-${i + 1}`] = h));
  if (e.impactAssessment) out.tia = e.impactAssessment;
  return out;
}

export async function findTransfer(db: Executor, id: string): Promise<Transfer | undefined> {
  const [row] = await db.select().from(transfers).where(eq(transfers.id, id)).limit(1);
  return row;
}

export async function listTransfers(db: Db, opts: { coopIds?: string[] | null; limit: number; after?: string }): Promise<Transfer[]> {
  const conds = [];
  if (opts.coopIds === null) conds.push(sql`false`);
  else if (opts.coopIds) conds.push(or(inArray(transfers.sourceCoopId, opts.coopIds), inArray(transfers.targetCoopId, opts.coopIds)));
  if (opts.after) conds.push(sql`${transfers.id} > ${opts.after}`);
  return db.select().from(transfers).where(and(...conds)).orderBy(asc(transfers.id)).limit(opts.limit + 1);
}

export async function transferDetails(db: Executor, id: string) {
  const approvals = await db.select().from(transferApprovals).where(eq(transferApprovals.transferId, id)).orderBy(asc(transferApprovals.createdAt));
  const objections = await db.select().from(transferObjections).where(eq(transferObjections.transferId, id)).orderBy(asc(transferObjections.createdAt));
  return { approvals, objections };
}

/** `now` is the instant the caller judged the planned freeze by, so both judge it at the same moment. */
export async function createTransfer(db: Db, actor: Principal, input: TransferInput, now = new Date()): Promise<Transfer> {
  const tenancy = await findTenancy(db, input.tenancyId);
  if (!tenancy) throw problems.notFound('tenancy');
  if (tenancy.state !== 'active') throw conflict(`the tenancy is ${tenancy.state}; only an active tenancy can be transferred`);
  const targetCoop = await findCoop(db, input.targetCoopId);
  const targetCluster = await findCluster(db, input.targetClusterId);
  if (!targetCoop) throw problems.validation([{ path: 'targetCoop', message: 'no such co-op' }]);
  if (targetCoop.id === tenancy.coopId) throw problems.validation([{ path: 'targetCoop', message: 'the tenancy is already hosted by this co-op' }]);
  if (!targetCluster || targetCluster.coopId !== targetCoop.id)
    throw problems.validation([{ path: 'targetCluster', message: 'no such cluster in the target co-op' }]);
  // The notice cannot reach anyone before now: a planned freeze sooner than the notice period is refused here.
  if (input.freezeAt && input.freezeAt.getTime() < now.getTime() + input.noticeDays * 86_400_000)
    throw problems.validation([{ path: 'freezeAt', message: `must be at least the notice period (${input.noticeDays} days) from now` }]);
  // A transfer to another instance holds the tenancy too (server/peer-transfers).
  const [offered] = await db
    .select({ id: peerTransfers.id })
    .from(peerTransfers)
    .where(and(eq(peerTransfers.tenancyId, tenancy.id), eq(peerTransfers.side, 'source'), inArray(peerTransfers.state, [...ACTIVE_AT_SOURCE])))
    .limit(1);
  if (offered) throw problems.conflict('transfer-in-progress', 'this tenancy already has a transfer in progress (to another instance)');
  const greenlights = await transferFrontends(db, tenancy.greenlightId, targetCoop.id, input.targetGreenlight);
  return mapUniqueViolation(
    () =>
      db.transaction(async (tx) => {
        const [row] = await tx
          .insert(transfers)
          .values({
            id: uuidv7(),
            tenancyId: tenancy.id,
            sourceCoopId: tenancy.coopId,
            sourceClusterId: tenancy.clusterId,
            targetCoopId: targetCoop.id,
            targetClusterId: targetCluster.id,
            requestedBy: actor.accountId,
            evidence: input.evidence,
            noticeDays: input.noticeDays,
            freezeAt: input.freezeAt ?? null,
            ...greenlights,
          })
          .returning();
        await appendAudit(tx, {
          actor,
          action: 'transfer.create',
          subject: { type: 'transfer', id: row!.id },
          after: auditView(row!),
          evidence: evidenceHashes(input.evidence),
        });
        return row!;
      }),
    () => problems.conflict('transfer-in-progress', 'this tenancy already has a transfer in progress'),
  );
}

async function hasProcessingAgreement(db: Executor, tenancyId: string, coopId: string, day: string): Promise<boolean> {
  const rows = await db
    .select({ id: processingAgreements.id })
    .from(processingAgreements)
    .where(
      and(
        eq(processingAgreements.tenancyId, tenancyId),
        eq(processingAgreements.coopId, coopId),
        sql`${processingAgreements.signedOn} <= ${day}`,
        sql`(${processingAgreements.validUntil} is null or ${processingAgreements.validUntil} >= ${day})`,
      ),
    )
    .limit(1);
  return rows.length > 0;
}

/**
 * What the rules know of the target: on this instance its co-op, its cluster as polled and the
 * processing agreement on record; on another instance what it states (the cluster's readiness was
 * judged by its admin when accepting, the agreement's reference travels in the signed offer) and its
 * admin's approval, given in the signed answer.
 */
async function targetFacts(db: Executor, deps: TransferDeps, t: Transfer, day: string) {
  if (t.peer) {
    const [peer] = await db.select({ stated: peerTransfers.statedTarget, answer: peerTransfers.answer }).from(peerTransfers).where(eq(peerTransfers.id, t.id)).limit(1);
    const stated = peer?.stated;
    if (!stated) throw new Error(`transfer ${t.id} to ${t.peer} has no stated target`);
    const accepted = peer.answer?.decision === 'accepted';
    return {
      coopCountry: stated.jurisdiction,
      cluster: { country: stated.clusterCountry, state: 'enabled' as const, online: true, freeCapacity: 1 },
      processingAgreement: true,
      evidence: { ...t.evidence, dpfListed: stated.dpfListed, pipedaSubject: stated.pipedaSubject },
      approvals: accepted ? [{ role: 'target_admin' as const, accountId: peer.answer!.approver }] : [],
    };
  }
  const target = localTarget(t);
  const [targetCoop, targetCluster, status] = await Promise.all([findCoop(db, target.coopId), findCluster(db, target.clusterId), deps.clusterStatus(target.clusterId)]);
  return {
    coopCountry: targetCoop!.jurisdiction,
    cluster: { country: targetCluster!.country, state: targetCluster!.state, online: status.online, freeCapacity: targetCluster!.capacity - status.load },
    processingAgreement: await hasProcessingAgreement(db, t.tenancyId, target.coopId, day),
    evidence: t.evidence,
    approvals: [],
  };
}

/** The data-protection decision for a transfer at a stage, with the facts it was made on. */
export async function decide(db: Executor, deps: TransferDeps, t: Transfer, stage: 'check' | 'freeze') {
  const now = deps.now?.() ?? new Date();
  const day = now.toISOString().slice(0, 10);
  const [sourceCoop, tenancy, target] = await Promise.all([findCoop(db, t.sourceCoopId), findTenancy(db, t.tenancyId), targetFacts(db, deps, t, day)]);
  const { approvals, objections } = await transferDetails(db, t.id);
  // Before freezing, the notice period counts from when the last member was reached (null while one is not).
  const noticeFrom = stage === 'freeze' && t.noticeSentAt ? (await noticeReach(db, t)).allReachedAt : t.noticeSentAt;
  const facts = transferFacts(
    {
      stage,
      regime: sourceCoop!.legalRegime,
      day,
      targetCoopCountry: target.coopCountry,
      targetCluster: target.cluster,
      // The tenancy needs at least one seat; its real peak is not known before it moves.
      tenancyLoad: 1,
      residency: tenancy!.residency,
      evidence: target.evidence,
      processingAgreement: target.processingAgreement,
      approvals: [...approvals.map((a) => ({ role: a.role, accountId: a.accountId })), ...target.approvals],
      noticeSentAt: noticeFrom,
      plannedNoticeDays: t.noticeDays,
      noticeDaysRequired: deps.minNoticeDays,
      now,
      ownerObjected: objections.some((o) => o.kind === 'owner'),
    },
    deps.registry,
  );
  const d = deps.rules.mayProceed(t.id, t.requestedBy, facts);
  // Sorted, so the same facts always give the same record.
  const stored: StoredDecision = { stage, ...d, policyIds: [...d.policyIds].sort(), registryVersion: deps.registry.version, at: now.toISOString() };
  return { decision: stored, facts };
}

/** Moves a transfer to `to` (checked by the state machine and the version) and audits it. */
export async function transition(
  tx: Tx,
  actor: Principal,
  t: Transfer,
  to: TransferState,
  action: string,
  extra: { decision?: StoredDecision; details?: Record<string, AuditValue>; set?: Partial<Transfer> } = {},
): Promise<Transfer> {
  assertTransition(t.state, to);
  const [row] = await tx
    .update(transfers)
    .set({ ...extra.set, state: to, ...(extra.decision ? { lastDecision: extra.decision } : {}), version: t.version + 1, stateSince: new Date(), updatedAt: new Date() })
    .where(and(eq(transfers.id, t.id), eq(transfers.version, t.version)))
    .returning();
  if (!row) throw problems.preconditionFailed('(changed meanwhile)');
  await appendAudit(tx, {
    actor,
    action,
    subject: { type: 'transfer', id: t.id },
    before: { state: t.state },
    after: { state: to },
    details: {
      ...(extra.details ?? {}),
      // The data-protection decision; the permission decision is the entry's `decision`.
      ...(extra.decision ? { dataProtection: { ...extra.decision } as unknown as AuditValue } : {}),
    },
  });
  return row;
}

/** Runs the data-protection rules: checked when they allow, rejected (naming the rules) when not. */
export async function checkTransfer(db: Db, deps: TransferDeps, actor: Principal, t: Transfer): Promise<Transfer> {
  if (t.state !== 'draft' && t.state !== 'checked') throw conflict(`a ${t.state} transfer cannot be checked`);
  const { decision } = await decide(db, deps, t, 'check');
  return db.transaction((tx) => transition(tx, actor, t, decision.decision === 'allow' ? 'checked' : 'rejected', 'transfer.check', { decision }));
}

/** One person approving in a second role: refused by the rule that wants three different people. */
const sameApprover = (asWhat: string) =>
  new ProblemError(403, 'forbidden', 'Forbidden', `you approved already ${asWhat}; three different people must approve`, { policyIds: ['dp-approvals'] });
const alreadyApproved = (role: string) => problems.conflict('already-approved', `the ${role.replace('_', ' ')} approval is already given`);

/**
 * Records the approver's approval in `role`. The same person cannot fill two
 * roles; once the source admin, the target admin and the owner approved, the
 * transfer is approved. Approvals of one transfer take its row lock, so two at
 * once are decided one after the other (the third always moves the state);
 * the database's one-approval-per-person index holds even without it.
 */
export async function approveTransfer(db: Db, actor: Principal, t: Transfer, role: ApprovalRole): Promise<Transfer> {
  try {
    return await db.transaction(async (tx) => {
      const [current] = await tx.select().from(transfers).where(eq(transfers.id, t.id)).for('update');
      if (!current || current.state !== 'checked') throw conflict(`a ${current?.state ?? t.state} transfer cannot be approved; check it first`);
      if (role === 'target_admin') refuseTargetApprovalHere(current);
      const existing = await tx.select().from(transferApprovals).where(eq(transferApprovals.transferId, t.id));
      if (existing.some((a) => a.role === role)) throw alreadyApproved(role);
      const mine = existing.find((a) => a.accountId === actor.accountId);
      if (mine) throw sameApprover(`as ${mine.role.replace('_', ' ')}`);
      await tx.insert(transferApprovals).values({ transferId: t.id, role, accountId: actor.accountId });
      await appendAudit(tx, { actor, action: 'transfer.approve', subject: { type: 'transfer', id: t.id }, details: { role, approver: person(actor.accountId) } });
      return approveIfComplete(tx, actor, current, existing.length + 1);
    });
  } catch (e) {
    if (pgErrorCode(e) !== UNIQUE_VIOLATION) throw e;
    // Only reached if an approval got past the lock: the constraints still decide.
    if (pgConstraint(e) === 'transfer_approvals_one_per_person') throw sameApprover('in another role');
    throw alreadyApproved(role);
  }
}

/** The target admin of a transfer to another instance approves there, by accepting the offer: never here. */
export function refuseTargetApprovalHere(t: Pick<Transfer, 'peer'>): void {
  if (t.peer) throw conflict(`the target's admin approves on the target instance (${t.peer}), by accepting the offer there`);
}

/**
 * Moves a checked transfer to `approved` once three people approved: here the source admin, the
 * owner and the target admin; for a transfer to another instance the target admin's approval is
 * the target's signed acceptance (server/peer-transfers), which may come before or after the others.
 */
export async function approveIfComplete(tx: Tx, actor: Principal, t: Transfer, localApprovals: number): Promise<Transfer> {
  let approvals = localApprovals;
  if (t.peer) {
    const [peer] = await tx.select({ answer: peerTransfers.answer, state: peerTransfers.state }).from(peerTransfers).where(eq(peerTransfers.id, t.id)).limit(1);
    if (peer?.answer?.decision === 'accepted' && peer.state === 'accepted') approvals += 1;
  }
  if (approvals < 3) return t;
  return transition(tx, actor, t, 'approved', 'transfer.approved', { details: { approvals: 3 } });
}

/** An owner's objection rejects the transfer; a member's keeps their personal data out of it. */
export async function objectToTransfer(db: Db, actor: Principal, t: Transfer): Promise<{ transfer: Transfer; kind: 'owner' | 'member' }> {
  if (FINAL_STATES.has(t.state) || ['frozen', 'copying', 'switching', 'verifying'].includes(t.state))
    throw conflict(`objections are taken until the tenancy is frozen; this transfer is ${t.state}`);
  const [m] = await db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.tenancyId, t.tenancyId), eq(memberships.accountId, actor.accountId)));
  if (!m) throw problems.forbidden('only members of the tenancy may object to its transfer');
  const kind = m.role === 'owner' ? 'owner' : 'member';
  const transfer = await db.transaction(async (tx) => {
    await tx.insert(transferObjections).values({ transferId: t.id, accountId: actor.accountId, kind }).onConflictDoNothing();
    await appendAudit(tx, { actor, action: 'transfer.object', subject: { type: 'transfer', id: t.id }, details: { kind, member: person(actor.accountId) } });
    if (kind !== 'owner') return t;
    const decision: StoredDecision = {
      stage: 'freeze',
      decision: 'deny',
      policyIds: ['dp-owner-objection'],
      reasons: ['the tenancy owner objected'],
      policySetHash: t.lastDecision?.policySetHash ?? '',
      registryVersion: t.lastDecision?.registryVersion ?? '',
      at: new Date().toISOString(),
    };
    return transition(tx, actor, t, 'rejected', 'transfer.reject', { decision });
  });
  return { transfer, kind };
}

export async function cancelTransfer(db: Db, actor: Principal, t: Transfer): Promise<Transfer> {
  if (!['draft', 'checked', 'approved', 'notice'].includes(t.state)) throw conflict(`a ${t.state} transfer cannot be cancelled`);
  // The target instance must be told: the protocol's withdrawal cancels both (server/peer-transfers/cancel.ts).
  if (t.peer) throw conflict(`this transfer goes to another instance (${t.peer}); withdraw it with POST /peer-transfers/${t.id}/cancel, which tells the target`);
  return db.transaction((tx) => transition(tx, actor, t, 'cancelled', 'transfer.cancel'));
}

export async function recordProcessingAgreement(
  db: Db,
  actor: Principal,
  input: { tenancyId: string; coopId: string; documentSha256: string; signedOn: string; validUntil: string | null },
) {
  return db.transaction(async (tx) => {
    const [row] = await tx.insert(processingAgreements).values({ id: uuidv7(), ...input }).returning();
    await appendAudit(tx, {
      actor,
      action: 'processing-agreement.record',
      subject: { type: 'tenancy', id: input.tenancyId },
      after: { coop: input.coopId, signedOn: input.signedOn, validUntil: input.validUntil },
      evidence: { 'processing-agreement': input.documentSha256 },
    });
    return row!;
  });
}

