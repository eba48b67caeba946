// The messages this instance still owes its peers (an offer not yet taken, an answer not yet
// delivered), sent again when their retry is due. Run by the background job on one process at a time.
import { and, asc, isNotNull, lte } from 'drizzle-orm';
import { peerTransfers } from './table.js';
import { deliverOffer } from './outgoing.js';
import { deliverAnswer } from './incoming.js';
import type { PeerTransferDeps } from './deps.js';

export async function deliverDueMessages(d: PeerTransferDeps, limit = 20): Promise<number> {
  const now = d.transfer.now?.() ?? new Date();
  const due = await d.db
    .select()
    .from(peerTransfers)
    .where(and(isNotNull(peerTransfers.nextAttemptAt), lte(peerTransfers.nextAttemptAt, now)))
    .orderBy(asc(peerTransfers.nextAttemptAt))
    .limit(limit);
  for (const row of due) {
    if (row.side === 'source' && row.state === 'offering') await deliverOffer(d, row);
    else if (row.side === 'target' && row.answerJwt) await deliverAnswer(d, row);
  }
  return due.length;
}
