// At the source, a transfer to another instance is two rows of one id: the transfer (transfers: the
// lifecycle members and admins see, with its approvals, notice, objections and freeze) and the
// protocol's state (peer_transfers). What the target answers moves the lifecycle: its acceptance is
// the target admin's approval, its refusal (or the rules' refusal of the cluster it accepted on)
// rejects the transfer, a withdrawal cancels it. The other way, a lifecycle that ends before the
// switch (an owner's objection, the rules at the freeze, a cancellation) withdraws the offer
// (withdrawEnded, run by the peer-transfers job).
import { and, eq, inArray, isNotNull } from 'drizzle-orm';
import type { Tx } from '../db/index.js';
import type { Principal } from '../auth/principal.js';
import { approveIfComplete, findTransfer, transition } from '../transfers/service.js';
import { startNotice } from '../transfers/notice.js';
import { transferApprovals, transfers, type StoredDecision } from '../transfers/table.js';
import { FINAL_STATES } from '../transfers/lifecycle.js';
import { FEDERATION_ACTOR } from '../federation/peer-witnessing.js';
import { peerTransfers } from './table.js';
import type { PeerTransferDeps } from './deps.js';

async function lockedTransfer(tx: Tx, id: string) {
  const [t] = await tx.select().from(transfers).where(eq(transfers.id, id)).for('update');
  return t;
}

/** The target accepted (and the rules allow its cluster): its admin's approval; approved if the others gave theirs. */
export async function acceptedByTarget(tx: Tx, id: string): Promise<void> {
  const t = await lockedTransfer(tx, id);
  if (!t || t.state !== 'checked') return;
  const local = await tx.select({ role: transferApprovals.role }).from(transferApprovals).where(eq(transferApprovals.transferId, id));
  await approveIfComplete(tx, FEDERATION_ACTOR, t, local.length);
}

/** The transfer ends before anything moved: the target refused, the rules refused, or the source withdrew. */
export async function endLifecycle(tx: Tx, id: string, to: 'rejected' | 'cancelled', action: string, decision?: StoredDecision, actor: Principal = FEDERATION_ACTOR): Promise<void> {
  const t = await lockedTransfer(tx, id);
  // Already ended, or past the point where a withdrawal applies (frozen and later roll back instead).
  if (!t || FINAL_STATES.has(t.state) || !['draft', 'checked', 'approved', 'notice'].includes(t.state)) return;
  await transition(tx, actor, t, to, action, decision ? { decision } : {});
}

/**
 * Offers whose transfer ended at the source before the switch (an owner objected, the rules refused
 * at the freeze, an operator cancelled or the execution rolled back): the ids to withdraw, so the
 * target forgets them and removes what it pulled.
 */
export async function endedBeforeSwitch(d: PeerTransferDeps, limit = 20): Promise<string[]> {
  const rows = await d.db
    .select({ id: peerTransfers.id })
    .from(peerTransfers)
    .innerJoin(transfers, eq(transfers.id, peerTransfers.id))
    .where(and(eq(peerTransfers.side, 'source'), inArray(peerTransfers.state, ['offering', 'offered', 'accepted', 'packaged']), inArray(transfers.state, ['rejected', 'cancelled', 'rolled_back'])))
    .limit(limit);
  return rows.map((r) => r.id);
}

/**
 * Approved by all three (the target's acceptance may have been the last): the members' notice starts,
 * as the approval route starts it for a local transfer. Also run by the peer-transfers job, so a
 * process stopped between the acceptance and the notice starts it on the next run.
 */
export async function startNoticeIfApproved(d: PeerTransferDeps, id?: string): Promise<void> {
  const ids = id
    ? [id]
    : (await d.db.select({ id: transfers.id }).from(transfers).where(and(isNotNull(transfers.peer), eq(transfers.state, 'approved'))).limit(20)).map((r) => r.id);
  for (const one of ids) {
    const t = await findTransfer(d.db, one);
    if (t?.state === 'approved' && t.peer) await startNotice(d.db, FEDERATION_ACTOR, t, d.publicUrl, d.transfer.now?.() ?? new Date(), d.box);
  }
}
