// The receipt of a transfer between instances (federation/peer-receipt.ts), made after the switch:
//  1. the source issues a checkpoint of its audit log (the transfer's entries so far, the switch
//     included), has the target's witness cosign it, and sends it with its terms (the approvals, as
//     pseudonymous references, and the policy-set hash) in transfer-receipt+jwt;
//  2. the target checks it (signed by the log key the source states, cosigned by its own witness),
//     issues its own checkpoint (the tenancy's activation included) cosigned by the source's witness,
//     signs the summary with its federation key and sends that;
//  3. the source checks the summary against what it knows, adds its signature, stores the receipt
//     (its transfer completes on that) and sends it back, and the target stores it too.
// Whatever does not hold is refused (the inbox audits the refusal) and nothing is stored; the
// tenancy keeps being served where it is. The switch never waits for any of this.
import { and, eq, ne } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { appendAudit } from '../audit/trail.js';
import { canonicalJson } from '../audit/canonical.js';
import { auditOrigin, CheckpointSigner } from '../audit/checkpoints.js';
import { personRefs } from '../audit/subjects.js';
import { ProblemError, problems } from '../http/problem.js';
import { failpoint } from '../failpoints.js';
import { FEDERATION_ACTOR } from '../federation/peer-witnessing.js';
import { collectCosignatures } from '../federation/cosigning.js';
import { federationPublicKeys, federationSigningKey } from '../federation/keys.js';
import { witnessKey } from '../federation/witness-key.js';
import { checkpointCosignatures, cosigningWitnesses } from '../federation/table.js';
import { transferApprovals, transfers } from '../transfers/table.js';
import { tenancies } from '../tenancies/table.js';
import { RECEIPT_TYP, sha256Hex, signMessage, type Manifest, type ReceiptClaims } from '../../federation/transfer-messages.js';
import {
  checkCosignedCheckpoint,
  joinSignatures,
  PEER_RECEIPT_VERSION,
  PeerReceiptError,
  signAs,
  verifyPeerReceipt,
  type CosignedCheckpoint,
  type PeerReceiptJws,
  type PeerReceiptSummary,
} from '../../federation/peer-receipt.js';
import { deliverOutgoing } from './outbox.js';
import { peerTransfers, type ReceiptParts } from './table.js';
import { resolvePeer, type Peer } from './peer.js';
import { gatewayUrlOf } from './tenancy-arrival.js';
import type { PeerTransfer, PeerTransferDeps } from './deps.js';

const refused = (type: string, detail: string) => new ProblemError(422, type, 'Receipt refused', detail);
const signers = new WeakMap<Db, Promise<CheckpointSigner>>();

function logSigner(d: PeerTransferDeps): Promise<CheckpointSigner> {
  let s = signers.get(d.db);
  if (!s) signers.set(d.db, (s = CheckpointSigner.load(d.db, d.box, auditOrigin(d.publicUrl))));
  return s;
}

/** The log key the peer states in its metadata (its `meetplane.audit_log.verifier_key`). */
function statedLogKey(peer: Peer): string | undefined {
  const log = (peer.meetplane as Record<string, unknown>).audit_log as { verifier_key?: unknown } | undefined;
  return typeof log?.verifier_key === 'string' ? log.verifier_key : undefined;
}

/** The witness the peer states in its metadata (its `meetplane.witness`). */
function statedWitness(peer: Peer): { url?: string; vkey?: string } {
  const w = (peer.meetplane as Record<string, unknown>).witness as { add_checkpoint_url?: unknown; vkey?: unknown } | undefined;
  return { url: typeof w?.add_checkpoint_url === 'string' ? w.add_checkpoint_url : undefined, vkey: typeof w?.vkey === 'string' ? w.vkey : undefined };
}

/**
 * The peer's witness as this instance asks it to cosign: set up from the pinned peer's metadata, or
 * added by hand (a peer trusted through an anchor) with the URL and key the peer states.
 */
async function peerWitness(d: PeerTransferDeps, peer: Peer) {
  const [pinned] = await d.db.select().from(cosigningWitnesses).where(eq(cosigningWitnesses.viaEntity, peer.entityId));
  if (pinned) return pinned;
  const stated = statedWitness(peer);
  if (!stated.url || !stated.vkey) return undefined;
  const [byHand] = await d.db.select().from(cosigningWitnesses).where(and(eq(cosigningWitnesses.url, stated.url), eq(cosigningWitnesses.vkey, stated.vkey)));
  return byHand;
}

