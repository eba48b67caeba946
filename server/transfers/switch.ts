// The switch: in one transaction the tenancy, its recordings inventory and the
// member accounts that belong to it alone move to the target co-op and
// cluster. Members who objected stay out: their membership ends here, their
// account stays with the source co-op, and they get an Art. 20 export instead.
// What moved beyond the tenancy's row is recorded on the transfer (`switched`), so
// a failure after the switch can move everything back (`unswitchTenancy`).
import { and, count, eq, inArray, isNotNull, notInArray, sql } from 'drizzle-orm';
import type { Tx } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Principal } from '../auth/principal.js';
import { accounts, memberships } from '../accounts/table.js';
import { endSessions } from '../accounts/sessions.js';
import { grants } from '../grants/table.js';
import { tenancies } from '../tenancies/table.js';
import { recordings } from '../inventory/table.js';
import { createMemberExport } from './member-export.js';
import { transferObjections, transfers, type SwitchRecord } from './table.js';
import { localTarget } from './target.js';

export interface SwitchOutcome {
  membershipsLeftOut: number;
  exports: number;
  accountsMoved: number;
  /** Recordings the inventory saw on a former cluster; the rest move with the tenancy row. */
  recordingsFromFormerClusters: number;
}

/**
 * Members who objected stay out of the move: each gets an Art. 20 export of what the tenancy held of
 * them, and their membership ends. Returns whose, with the roles they had (to give back on a roll back).
 */
export async function leaveOutObjectors(tx: Tx, ctx: { box: SecretBox; actor: Principal; publicUrl: string; now: Date }, t: typeof transfers.$inferSelect) {
  const leftOut = await tx
    .select({ accountId: transferObjections.accountId, role: memberships.role })
    .from(transferObjections)
    .innerJoin(memberships, and(eq(memberships.accountId, transferObjections.accountId), eq(memberships.tenancyId, t.tenancyId)))
    .where(and(eq(transferObjections.transferId, t.id), eq(transferObjections.kind, 'member')));
  const objectors = leftOut.map((o) => o.accountId);
  for (const id of objectors) await createMemberExport(tx, ctx, t, id);
  if (objectors.length) await tx.delete(memberships).where(and(eq(memberships.tenancyId, t.tenancyId), inArray(memberships.accountId, objectors)));
  return leftOut;
}

export async function switchTenancy(
  tx: Tx,
  ctx: { box: SecretBox; actor: Principal; publicUrl: string; now: Date },
  t: typeof transfers.$inferSelect,
): Promise<SwitchOutcome> {
  const leftOut = await leaveOutObjectors(tx, ctx, t);
  const objectors = leftOut.map((o) => o.accountId);

  // An account moves with the tenancy when the source co-op holds it for this
  // tenancy only: no other membership, no standing role beyond this tenancy.
  const moved = await tx
    .update(accounts)
    .set({ coopId: localTarget(t).coopId })
    .where(
      and(
        eq(accounts.coopId, t.sourceCoopId),
        eq(accounts.platformAdmin, false),
        sql`${accounts.id} in (select ${memberships.accountId} from ${memberships} where ${memberships.tenancyId} = ${t.tenancyId})`,
        sql`not exists (select 1 from ${memberships} m2 where m2.account_id = ${accounts.id} and m2.tenancy_id <> ${t.tenancyId})`,
        sql`not exists (select 1 from ${grants} g where g.account_id = ${accounts.id} and g.revoked_at is null and not (g.scope_type = 'tenancy' and g.scope_id = ${t.tenancyId}))`,
        objectors.length ? notInArray(accounts.id, objectors) : sql`true`,
      ),
    )
    .returning({ id: accounts.id });
  // A moved account changed co-op: its sessions and sign-on grants end.
  await endSessions(tx, moved.map((m) => m.id));
  // Recordings at the tenancy's current cluster (cluster_id null) move with the tenancy row below,
  // however many there are. Rows naming a former cluster of the co-op are stale: the copy stopped
  // if any such cluster still held one (inventory/left-behind.ts); they count as moved like the rest.
  const elsewhere = and(eq(recordings.tenancyId, t.tenancyId), isNotNull(recordings.clusterId));
  const [{ n: recordingsFromFormerClusters } = { n: 0 }] = await tx.select({ n: count() }).from(recordings).where(elsewhere);
  if (recordingsFromFormerClusters > 0) await tx.update(recordings).set({ clusterId: null }).where(elsewhere);
  // A Greenlight front end is its co-op's: at the target the tenancy names the one its rooms move to, if the transfer named one.
  const [{ greenlightId } = { greenlightId: null }] = await tx.select({ greenlightId: tenancies.greenlightId }).from(tenancies).where(eq(tenancies.id, t.tenancyId));
  const target = localTarget(t);
  await tx.update(tenancies).set({ coopId: target.coopId, clusterId: target.clusterId, greenlightId: t.targetGreenlightId ?? null, updatedAt: ctx.now }).where(eq(tenancies.id, t.tenancyId));
  const switched: SwitchRecord = { accountsMoved: moved.map((m) => m.id), membershipsLeftOut: leftOut, greenlightId };
  await tx.update(transfers).set({ switched }).where(eq(transfers.id, t.id));
  return { membershipsLeftOut: objectors.length, exports: objectors.length, accountsMoved: moved.length, recordingsFromFormerClusters };
}

export interface UnswitchOutcome {
  accountsMovedBack: number;
  membershipsGivenBack: number;
}

/**
 * Undoes the switch, in the caller's transaction: the tenancy goes back to the
 * source co-op and cluster, active; the accounts that moved go home again, the
 * members who objected get their memberships back, and the inventory names the
 * source cluster again. For a failure after the switch, when the source still
 * holds everything (nothing is deleted there before the target is verified).
 */
export async function unswitchTenancy(tx: Tx, t: typeof transfers.$inferSelect, now: Date): Promise<UnswitchOutcome> {
  const sw = t.switched ?? { accountsMoved: [], membershipsLeftOut: [] };
  const back = sw.accountsMoved.length
    ? await tx
        .update(accounts)
        .set({ coopId: t.sourceCoopId })
        .where(and(inArray(accounts.id, sw.accountsMoved), eq(accounts.coopId, localTarget(t).coopId)))
        .returning({ id: accounts.id })
    : [];
  // Moved back, they changed co-op again: their sessions end as at the switch.
  await endSessions(tx, back.map((b) => b.id));
  const given = sw.membershipsLeftOut.length
    ? await tx
        .insert(memberships)
        .values(sw.membershipsLeftOut.map((m) => ({ tenancyId: t.tenancyId, accountId: m.accountId, role: m.role })))
        .onConflictDoNothing()
        .returning({ id: memberships.accountId })
    : [];
  // The recordings (cluster_id null since the switch) go back with the tenancy row: the source still holds them.
  await tx.update(tenancies).set({ coopId: t.sourceCoopId, clusterId: t.sourceClusterId, greenlightId: sw.greenlightId ?? null, state: 'active', updatedAt: now }).where(eq(tenancies.id, t.tenancyId));
  await tx.update(transfers).set({ switched: null }).where(eq(transfers.id, t.id));
  return { accountsMovedBack: back.length, membershipsGivenBack: given.length };
}
