// What this instance still owes its peers, when it is due: an offer, an answer, a manifest or a
// verification not yet taken (sent again), a package still to pull (pulled, resuming), and the
// target's part of a receipt (its checkpoint cosigned, the summary signed). Run by
// the background job on one process at a time.
import { and, asc, eq, isNotNull, lte } from 'drizzle-orm';
import { ProblemError } from '../http/problem.js';
import { FEDERATION_ACTOR } from '../federation/peer-witnessing.js';
import { endedBeforeSwitch, startNoticeIfApproved } from './lifecycle-link.js';
import { cancelPeerTransfer } from './cancel.js';
import { peerTransfers } from './table.js';
import { deliverOffer } from './outgoing.js';
import { deliverOutgoing } from './outbox.js';
import { pullTransfer } from './pull.js';
import { owesTargetSignature, signAtTarget } from './receipt.js';
import type { PeerTransferDeps } from './deps.js';

/** `signal`: the job's lease was lost or the worker stops: a pull stops where it is (it resumes later). */
export async function deliverDueMessages(d: PeerTransferDeps, limit = 20, signal?: AbortSignal): Promise<number> {
  const now = d.transfer.now?.() ?? new Date();
  const due = await d.db
    .select()
    .from(peerTransfers)
    .where(and(isNotNull(peerTransfers.nextAttemptAt), lte(peerTransfers.nextAttemptAt, now)))
    .orderBy(asc(peerTransfers.nextAttemptAt))
    .limit(limit);
  // Transfers the lifecycle ended before the switch (an owner objected, the rules refused at the freeze):
  // their offers are withdrawn, so the target forgets them and removes what it pulled.
  for (const id of await endedBeforeSwitch(d)) {
    const [row] = await d.db.select().from(peerTransfers).where(eq(peerTransfers.id, id));
    if (row) await cancelPeerTransfer(d, FEDERATION_ACTOR, row, 'the transfer ended at the source before the switch').catch((err: unknown) => {
      if (!(err instanceof ProblemError)) throw err; // changed meanwhile: the next run looks again
    });
  }
  // Approved by the target's acceptance in a process stopped before the notice started: start it now.
  await startNoticeIfApproved(d);
  for (const row of due) {
    if (signal?.aborted) break;
    if (row.side === 'source' && row.state === 'offering') await deliverOffer(d, row);
    else if (row.side === 'target' && row.state === 'pulling') await pullTransfer(d, row, signal);
    else if (owesTargetSignature(row)) await signAtTarget(d, row);
    else if (row.outgoingJwt) await deliverOutgoing(d, row);
    else if (row.side === 'target' && row.answerJwt) await deliverOutgoing(d, row, row.answerJwt);
  }
  return due.length;
}
