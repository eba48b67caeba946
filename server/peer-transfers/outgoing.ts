// The source instance's side: offering a tenancy to a co-op on another instance, and taking the
// target's signed answer. The data-protection rules decide on the target's facts as its federation
// metadata states them, before anything is sent: a refused destination never learns of the tenancy.
import { and, eq, notInArray } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { mapUniqueViolation } from '../db/errors.js';
import { transfers } from '../transfers/table.js';
import { evidenceHashes } from '../transfers/service.js';
import { FINAL_STATES } from '../transfers/lifecycle.js';
import type { Tx } from '../db/index.js';
import { uuidv7 } from '../ids.js';
import { appendAudit, type AuditValue } from '../audit/trail.js';
import type { Principal } from '../auth/principal.js';
import { problems, ProblemError } from '../http/problem.js';
import { findTenancy, type Tenancy } from '../tenancies/service.js';
import { findCoop } from '../coops/service.js';
import { tenancyTotals } from '../inventory/service.js';
import { memberCount } from '../accounts/service.js';
import { transferFacts, type TransferEvidence } from '../transfers/facts.js';
import type { StoredDecision } from '../transfers/table.js';
import { federationSigningKey } from '../federation/keys.js';
import { FEDERATION_ACTOR } from '../federation/peer-witnessing.js';
import { freshCopy, OFFER_TYP, offerDigest, signMessage, type AnswerClaims, type OfferClaims } from '../../federation/transfer-messages.js';
import { resolvePeer, type Peer, type PeerCoop } from './peer.js';
import { postMessage, retryDelayMs } from './delivery.js';
import { peerTransfers, type PeerAnswer, type StatedTarget } from './table.js';
import { acceptedByTarget, endLifecycle, startNoticeIfApproved } from './lifecycle-link.js';
import type { PeerTransfer, PeerTransferDeps } from './deps.js';

export interface OfferInput {
  tenancyId: string;
  /** the target instance's entity id */
  peer: string;
  /** the co-op and cluster there, by slug, as its metadata names them */
  targetCoop: string;
  targetCluster: string;
  /** the basis and documents; DPF listing and PIPEDA come from the target's metadata, not from the requester */
  evidence: Omit<TransferEvidence, 'dpfListed' | 'pipedaSubject'>;
  /** SHA-256 of the Art. 28 processing agreement with the target co-op */
  processingAgreement: string;
  noticeDays: number;
  /** a planned freeze date and time; the freeze still waits for every member's full notice */
  freezeAt?: Date | null;
}

const conflict = (detail: string) => problems.conflict('peer-transfer-state', detail);

/** A transfer of the tenancy between this instance's co-ops that has not ended. */
async function localTransferInProgress(d: PeerTransferDeps, tenancyId: string): Promise<boolean> {
  const rows = await d.db.select({ id: transfers.id }).from(transfers).where(and(eq(transfers.tenancyId, tenancyId), notInArray(transfers.state, [...FINAL_STATES]))).limit(1);
  return rows.length > 0;
}

/** The data-protection decision on what the target states about its co-op and the cluster's country. */
function decideOnStatedFacts(d: PeerTransferDeps, id: string, requester: string, regime: string, tenancy: Tenancy, coop: PeerCoop, clusterCountry: string, evidence: TransferEvidence, noticeDays: number, now: Date): StoredDecision {
  const facts = transferFacts(
    {
      stage: 'check',
      regime,
      day: now.toISOString().slice(0, 10),
      targetCoopCountry: coop.jurisdiction,
      // Readiness (enabled, online, room) is the target's to judge when it accepts: it alone sees its cluster.
      targetCluster: { country: clusterCountry, state: 'enabled', online: true, freeCapacity: 1 },
      tenancyLoad: 1,
      residency: tenancy.residency,
      evidence,
      // The offer carries the agreement's reference (required to offer).
      processingAgreement: true,
      approvals: [],
      noticeSentAt: null,
      plannedNoticeDays: noticeDays,
      noticeDaysRequired: d.transfer.minNoticeDays,
      now,
      ownerObjected: false,
    },
    d.transfer.registry,
  );
  const r = d.transfer.rules.mayProceed(id, requester, facts);
  return { stage: 'check', ...r, policyIds: [...r.policyIds].sort(), registryVersion: d.transfer.registry.version, at: now.toISOString() };
}


