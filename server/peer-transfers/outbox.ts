// A message a transfer owes the other instance after the offer (the answer, the manifest, the
// verification), delivered now and retried with backoff until taken. A 4xx refusal stops the
// retries (the other side will not take it later either); its words stay in lastError.
import { eq } from 'drizzle-orm';
import { ProblemError } from '../http/problem.js';
import { resolvePeer } from './peer.js';
import { postMessage, retryDelayMs, type Delivery } from './delivery.js';
import { peerTransfers } from './table.js';
import { renewCopy } from './outgoing.js';
import { federationSigningKey } from '../federation/keys.js';
import { freshCopy } from '../../federation/transfer-messages.js';
import type { PeerTransfer, PeerTransferDeps } from './deps.js';

/** Sends `jwt` (by default the row's outgoingJwt; the target's answer is kept in answerJwt). */
export async function deliverOutgoing(d: PeerTransferDeps, row: PeerTransfer, jwt = row.outgoingJwt): Promise<PeerTransfer> {
  if (!jwt) return row;
  const now = d.transfer.now?.() ?? new Date();
  // A copy that expired while the peer could not be reached is signed afresh (same claims).
  const fresh = await freshCopy(jwt, await federationSigningKey(d.db, d.box));
  if (fresh !== jwt) row = await renewCopy(d, row, jwt === row.answerJwt ? { answerJwt: fresh } : { outgoingJwt: fresh });
  jwt = fresh;
  let outcome: Delivery;
  try {
    outcome = await postMessage(d.outbound, await resolvePeer(d.db, d.resolver, row.peer), jwt);
  } catch (err) {
    if (!(err instanceof ProblemError)) throw err;
    outcome = { ok: false, retry: true, detail: err.message, policyIds: [] };
  }
  const attempts = row.attempts + 1;
  const [next] = await d.db
    .update(peerTransfers)
    .set(
      outcome.ok
        ? { attempts, nextAttemptAt: null, lastError: null, updatedAt: new Date() }
        : { attempts, nextAttemptAt: outcome.retry ? new Date(now.getTime() + retryDelayMs(attempts)) : null, lastError: outcome.detail, updatedAt: new Date() },
    )
    .where(eq(peerTransfers.id, row.id))
    .returning();
  return next ?? row;
}