/**
 * A checkpoint of this instance's log as it is now, with the cosignature of `peer`'s witness;
 * or why there is none yet (the peer is not asked to cosign, or did not).
 */
async function cosignedCheckpoint(d: PeerTransferDeps, entityId: string): Promise<CosignedCheckpoint | { reason: string }> {
  let peer: Peer;
  try {
    peer = await resolvePeer(d.db, d.resolver, entityId);
  } catch (e) {
    if (e instanceof ProblemError) return { reason: e.message };
    throw e;
  }
  const signer = await logSigner(d);
  const witness = await peerWitness(d, peer);
  if (!witness) return { reason: `${peer.entityId}'s witness is not asked to cosign this instance's checkpoints: pin the peer with witnessing on, or add its witness by hand (meetplane audit witnesses add)` };
  const cp = await signer.issue(d.db);
  const outcomes = await collectCosignatures(d.db, d.outbound);
  const [line] = await d.db
    .select({ line: checkpointCosignatures.line })
    .from(checkpointCosignatures)
    .where(and(eq(checkpointCosignatures.size, cp.size), eq(checkpointCosignatures.witness, witness.vkey)));
  if (!line) {
    const outcome = outcomes.find((o) => o.url === witness.url);
    return { reason: `${peer.entityId}'s witness did not cosign checkpoint ${cp.size}: ${outcome ? `${outcome.outcome}${outcome.detail ? ` (${outcome.detail})` : ''}` : 'a newer checkpoint was issued meanwhile'}` };
  }
  return { note: cp.note + line.line, logKey: await signer.vkey(d.db), witnessKey: witness.vkey };
}

async function lockRow(d: PeerTransferDeps, tx: Parameters<Parameters<Db['transaction']>[0]>[0], id: string): Promise<PeerTransfer> {
  const [row] = await tx.select().from(peerTransfers).where(eq(peerTransfers.id, id)).for('update');
  if (!row) throw problems.notFound('transfer');
  return row;
}

const audit = (tx: Parameters<typeof appendAudit>[0], row: PeerTransfer, action: string, details: Record<string, string | number>) =>
  appendAudit(tx, { actor: FEDERATION_ACTOR, action, subject: { type: 'peer-transfer', id: row.id }, details: { peer: row.peer, side: row.side, ...details } });

const payloadSha256 = (jws: PeerReceiptJws) => sha256Hex(jws.payload);

// ---------------------------------------------------------------------------------------------
// At the source

/**
 * The source's step after the switch (the transfers runner's receipt step): 'stored' once the receipt
 * signed by both is here; otherwise it sends its terms once the target took the switch, and waits.
 */
export async function receiptAtSource(d: PeerTransferDeps, id: string): Promise<'waiting' | 'stored'> {
  const [row] = await d.db.select().from(peerTransfers).where(eq(peerTransfers.id, id));
  if (row?.receipt) return 'stored';
  // The switched message first (still owed while nextAttemptAt is set); the terms once.
  if (!row || row.side !== 'source' || row.state !== 'switched' || row.nextAttemptAt || row.receiptParts?.own) return 'waiting';
  const own = await cosignedCheckpoint(d, row.peer);
  if ('reason' in own) {
    await d.db.update(peerTransfers).set({ lastError: `receipt: ${own.reason}`, updatedAt: new Date() }).where(eq(peerTransfers.id, id));
    return 'waiting';
  }
  const [t] = await d.db.select({ lastDecision: transfers.lastDecision }).from(transfers).where(eq(transfers.id, id));
  const local = await d.db.select().from(transferApprovals).where(and(eq(transferApprovals.transferId, id), ne(transferApprovals.role, 'target_admin')));
  const refs = await personRefs(d.db, local.map((a) => a.accountId));
  const approvals = local.map((a) => ({ role: a.role, ref: refs.get(a.accountId)! })).sort((x, y) => x.role.localeCompare(y.role));
  const policySetHash = t?.lastDecision?.policySetHash || d.transfer.rules.policySetHash;
  const terms = { iss: d.publicUrl, aud: row.peer, transfer_id: id, checkpoint: own, approvals: approvals.length ? approvals : [{ role: 'system', ref: 'none' }], policy_set_hash: policySetHash };
  const jwt = await signMessage(RECEIPT_TYP, terms, await federationSigningKey(d.db, d.box));
  const sent = await d.db.transaction(async (tx) => {
    const current = await lockRow(d, tx, id);
    if (current.receiptParts?.own || current.state !== 'switched') return undefined; // another process sent them
    const parts: ReceiptParts = { own, approvals: terms.approvals, policySetHash };
    const [next] = await tx.update(peerTransfers).set({ receiptParts: parts, outgoingJwt: jwt, attempts: 0, nextAttemptAt: new Date(), lastError: null, updatedAt: new Date() }).where(eq(peerTransfers.id, id)).returning();
    await audit(tx, current, 'peer-transfer.receipt-terms', { checkpointSize: checkCosignedCheckpoint(own, 'this checkpoint').size });
    return next;
  });
  if (sent) await deliverOutgoing(d, sent);
  return 'waiting';
}

