// A transfer to another instance completes only once the receipt both instances sign is stored here
// (execute.ts, completeAtPeer). A target that never sends its part (gone, or its operator never set up
// the witnessing) would keep the transfer `verifying` for ever, and the source's copies with it. The
// target verified every file before the switch, so once the receipt is overdue an operator may complete
// the transfer without it: `transfers resolve ID --roll-forward --reason TEXT`, decided by the policies
// as any resolution (transfer.resolve), audited with the reason and `receipt: missing`. A roll-back is
// not offered: since the switch the tenancy is served at the other instance.
import type { Principal } from '../auth/principal.js';
import { problems } from '../http/problem.js';
import { transition, type Transfer } from './service.js';
import type { ExecutionDeps } from './step-kit.js';

/** How long after the switch the receipt counts as overdue (the protocol retries for hours before that). */
export const RECEIPT_OVERDUE_MS = 24 * 3_600_000;

const conflict = (detail: string) => problems.conflict('transfer-state', detail);

/** Whether `t` is a transfer to another instance waiting for its receipt (the only wait after its switch). */
export const awaitsPeerReceipt = (t: Transfer) => t.peer !== null && t.state === 'verifying';

/** For a transfer awaiting its receipt: since when, from when it may be completed without it, and the command that does. */
export function receiptWait(t: Transfer): { awaitedSince: string; overdueAt: string; action: string } | null {
  if (!awaitsPeerReceipt(t)) return null;
  return {
    awaitedSince: t.stateSince.toISOString(),
    overdueAt: new Date(t.stateSince.getTime() + RECEIPT_OVERDUE_MS).toISOString(),
    action: `meetplane transfers resolve ${t.id} --roll-forward --reason TEXT   (complete it without the receipt, once it is overdue)`,
  };
}

export async function completeWithoutReceipt(
  deps: Pick<ExecutionDeps, 'db'>,
  actor: Principal,
  t: Transfer,
  input: { direction: 'roll-forward' | 'roll-back'; reason: string },
  now = new Date(),
): Promise<Transfer> {
  if (input.direction !== 'roll-forward') throw conflict(`the tenancy is served at ${t.peer} since the switch: a transfer to another instance cannot be rolled back`);
  const overdueAt = new Date(t.stateSince.getTime() + RECEIPT_OVERDUE_MS);
  if (now < overdueAt) throw conflict(`the receipt is not overdue: it is awaited from ${t.peer} since ${t.stateSince.toISOString()}; the transfer can be completed without it from ${overdueAt.toISOString()}`);
  return deps.db.transaction((tx) =>
    transition(tx, actor, t, 'completed', 'transfer.resolve', {
      details: { resolution: input.direction, reason: input.reason, receipt: 'missing', verifiedBy: t.peer!, awaitedSince: t.stateSince.toISOString() },
    }),
  );
}
