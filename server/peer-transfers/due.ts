// What this instance still owes its peers, when it is due: an offer, an answer, a manifest or a
// verification not yet taken (sent again), and a package still to pull (pulled, resuming). Run by
// the background job on one process at a time.
import { and, asc, isNotNull, lte } from 'drizzle-orm';
import { peerTransfers } from './table.js';
import { deliverOffer } from './outgoing.js';
import { deliverOutgoing } from './outbox.js';
import { pullTransfer } from './pull.js';
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
  for (const row of due) {
    if (signal?.aborted) break;
    if (row.side === 'source' && row.state === 'offering') await deliverOffer(d, row);
    else if (row.side === 'target' && row.state === 'pulling') await pullTransfer(d, row, signal);
    else if (row.outgoingJwt) await deliverOutgoing(d, row);
    else if (row.side === 'target' && row.answerJwt) await deliverOutgoing(d, row, row.answerJwt);
  }
  return due.length;
}