/** A receipt that verifies (`only` 'target': the target's signature alone), or a refusal saying why; the same one again is fine, another is a conflict. */
async function checkedReceipt(row: PeerTransfer, receipt: PeerReceiptJws, keys: Parameters<typeof verifyPeerReceipt>[1], only?: 'target') {
  let verified;
  try {
    verified = await verifyPeerReceipt(receipt, keys, only);
  } catch (e) {
    if (e instanceof PeerReceiptError) throw refused('receipt-refused', e.message);
    throw e;
  }
  if (row.receipt && row.receipt.payload !== receipt.payload) throw problems.conflict('receipt-stored', 'this transfer has its receipt already');
  return verified;
}

/** What the source checks in the summary the target signed: every field it knows itself. */
async function differences(d: PeerTransferDeps, peer: Peer, row: PeerTransfer, s: PeerReceiptSummary): Promise<string[]> {
  const parts = row.receiptParts!;
  const manifest = JSON.parse(row.manifest ?? '{}') as Partial<Manifest>;
  const ownWitness = (await witnessKey(d.db, d.box, d.publicUrl)).vkey;
  const theirs = s.approvals.filter((a) => a.role === 'target_admin');
  const checks: Array<[string, boolean]> = [
    ['transferId', s.transferId === row.id],
    ['tenancyId', s.tenancyId === row.tenancyId],
    ['source.entityId', s.source.entityId === d.publicUrl],
    ['target.entityId', s.target.entityId === peer.entityId],
    ['source.checkpoint (not the one this instance sent)', canonicalJson(s.source.checkpoint) === canonicalJson(parts.own)],
    ['target.checkpoint.logKey (not the log key the target states)', s.target.checkpoint.logKey === statedLogKey(peer)],
    ["target.checkpoint.witnessKey (not this instance's witness)", s.target.checkpoint.witnessKey === ownWitness],
    ['manifestSha256', s.manifestSha256 === row.manifestSha256],
    ['tenancySha256', s.tenancySha256 === manifest.tenancy_sha256],
    ['policySetHash', s.policySetHash === parts.policySetHash],
    ['gatewayUrl (not the one the target confirmed with its verification)', s.gatewayUrl === row.targetGatewayUrl],
    ['approvals', theirs.length === 1 && canonicalJson(s.approvals.filter((a) => a.role !== 'target_admin')) === canonicalJson((parts.approvals ?? []).filter((a) => a.role !== 'target_admin'))],
  ];
  return checks.filter(([, ok]) => !ok).map(([field]) => field);
}

/** At the source: the receipt the target signed. Checked, countersigned, stored, sent back. */
async function receiveTargetSigned(d: PeerTransferDeps, peer: Peer, row: PeerTransfer, receipt: PeerReceiptJws): Promise<PeerTransfer> {
  const { summary } = await checkedReceipt(row, receipt, { targetJwks: peer.keys }, 'target');
  if (row.receipt) return row; // the same receipt delivered again
  if (row.state !== 'switched' || !row.receiptParts?.own) throw problems.conflict('peer-transfer-state', `a ${row.state} transfer whose terms were not sent takes no receipt`);
  const wrong = await differences(d, peer, row, summary);
  if (wrong.length) throw refused('receipt-summary-differs', `the summary differs from what this instance knows: ${wrong.join(', ')}`);
  const full = joinSignatures(await signAs(summary, 'source', await federationSigningKey(d.db, d.box)), receipt);
  const verified = await verifyPeerReceipt(full, { sourceJwks: { keys: await federationPublicKeys(d.db) }, targetJwks: peer.keys });
  const jwt = await signMessage(RECEIPT_TYP, { iss: d.publicUrl, aud: peer.entityId, transfer_id: row.id, receipt: full }, await federationSigningKey(d.db, d.box));
  return d.db.transaction(async (tx) => {
    const current = await lockRow(d, tx, row.id);
    if (current.receipt) return current;
    const [next] = await tx
      .update(peerTransfers)
      .set({ receipt: full, receiptParts: { ...current.receiptParts, peer: summary.target.checkpoint }, outgoingJwt: jwt, attempts: 0, nextAttemptAt: new Date(), lastError: null, version: current.version + 1, updatedAt: new Date() })
      .where(eq(peerTransfers.id, row.id))
      .returning();
    await audit(tx, current, 'peer-transfer.receipt', {
      receiptSha256: payloadSha256(full),
      sourceCheckpointSize: verified.checkpoints.source.size,
      targetCheckpointSize: verified.checkpoints.target.size,
      sourceKid: verified.kids.source,
      targetKid: verified.kids.target,
    });
    return next!;
  }).finally(() => failpoint('peer-transfers.receipt-stored')); // a crash once stored, before the answer and the copy for the target go out
}

