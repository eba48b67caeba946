// The target instance's side: an offer received from a trusted peer waits for an admin of the
// co-op it names; accepting (on a cluster of that co-op that is ready for it) or refusing sends the
// source a signed answer, retried until the source takes it (outbox.ts).
import { and, eq } from 'drizzle-orm';
import type { Principal } from '../auth/principal.js';
import { problems, ProblemError } from '../http/problem.js';
import { findCoop } from '../coops/service.js';
import { findCluster } from '../clusters/service.js';
import { federationSigningKey } from '../federation/keys.js';
import { FEDERATION_ACTOR } from '../federation/peer-witnessing.js';
import { appendAudit } from '../audit/trail.js';
import { ANSWER_TYP, offerDigest, signMessage, type AnswerClaims, type OfferClaims } from '../../federation/transfer-messages.js';
import type { Peer } from './peer.js';
import { deliverOutgoing } from './outbox.js';
import { setState } from './outgoing.js';
import { peerTransfers, type PeerAnswer } from './table.js';
import type { PeerTransfer, PeerTransferDeps } from './deps.js';

const unprocessable = (detail: string) => new ProblemError(422, 'offer-refused', 'Offer refused', detail);

/** Records an offer from `peer`. The same terms delivered again are the same offer; changed terms under its id are refused. */
export async function receiveOffer(d: PeerTransferDeps, peer: Peer, offer: OfferClaims, jwt: string): Promise<PeerTransfer> {
  const coop = await findCoop(d.db, offer.target.coop);
  if (!coop || coop.slug !== offer.target.coop) throw unprocessable(`no co-op "${offer.target.coop}" here`);
  const cluster = await findCluster(d.db, offer.target.cluster);
  if (!cluster || cluster.coopId !== coop.id || cluster.slug !== offer.target.cluster) throw unprocessable(`co-op "${coop.slug}" has no cluster "${offer.target.cluster}"`);
  const digest = offerDigest(offer);
  return d.db.transaction(async (tx) => {
    const [existing] = await tx.select().from(peerTransfers).where(eq(peerTransfers.id, offer.transfer_id)).for('update');
    if (existing) {
      if (existing.side !== 'target' || existing.peer !== peer.entityId) throw problems.conflict('transfer-id-taken', 'this transfer id names another transfer here');
      if (existing.offerSha256 !== digest) throw problems.conflict('offer-changed', 'the terms of this offer changed after it was made; the source must make a new offer');
      return existing; // the same offer again (a retry after a lost answer)
    }
    const [row] = await tx
      .insert(peerTransfers)
      .values({
        id: offer.transfer_id,
        side: 'target',
        peer: peer.entityId,
        state: 'offered',
        targetCoopId: coop.id,
        targetCoop: coop.slug,
        targetCluster: cluster.slug,
        summary: offer.tenancy,
        offerJwt: jwt,
        offerSha256: digest,
      })
      .returning();
    await appendAudit(tx, {
      actor: FEDERATION_ACTOR,
      action: 'peer-transfer.offer-received',
      subject: { type: 'peer-transfer', id: offer.transfer_id },
      after: { state: 'offered', peer: peer.entityId, targetCoop: coop.slug, targetCluster: cluster.slug },
      details: {
        sourceCoop: offer.source.coop.name,
        regime: offer.data_protection.regime,
        rooms: offer.tenancy.rooms,
        recordings: offer.tenancy.recordings,
        recordingBytes: offer.tenancy.recording_bytes,
        members: offer.tenancy.members,
        offerDigest: digest,
      },
      evidence: { 'processing-agreement': offer.data_protection.processing_agreement },
    });
    return row!;
  });
}

export type AnswerInput = { decision: 'accepted'; cluster?: string } | { decision: 'refused'; reason: string };

/**
 * An admin of the target co-op answers an offer (the policies decided they may, as target admin).
 * Accepting names a cluster of the co-op (the offered one unless another is given) that is enabled,
 * online and has room: the rule dp-target-cluster-ready is the target's to apply, it alone sees it.
 */
export async function answerOffer(d: PeerTransferDeps, actor: Principal, row: PeerTransfer, input: AnswerInput): Promise<PeerTransfer> {
  if (row.side !== 'target') throw problems.conflict('peer-transfer-state', 'only the target instance answers an offer');
  if (row.state !== 'offered') throw problems.conflict('peer-transfer-state', `this offer was already ${row.state}`);
  const now = d.transfer.now?.() ?? new Date();
  let cluster: { slug: string; country: string } | undefined;
  if (input.decision === 'accepted') {
    const c = await findCluster(d.db, input.cluster ?? row.targetCluster);
    if (!c || c.coopId !== row.targetCoopId) throw problems.validation([{ path: 'cluster', message: 'no such cluster in the target co-op' }]);
    const status = await d.transfer.clusterStatus(c.id);
    if (!(c.state === 'enabled' && status.online && c.capacity - status.load >= 1))
      throw new ProblemError(409, 'cluster-not-ready', 'Conflict', `cluster "${c.slug}" must be enabled, online and have room to accept a tenancy`, { policyIds: ['dp-target-cluster-ready'] });
    cluster = { slug: c.slug, country: c.country };
  }
  const claims: Omit<AnswerClaims, 'iat' | 'exp' | 'jti'> = {
    iss: d.publicUrl,
    aud: row.peer,
    transfer_id: row.id,
    offer_sha256: row.offerSha256!,
    decision: input.decision,
    ...(cluster ? { cluster: cluster.slug, cluster_country: cluster.country } : {}),
    policy_ids: input.decision === 'refused' ? ['peer-refused-by-target'] : [],
    reasons: input.decision === 'refused' ? [input.reason] : [],
    // Opaque to the source: which account of this instance answered.
    approver: `${d.publicUrl}#${actor.accountId}`,
  };
  const jwt = await signMessage(ANSWER_TYP, claims, await federationSigningKey(d.db, d.box), now.getTime());
  const answer: PeerAnswer = { decision: input.decision, ...(cluster ? { cluster: cluster.slug } : {}), policyIds: claims.policy_ids, reasons: claims.reasons, approver: claims.approver, at: now.toISOString() };
  const answered = await d.db.transaction(async (tx) => {
    const [current] = await tx.select().from(peerTransfers).where(and(eq(peerTransfers.id, row.id), eq(peerTransfers.version, row.version))).for('update');
    if (!current) throw problems.preconditionFailed('(changed meanwhile)');
    return setState(
      tx,
      current,
      input.decision,
      input.decision === 'accepted' ? 'peer-transfer.accept' : 'peer-transfer.refuse',
      { answer, answerJwt: jwt, answeredBy: actor.accountId, ...(cluster ? { targetCluster: cluster.slug } : {}), attempts: 0, nextAttemptAt: now, lastError: null },
      { ...(cluster ? { cluster: cluster.slug } : {}), policyIds: claims.policy_ids.join(',') },
      actor,
    );
  });
  return deliverOutgoing(d, answered, answered.answerJwt);
}
