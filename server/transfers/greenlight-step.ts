// The transfer's Greenlight part, in the transfer's terms: who the tenancy's
// people are for the inventory (its members, less those who objected), and the
// import step that runs after the recordings are verified at the target and
// before the completion (server/greenlight/transfer-move.ts does the work).
// A failure there leaves the tenancy active at the target (its recordings are
// whole) and the transfer failed for an operator's retry, which resumes the
// import from its ledger.
import { eq } from 'drizzle-orm';
import type { Executor } from '../db/index.js';
import { accounts, memberships } from '../accounts/table.js';
import { GreenlightMoveError, importMove, type MovePeople } from '../greenlight/transfer-move.js';
import type { GreenlightMove } from '../greenlight/table.js';
import { transferObjections, transfers } from './table.js';
import type { Transfer } from './service.js';
import { StepFailure, SYSTEM, type ExecutionDeps } from './step-kit.js';

/** The tenancy's members and the transfer's objectors, by e-mail, as the Greenlight inventory selects people. */
export async function greenlightPeople(db: Executor, t: Pick<Transfer, 'id' | 'tenancyId'>): Promise<MovePeople> {
  const members = await db
    .select({ accountId: accounts.id, email: accounts.email })
    .from(memberships)
    .innerJoin(accounts, eq(accounts.id, memberships.accountId))
    .where(eq(memberships.tenancyId, t.tenancyId));
  const objectors = await db
    .select({ accountId: accounts.id, email: accounts.email })
    .from(transferObjections)
    .innerJoin(accounts, eq(accounts.id, transferObjections.accountId))
    .where(eq(transferObjections.transferId, t.id));
  // Objectors' memberships end at the switch; they are still the tenancy's people to leave out.
  const all = new Map([...members, ...objectors].map((m) => [m.accountId, m]));
  return { members: [...all.values()], objectorEmails: objectors.map((o) => o.email), objectorIds: objectors.map((o) => o.accountId), tenancyId: t.tenancyId };
}

/** Moves the members' Greenlight rooms, when the transfer names both front ends; a no-op otherwise. */
export async function moveGreenlight(deps: ExecutionDeps, t: Transfer): Promise<GreenlightMove | undefined> {
  if (!t.sourceGreenlightId || !t.targetGreenlightId) return undefined;
  let move: GreenlightMove;
  try {
    move = await importMove(
      { db: deps.db, box: deps.box, outbound: deps.outbound, actor: SYSTEM },
      t.id,
      { sourceGreenlightId: t.sourceGreenlightId, targetGreenlightId: t.targetGreenlightId },
      await greenlightPeople(deps.db, t),
    );
  } catch (err) {
    if (!(err instanceof GreenlightMoveError)) throw err;
    throw new StepFailure(err.step, err.message, { filesVerified: true, cause: err });
  }
  await deps.db.update(transfers).set({ greenlight: move }).where(eq(transfers.id, t.id));
  return move;
}