// ---------------------------------------------------------------------------------------------
// At the target

/** At the target: the source's terms. Its checkpoint must be signed by the log key it states and cosigned by this instance's witness. */
async function receiveTerms(d: PeerTransferDeps, peer: Peer, row: PeerTransfer, m: ReceiptClaims): Promise<PeerTransfer> {
  if (row.state !== 'completed') throw problems.conflict('peer-transfer-state', `a ${row.state} transfer takes no receipt terms; the switch comes first`);
  const terms: ReceiptParts = { peer: m.checkpoint!, approvals: m.approvals!, policySetHash: m.policy_set_hash! };
  const stated = statedLogKey(peer);
  if (m.checkpoint!.logKey !== stated) throw refused('receipt-refused', `the checkpoint is signed by log key ${m.checkpoint!.logKey}, not the one ${peer.entityId} states (${stated ?? 'none'})`);
  if (m.checkpoint!.witnessKey !== (await witnessKey(d.db, d.box, d.publicUrl)).vkey) throw refused('receipt-refused', "the checkpoint names another witness than this instance's");
  let size: number;
  try {
    size = checkCosignedCheckpoint(m.checkpoint!, "the source's checkpoint").size;
  } catch (e) {
    if (e instanceof PeerReceiptError) throw refused('receipt-refused', e.message);
    throw e;
  }
  const sameTerms = (p: ReceiptParts | null) => canonicalJson({ peer: p?.peer, approvals: p?.approvals, policySetHash: p?.policySetHash }) === canonicalJson(terms);
  if (row.receiptParts?.peer) {
    if (sameTerms(row.receiptParts)) return row; // the same terms delivered again
    throw problems.conflict('receipt-terms-changed', 'the source sent other terms for this receipt before');
  }
  return d.db.transaction(async (tx) => {
    const current = await lockRow(d, tx, row.id);
    if (current.receiptParts?.peer) return current;
    const [next] = await tx.update(peerTransfers).set({ receiptParts: terms, attempts: 0, nextAttemptAt: new Date(), lastError: null, version: current.version + 1, updatedAt: new Date() }).where(eq(peerTransfers.id, row.id)).returning();
    await audit(tx, current, 'peer-transfer.receipt-terms', { checkpointSize: size });
    return next!;
  });
}

/** Whether the peer-transfers job has the target's part of the receipt to do for this row. */
export const owesTargetSignature = (row: PeerTransfer) => row.side === 'target' && row.state === 'completed' && !row.receipt && !!row.receiptParts?.peer && !row.receiptParts.own;