/**
 * Offers `input.tenancyId` to a co-op of another instance. Refused by the rules: recorded `rejected`
 * with the rule ids, nothing sent. Allowed: the signed offer is sent now, or retried until the target
 * takes it (`offering` meanwhile).
 */
export async function offerTransfer(d: PeerTransferDeps, actor: Principal, input: OfferInput): Promise<PeerTransfer> {
  const now = d.transfer.now?.() ?? new Date();
  const tenancy = await findTenancy(d.db, input.tenancyId);
  if (!tenancy) throw problems.notFound('tenancy');
  if (tenancy.state !== 'active') throw conflict(`the tenancy is ${tenancy.state}; only an active tenancy can be transferred`);
  if (await localTransferInProgress(d, tenancy.id)) throw problems.conflict('transfer-in-progress', 'this tenancy already has a transfer in progress');
  const sourceCoop = (await findCoop(d.db, tenancy.coopId))!;
  const peer = await resolvePeer(d.db, d.resolver, input.peer);
  if (peer.entityId === d.publicUrl) throw problems.validation([{ path: 'peer', message: 'this is this instance; transfer between its co-ops with POST /transfers' }]);
  const coop = peer.meetplane.coops.find((c) => c.slug === input.targetCoop);
  if (!coop) throw problems.validation([{ path: 'targetCoop', message: `${peer.entityId} hosts no co-op "${input.targetCoop}"` }]);
  const cluster = coop.clusters.find((c) => c.slug === input.targetCluster);
  if (!cluster) throw problems.validation([{ path: 'targetCluster', message: `co-op "${coop.slug}" at ${peer.entityId} has no cluster "${input.targetCluster}"` }]);
  // The notice cannot reach anyone before now: a planned freeze sooner than the notice period is refused here.
  if (input.freezeAt && input.freezeAt.getTime() < now.getTime() + input.noticeDays * 86_400_000)
    throw problems.validation([{ path: 'freezeAt', message: `must be at least the notice period (${input.noticeDays} days) from now` }]);
  const id = uuidv7();
  const evidence: TransferEvidence = { ...input.evidence, dpfListed: coop.dpf_listed, pipedaSubject: coop.pipeda_subject };
  const decision = decideOnStatedFacts(d, id, actor.accountId, sourceCoop.legalRegime, tenancy, coop, cluster.country, evidence, input.noticeDays, now);
  const allowed = decision.decision === 'allow';
  let offerJwt: string | null = null;
  let digest: string | null = null;
  if (allowed) {
    const totals = await tenancyTotals(d.db, tenancy.id);
    const claims: Omit<OfferClaims, 'iat' | 'exp' | 'jti'> = {
      iss: d.publicUrl,
      aud: peer.entityId,
      transfer_id: id,
      source: { coop: { name: sourceCoop.name, jurisdiction: sourceCoop.jurisdiction, legal_regime: sourceCoop.legalRegime } },
      target: { coop: coop.slug, cluster: cluster.slug },
      tenancy: {
        name: tenancy.name,
        slug: tenancy.slug,
        rooms: totals.rooms,
        recordings: totals.recordings,
        recording_bytes: totals.recordingBytes,
        members: await memberCount(d.db, tenancy.id),
        retention_days: tenancy.retentionDays,
        residency: tenancy.residency,
      },
      data_protection: {
        regime: sourceCoop.legalRegime,
        basis: evidence.claimedBasis,
        sccs_documents: evidence.sccsDocuments,
        impact_assessment: evidence.impactAssessment,
        processing_agreement: input.processingAgreement,
        policy_set_hash: decision.policySetHash,
        registry_version: decision.registryVersion,
      },
      notice_days: input.noticeDays,
    };
    offerJwt = await signMessage(OFFER_TYP, claims, await federationSigningKey(d.db, d.box), now.getTime());
    digest = offerDigest({ ...claims, iat: 0, exp: 0, jti: '' });
  }
  const statedTarget: StatedTarget = {
    coopName: coop.name,
    jurisdiction: coop.jurisdiction,
    legalRegime: coop.legal_regime,
    dpfListed: coop.dpf_listed,
    pipedaSubject: coop.pipeda_subject,
    clusterCountry: cluster.country,
    contactEmail: coop.contact_email ?? null,
  };
  const row = await mapUniqueViolation(
    () => d.db.transaction(async (tx) => {
    // The lifecycle members and admins see (approvals, notice, objections, freeze): checked by the rules just now.
    const [lifecycle] = await tx
      .insert(transfers)
      .values({
        id,
        tenancyId: tenancy.id,
        sourceCoopId: tenancy.coopId,
        sourceClusterId: tenancy.clusterId,
        peer: peer.entityId,
        state: allowed ? 'checked' : 'rejected',
        requestedBy: actor.accountId,
        evidence,
        noticeDays: input.noticeDays,
        freezeAt: input.freezeAt ?? null,
        lastDecision: decision,
      })
      .returning();
    await appendAudit(tx, {
      actor,
      action: 'transfer.create',
      subject: { type: 'transfer', id },
      after: { tenancy: tenancy.id, sourceCoop: tenancy.coopId, sourceCluster: tenancy.clusterId, peer: peer.entityId, targetCoop: coop.slug, targetCluster: cluster.slug, state: lifecycle!.state, noticeDays: input.noticeDays, ...(input.freezeAt ? { freezeAt: input.freezeAt.toISOString() } : {}) },
      details: { dataProtection: { ...decision } as unknown as AuditValue },
      evidence: evidenceHashes(evidence),
    });
    const [created] = await tx
      .insert(peerTransfers)
      .values({
        id,
        side: 'source',
        peer: peer.entityId,
        state: allowed ? 'offering' : 'rejected',
        tenancyId: tenancy.id,
        sourceCoopId: tenancy.coopId,
        sourceClusterId: tenancy.clusterId,
        requestedBy: actor.accountId,
        evidence,
        decision,
        targetCoop: coop.slug,
        targetCluster: cluster.slug,
        statedTarget,
        offerJwt,
        offerSha256: digest,
        nextAttemptAt: allowed ? now : null,
      })
      .returning();
    await appendAudit(tx, {
      actor,
      action: allowed ? 'peer-transfer.offer' : 'peer-transfer.reject',
      subject: { type: 'peer-transfer', id },
      after: { tenancy: tenancy.id, peer: peer.entityId, targetCoop: coop.slug, targetCluster: cluster.slug, state: created!.state, noticeDays: input.noticeDays },
      details: { dataProtection: { ...decision } as unknown as AuditValue, ...(digest ? { offerDigest: digest } : {}) },
      evidence: { 'processing-agreement': input.processingAgreement, ...evidenceHashes(evidence) },
    });
    return created!;
  }),
    () => problems.conflict('transfer-in-progress', 'this tenancy already has a transfer in progress'),
  );
  return allowed ? deliverOffer(d, row, peer) : row;
}

