// The last message of a transfer between instances: the source switched its front ends over to the
// target (they now call the target's gateway with the same secret, or the source forwards them there
// for a grace period). The source tells the target, which makes the tenancy it created active.
import { and, eq, sql } from 'drizzle-orm';
import { problems } from '../http/problem.js';
import { appendAudit } from '../audit/trail.js';
import { FEDERATION_ACTOR } from '../federation/peer-witnessing.js';
import { federationSigningKey } from '../federation/keys.js';
import { tenancies } from '../tenancies/table.js';
import { signMessage, SWITCHED_TYP, type SwitchedClaims } from '../../federation/transfer-messages.js';
import { setState } from './outgoing.js';
import { deliverOutgoing } from './outbox.js';
import { peerTransfers } from './table.js';
import type { Peer } from './peer.js';
import type { PeerTransfer, PeerTransferDeps } from './deps.js';

/**
 * At the source, once it switched (the lifecycle's step): the transfer is `switched` and the target is
 * told, signed, retried until it takes it. Idempotent: a switched transfer's message is sent again.
 */
export async function announceSwitch(d: PeerTransferDeps, row: PeerTransfer): Promise<PeerTransfer> {
  if (row.side !== 'source') throw problems.conflict('peer-transfer-state', 'only the source instance switches a transfer');
  if (row.state === 'switched') return deliverOutgoing(d, row);
  if (row.state !== 'verified') throw problems.conflict('peer-transfer-state', `a ${row.state} transfer cannot be switched; the target must verify its package first`);
  const jwt = await signMessage(SWITCHED_TYP, { iss: d.publicUrl, aud: row.peer, transfer_id: row.id, manifest_sha256: row.manifestSha256! }, await federationSigningKey(d.db, d.box));
  const switched = await d.db.transaction(async (tx) => {
    const [current] = await tx.select().from(peerTransfers).where(eq(peerTransfers.id, row.id)).for('update');
    if (!current) throw problems.notFound('transfer');
    if (current.state === 'switched') return current; // another process announced it meanwhile
    if (current.state !== 'verified') throw problems.conflict('peer-transfer-state', `a ${current.state} transfer cannot be switched`);
    return setState(tx, current, 'switched', 'peer-transfer.switch', { outgoingJwt: jwt, attempts: 0, nextAttemptAt: new Date(), lastError: null }, { gatewayUrl: current.targetGatewayUrl });
  });
  return deliverOutgoing(d, switched);
}

/** At the target: the source switched. The tenancy becomes active here and the transfer is complete. Idempotent. */
export async function receiveSwitched(d: PeerTransferDeps, peer: Peer, m: SwitchedClaims): Promise<PeerTransfer> {
  return d.db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(peerTransfers)
      .where(and(eq(peerTransfers.id, m.transfer_id), eq(peerTransfers.side, 'target'), eq(peerTransfers.peer, peer.entityId)))
      .for('update');
    if (!row) throw problems.notFound('transfer');
    if (m.manifest_sha256 !== row.manifestSha256) throw problems.conflict('switched-other-manifest', 'the switch names another package than this instance pulled');
    if (row.state === 'completed') return row;
    if (row.state !== 'pulled' || !row.tenancyId) throw problems.conflict('peer-transfer-state', `a ${row.state} transfer takes no switch`);
    const [tenancy] = await tx
      .update(tenancies)
      .set({ state: 'active', version: sql`${tenancies.version} + 1`, updatedAt: new Date() })
      .where(and(eq(tenancies.id, row.tenancyId), eq(tenancies.state, 'frozen')))
      .returning({ id: tenancies.id, version: tenancies.version });
    if (tenancy)
      await appendAudit(tx, { actor: FEDERATION_ACTOR, action: 'tenancy.update', subject: { type: 'tenancy', id: tenancy.id }, before: { state: 'frozen' }, after: { state: 'active', version: tenancy.version }, details: { transfer: row.id, peer: row.peer } });
    // The verification was taken (the source switched after it): nothing is owed any more.
    return setState(tx, row, 'completed', 'peer-transfer.switched', { outgoingJwt: null, nextAttemptAt: null, lastError: null }, { tenancy: row.tenancyId });
  });
}