/** At the target (the peer-transfers job): its own checkpoint, cosigned by the source; the summary signed and sent. */
export async function signAtTarget(d: PeerTransferDeps, row: PeerTransfer): Promise<PeerTransfer> {
  if (!owesTargetSignature(row)) return row;
  const parts = row.receiptParts!;
  const own = await cosignedCheckpoint(d, row.peer);
  if ('reason' in own) {
    const now = d.transfer.now?.() ?? new Date();
    const [next] = await d.db.update(peerTransfers).set({ attempts: row.attempts + 1, nextAttemptAt: new Date(now.getTime() + Math.min(5_000 * 2 ** row.attempts, 600_000)), lastError: `receipt: ${own.reason}`, updatedAt: new Date() }).where(eq(peerTransfers.id, row.id)).returning();
    return next ?? row;
  }
  const refs = row.answeredBy ? await personRefs(d.db, [row.answeredBy]) : new Map<string, string>();
  const [tenancy] = await d.db.select({ slug: tenancies.slug }).from(tenancies).where(eq(tenancies.id, row.tenancyId!));
  const manifest = JSON.parse(row.manifest!) as Manifest;
  const summary: PeerReceiptSummary = {
    version: PEER_RECEIPT_VERSION,
    transferId: row.id,
    tenancyId: row.tenancyId!,
    source: { entityId: row.peer, checkpoint: parts.peer! },
    target: { entityId: d.publicUrl, checkpoint: own },
    manifestSha256: row.manifestSha256!,
    tenancySha256: manifest.tenancy_sha256,
    policySetHash: parts.policySetHash!,
    gatewayUrl: gatewayUrlOf(d.publicUrl, tenancy!.slug),
    approvals: [...parts.approvals!, { role: 'target_admin', ref: (row.answeredBy && refs.get(row.answeredBy)) || 'none' }],
    completedAt: new Date().toISOString(),
  };
  const signed = await signAs(summary, 'target', await federationSigningKey(d.db, d.box));
  const jwt = await signMessage(RECEIPT_TYP, { iss: d.publicUrl, aud: row.peer, transfer_id: row.id, receipt: signed }, await federationSigningKey(d.db, d.box));
  const next = await d.db.transaction(async (tx) => {
    const current = await lockRow(d, tx, row.id);
    if (!owesTargetSignature(current)) return undefined;
    const [updated] = await tx.update(peerTransfers).set({ receiptParts: { ...parts, own, signed }, outgoingJwt: jwt, attempts: 0, nextAttemptAt: new Date(), lastError: null, version: current.version + 1, updatedAt: new Date() }).where(eq(peerTransfers.id, row.id)).returning();
    await audit(tx, current, 'peer-transfer.receipt-sign', { receiptSha256: payloadSha256(signed), checkpointSize: checkCosignedCheckpoint(own, 'this checkpoint').size });
    return updated;
  });
  failpoint('peer-transfers.receipt-signed'); // a crash once signed, before the summary goes out
  return next ? deliverOutgoing(d, next) : row;
}

/** At the target: the receipt signed by both. It must be exactly what this instance signed, countersigned by the source. */
async function receiveFinal(d: PeerTransferDeps, peer: Peer, row: PeerTransfer, receipt: PeerReceiptJws): Promise<PeerTransfer> {
  const verified = await checkedReceipt(row, receipt, { sourceJwks: peer.keys, targetJwks: { keys: await federationPublicKeys(d.db) } });
  if (row.receipt) return row; // the same receipt delivered again
  const mine = row.receiptParts?.signed;
  if (!mine) throw problems.conflict('peer-transfer-state', 'this instance has not signed a receipt for this transfer');
  if (receipt.payload !== mine.payload) throw refused('receipt-summary-differs', 'the receipt signs another summary than this instance signed');
  return d.db.transaction(async (tx) => {
    const current = await lockRow(d, tx, row.id);
    if (current.receipt) return current;
    const [next] = await tx.update(peerTransfers).set({ receipt, outgoingJwt: null, nextAttemptAt: null, lastError: null, version: current.version + 1, updatedAt: new Date() }).where(eq(peerTransfers.id, row.id)).returning();
    await audit(tx, current, 'peer-transfer.receipt', {
      receiptSha256: payloadSha256(receipt),
      sourceCheckpointSize: verified.checkpoints.source.size,
      targetCheckpointSize: verified.checkpoints.target.size,
      sourceKid: verified.kids.source,
      targetKid: verified.kids.target,
    });
    return next!;
  });
}

/** The inbox's receiver of transfer-receipt+jwt, by side and by what the message carries. */
export async function receiveReceipt(d: PeerTransferDeps, peer: Peer, m: ReceiptClaims): Promise<PeerTransfer> {
  const [row] = await d.db.select().from(peerTransfers).where(and(eq(peerTransfers.id, m.transfer_id), eq(peerTransfers.peer, peer.entityId)));
  if (!row) throw problems.notFound('transfer');
  if (row.side === 'target') return m.receipt ? receiveFinal(d, peer, row, m.receipt) : receiveTerms(d, peer, row, m);
  if (!m.receipt) throw problems.conflict('peer-transfer-state', 'the source sends the terms, it does not take them');
  return receiveTargetSigned(d, peer, row, m.receipt);
}