/** Sends the offer (again); on success the transfer is `offered`, otherwise a retry is planned or the peer's refusal kept. */
export async function deliverOffer(d: PeerTransferDeps, row: PeerTransfer, known?: Peer): Promise<PeerTransfer> {
  const now = d.transfer.now?.() ?? new Date();
  let peer = known;
  let outcome;
  // A copy that expired while the target could not be reached is signed afresh: same terms, same digest.
  const jwt = await freshCopy(row.offerJwt!, await federationSigningKey(d.db, d.box));
  if (jwt !== row.offerJwt) row = await renewCopy(d, row, { offerJwt: jwt });
  try {
    peer ??= await resolvePeer(d.db, d.resolver, row.peer);
    outcome = await postMessage(d.outbound, peer, jwt);
  } catch (err) {
    if (!(err instanceof ProblemError)) throw err;
    outcome = { ok: false as const, retry: true, detail: err.message, policyIds: [] };
  }
  return d.db.transaction(async (tx) => {
    const [current] = await tx.select().from(peerTransfers).where(eq(peerTransfers.id, row.id)).for('update');
    // Answered meanwhile (the answer can arrive before our request returns): nothing left to do.
    if (!current || current.state !== 'offering') return current ?? row;
    if (outcome.ok) return setState(tx, current, 'offered', 'peer-transfer.offered', { attempts: current.attempts + 1, nextAttemptAt: null, lastError: null });
    if (outcome.retry)
      return update(tx, current, { attempts: current.attempts + 1, nextAttemptAt: new Date(now.getTime() + retryDelayMs(current.attempts + 1)), lastError: outcome.detail });
    const answer: PeerAnswer = { decision: 'refused', policyIds: outcome.policyIds, reasons: [outcome.detail], approver: current.peer, at: now.toISOString() };
    await endLifecycle(tx, current.id, 'rejected', 'transfer.reject', refusalDecision(current, outcome.policyIds, [outcome.detail], now));
    return setState(tx, current, 'refused', 'peer-transfer.refused', { answer, attempts: current.attempts + 1, nextAttemptAt: null, lastError: outcome.detail }, { policyIds: outcome.policyIds.join(',') });
  });
}

