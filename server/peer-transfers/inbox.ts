// The transfer endpoint's work: a message is taken only from a peer this instance trusts (a chain to
// one of its anchors, or a pin), signed by a federation key that trust vouches for, addressed to this
// instance, unexpired, and not a replay (the same jti with other content). Refusals are audited,
// at most REFUSALS_AUDITED_PER_MINUTE a minute (anyone can send one; past that they are only logged).
import { and, eq, lt } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { appendAudit } from '../audit/trail.js';
import { FEDERATION_ACTOR } from '../federation/peer-witnessing.js';
import { ProblemError } from '../http/problem.js';
import { ANSWER_TYP, CANCEL_TYP, MANIFEST_TYP, MessageError, type ClaimsOf, type MessageType, OFFER_TYP, peekMessage, RECEIPT_TYP, sha256Hex, SWITCHED_TYP, verifyMessage, VERIFIED_TYP } from '../../federation/transfer-messages.js';
import { receiveManifest, receiveVerified } from './package-messages.js';
import { receiveCancel } from './cancel.js';
import { receiveSwitched } from './switched.js';
import { receiveReceipt } from './receipt.js';
import { resolvePeer, type Peer } from './peer.js';
import { receiveOffer } from './incoming.js';
import { receiveAnswer } from './outgoing.js';
import { peerMessageIds } from './table.js';
import type { PeerTransfer, PeerTransferDeps } from './deps.js';

const REFUSALS_AUDITED_PER_MINUTE = 60;
let refusalWindow = { minute: 0, count: 0 };

type Receiver<T extends MessageType> = (d: PeerTransferDeps, peer: Peer, message: ClaimsOf<T>, jwt: string) => Promise<PeerTransfer>;

/** Who takes each message, once it is verified and its id remembered. */
const RECEIVERS: { [T in MessageType]: Receiver<T> } = {
  [OFFER_TYP]: (d, peer, m, jwt) => receiveOffer(d, peer, m, jwt),
  [ANSWER_TYP]: (d, peer, m) => receiveAnswer(d, peer, m),
  [MANIFEST_TYP]: (d, peer, m) => receiveManifest(d, peer, m),
  [VERIFIED_TYP]: (d, peer, m) => receiveVerified(d, peer, m),
  [CANCEL_TYP]: (d, peer, m) => receiveCancel(d, peer, m),
  [SWITCHED_TYP]: (d, peer, m) => receiveSwitched(d, peer, m),
  [RECEIPT_TYP]: (d, peer, m) => receiveReceipt(d, peer, m),
};

const refused = (status: number, type: string, detail: string) => new ProblemError(status, type, 'Message refused', detail);

export async function receiveMessage(d: PeerTransferDeps, jwt: string): Promise<PeerTransfer> {
  let claimed: { typ: MessageType | 'unknown'; iss: string } = { typ: 'unknown', iss: 'unknown' };
  try {
    const { typ, iss } = (claimed = peekMessage(jwt));
    const peer = await resolvePeer(d.db, d.resolver, iss);
    const m = await verifyMessage(jwt, typ, { jwks: peer.keys, issuer: peer.entityId, audience: d.publicUrl });
    await rememberId(d, peer.entityId, m.jti, sha256Hex(jwt), m.exp);
    return await (RECEIVERS[typ] as Receiver<MessageType>)(d, peer, m, jwt);
  } catch (err) {
    const problem =
      err instanceof MessageError ? refused(401, 'message-refused', err.message) : err instanceof ProblemError ? err : undefined;
    if (!problem) throw err;
    await auditRefusal(d, claimed, jwt, problem);
    throw problem;
  }
}

/** Forgets the ids of messages and proofs that expired a minute ago or more (they can no longer be replayed). */
export async function forgetExpiredIds(d: PeerTransferDeps): Promise<void> {
  await d.db.delete(peerMessageIds).where(lt(peerMessageIds.expiresAt, new Date(Date.now() - 60_000)));
}

/** A jti is used once; the very same message delivered again (a retry) is not a replay. */
export async function rememberId(d: PeerTransferDeps, issuer: string, jti: string, sha256: string, exp: number): Promise<void> {
  await forgetExpiredIds(d);
  const inserted = await d.db.insert(peerMessageIds).values({ issuer, jti, sha256, expiresAt: new Date(exp * 1000) }).onConflictDoNothing().returning();
  if (inserted.length > 0) return;
  const [seen] = await d.db.select().from(peerMessageIds).where(and(eq(peerMessageIds.issuer, issuer), eq(peerMessageIds.jti, jti)));
  if (seen && seen.sha256 !== sha256) throw refused(409, 'message-replayed', 'this message id was used already for another message');
}

/** A proof's jti is used once, whatever it carries (RFC 9449 §11.1): false when it was seen before. */
export async function firstUse(d: PeerTransferDeps, issuer: string, jti: string, exp: number): Promise<boolean> {
  const inserted = await d.db.insert(peerMessageIds).values({ issuer, jti, sha256: '-', expiresAt: new Date(exp * 1000) }).onConflictDoNothing().returning();
  return inserted.length > 0;
}

async function auditRefusal(d: PeerTransferDeps, claimed: { typ: string; iss: string }, jwt: string, problem: ProblemError): Promise<void> {
  const minute = Math.floor(Date.now() / 60_000);
  if (refusalWindow.minute !== minute) refusalWindow = { minute, count: 0 };
  if (++refusalWindow.count > REFUSALS_AUDITED_PER_MINUTE) return;
  let transferId = 'unknown';
  try {
    const t = decodeJwt(jwt).transfer_id;
    if (typeof t === 'string' && /^[0-9a-f-]{36}$/.test(t)) transferId = t;
  } catch {
    // not even JSON: the id stays unknown
  }
  await d.db.transaction((tx) =>
    appendAudit(tx, {
      actor: FEDERATION_ACTOR,
      action: 'peer-transfer.message-refused',
      subject: { type: 'peer-transfer', id: transferId },
      outcome: 'denied',
      details: { issuer: claimed.iss.slice(0, 300), typ: claimed.typ.slice(0, 60), status: problem.status, reason: problem.message.slice(0, 500), messageSha256: sha256Hex(jwt) },
    }),
  );
}