/** The target's signed answer to our offer. Idempotent: the same answer again changes nothing. */
export async function receiveAnswer(d: PeerTransferDeps, peer: Peer, a: AnswerClaims): Promise<PeerTransfer> {
  const row = await recordAnswer(d, peer, a);
  if (row.state === 'accepted') await startNoticeIfApproved(d, row.id);
  return row;
}

async function recordAnswer(d: PeerTransferDeps, peer: Peer, a: AnswerClaims): Promise<PeerTransfer> {
  const now = d.transfer.now?.() ?? new Date();
  return d.db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(peerTransfers)
      .where(and(eq(peerTransfers.id, a.transfer_id), eq(peerTransfers.side, 'source'), eq(peerTransfers.peer, peer.entityId)))
      .for('update');
    if (!row) throw problems.notFound('transfer');
    if (a.offer_sha256 !== row.offerSha256) throw problems.conflict('answer-for-other-terms', 'the answer does not answer the terms this instance offered');
    if (row.answer) {
      if (row.answer.decision === a.decision && row.answer.cluster === a.cluster) return row; // the same answer delivered again
      throw conflict(`this transfer was already ${row.answer.decision} by the target`);
    }
    if (row.state !== 'offering' && row.state !== 'offered') throw conflict(`a ${row.state} transfer takes no answer`);
    const answer: PeerAnswer = { decision: a.decision, ...(a.cluster ? { cluster: a.cluster } : {}), policyIds: a.policy_ids, reasons: a.reasons, approver: a.approver, at: now.toISOString() };
    if (a.decision === 'refused') {
      await endLifecycle(tx, row.id, 'rejected', 'transfer.reject', refusalDecision(row, a.policy_ids, a.reasons, now));
      return setState(tx, row, 'refused', 'peer-transfer.refused', { answer, nextAttemptAt: null }, { policyIds: a.policy_ids.join(',') });
    }
    // Accepted, perhaps on another cluster than offered: decide again on the cluster the target commits to.
    // `peer` was resolved for this message a moment ago: its metadata is what the target states now.
    const [tenancy, sourceCoop] = await Promise.all([findTenancy(tx, row.tenancyId!), findCoop(tx, row.sourceCoopId!)]);
    const coop = peer.meetplane.coops.find((c) => c.slug === row.targetCoop);
    const decision = coop
      ? decideOnStatedFacts(d, row.id, row.requestedBy!, sourceCoop!.legalRegime, tenancy!, coop, a.cluster_country!, row.evidence!, noticeDaysOf(row), now)
      : ({ ...row.decision!, decision: 'deny', policyIds: ['peer-coop-gone'], reasons: [`${peer.entityId} no longer states co-op "${row.targetCoop}"`], at: now.toISOString() } as StoredDecision);
    const statedTarget: StatedTarget | null = row.statedTarget ? { ...row.statedTarget, clusterCountry: a.cluster_country! } : null;
    if (decision.decision === 'deny') {
      await endLifecycle(tx, row.id, 'rejected', 'transfer.reject', decision);
      return setState(tx, row, 'rejected', 'peer-transfer.reject', { answer, decision, statedTarget, targetCluster: a.cluster!, nextAttemptAt: null }, { dataProtection: { ...decision } as unknown as AuditValue });
    }
    const accepted = await setState(tx, row, 'accepted', 'peer-transfer.accepted', { answer, decision, statedTarget, targetCluster: a.cluster!, nextAttemptAt: null }, { approver: a.approver, cluster: a.cluster!, clusterCountry: a.cluster_country! });
    // The target admin's approval: the transfer is approved if the source admin and the owner gave theirs.
    await acceptedByTarget(tx, row.id);
    return accepted;
  });
}

/** The target's refusal as the lifecycle records it: the rule ids and reasons it gave. */
function refusalDecision(row: PeerTransfer, policyIds: string[], reasons: string[], now: Date): StoredDecision {
  return { stage: 'check', decision: 'deny', policyIds: [...policyIds].sort(), reasons, policySetHash: row.decision?.policySetHash ?? '', registryVersion: row.decision?.registryVersion ?? '', at: now.toISOString() };
}

/** The notice the offer announced (kept in its signed terms). */
function noticeDaysOf(row: PeerTransfer): number {
  const claims = decodeJwt(row.offerJwt!) as unknown as OfferClaims;
  return claims.notice_days;
}

/** Stores a freshly signed copy of a message (not a change of the transfer: no audit entry, no version). */
export async function renewCopy(d: PeerTransferDeps, row: PeerTransfer, set: Pick<Partial<PeerTransfer>, 'offerJwt' | 'answerJwt' | 'outgoingJwt'>): Promise<PeerTransfer> {
  const [next] = await d.db.update(peerTransfers).set(set).where(eq(peerTransfers.id, row.id)).returning();
  return next ?? row;
}

async function update(tx: Tx, row: PeerTransfer, set: Partial<PeerTransfer>): Promise<PeerTransfer> {
  const [next] = await tx
    .update(peerTransfers)
    .set({ ...set, version: row.version + 1, updatedAt: new Date() })
    .where(and(eq(peerTransfers.id, row.id), eq(peerTransfers.version, row.version)))
    .returning();
  if (!next) throw problems.preconditionFailed('(changed meanwhile)');
  return next;
}

/** Moves the transfer to `state` and audits it as `action` (the federation acting on a peer's message). */
export async function setState(tx: Tx, row: PeerTransfer, state: PeerTransfer['state'], action: string, set: Partial<PeerTransfer> = {}, details: Record<string, AuditValue> = {}, actor: Principal = FEDERATION_ACTOR) {
  const next = await update(tx, row, { ...set, state });
  await appendAudit(tx, { actor, action, subject: { type: 'peer-transfer', id: row.id }, before: { state: row.state }, after: { state }, details: { peer: row.peer, ...details } });
  return next;
}
