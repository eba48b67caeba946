// What /me shows a member beyond their claims: each tenancy they belong to
// (by name, with its co-op), a summary of its rooms and recordings from the
// inventory, a transfer of it that is under way (with the date it takes
// effect) and the member's own exports. Every tenancy and transfer shown is
// one the policies let the member read (tenancy.read, transfer.read).
import { and, count, desc, eq, inArray, notInArray } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import type { Guard } from '../authz/guard.js';
import { tenancyRef, transferRef } from '../authz/guard.js';
import type { Principal } from '../auth/principal.js';
import { memberships } from '../accounts/table.js';
import { tenancies } from '../tenancies/table.js';
import { coops } from '../coops/table.js';
import { recordings, rooms } from '../inventory/table.js';
import { transfers } from '../transfers/table.js';
import { FINAL_STATES } from '../transfers/lifecycle.js';
import { freezeNotBefore, noticeReach } from '../transfers/notice-delivery.js';
import { memberExportsOf } from '../transfers/member-export.js';
import { describeTarget } from '../transfers/target.js';

/** How many rooms and recordings a tenancy lists by name on /me. */
export const LATEST = 3;

export interface TenancyOverview {
  id: string;
  name: string;
  slug: string;
  role: string;
  coop: string;
  rooms: { count: number; latest: Array<{ name: string; meetingId: string; lastUsed: Date }> };
  recordings: { count: number; latest: Array<{ name: string; startTime: Date | null; playback: string | null }> };
  transfer?: { id: string; state: string; target: string; takesEffect: Date | null };
}

export interface MeOverview {
  tenancies: TenancyOverview[];
  exports: Array<{ id: string; transferId: string; sha256: string; createdAt: Date }>;
}

export async function meOverview(db: Db, guard: Guard, p: Principal): Promise<MeOverview> {
  const mine = await db
    .select({ id: tenancies.id, name: tenancies.name, slug: tenancies.slug, coopId: tenancies.coopId, clusterId: tenancies.clusterId, role: memberships.role, coop: coops.name })
    .from(memberships)
    .innerJoin(tenancies, eq(tenancies.id, memberships.tenancyId))
    .innerJoin(coops, eq(coops.id, tenancies.coopId))
    .where(eq(memberships.accountId, p.accountId))
    .orderBy(tenancies.name);
  const out: TenancyOverview[] = [];
  for (const t of mine) {
    if (!(await guard.canRead(p, 'tenancy.read', tenancyRef(t)))) continue;
    const [[roomCount], latestRooms, [recCount], latestRecs, [open]] = await Promise.all([
      db.select({ n: count() }).from(rooms).where(eq(rooms.tenancyId, t.id)),
      db.select({ name: rooms.name, meetingId: rooms.meetingId, lastCreatedAt: rooms.lastCreatedAt, firstSeenAt: rooms.firstSeenAt }).from(rooms).where(eq(rooms.tenancyId, t.id)).orderBy(desc(rooms.lastCreatedAt), desc(rooms.firstSeenAt)).limit(LATEST),
      db.select({ n: count() }).from(recordings).where(eq(recordings.tenancyId, t.id)),
      db.select({ name: recordings.name, startTime: recordings.startTime, published: recordings.published, formats: recordings.formats }).from(recordings).where(eq(recordings.tenancyId, t.id)).orderBy(desc(recordings.startTime)).limit(LATEST),
      db.select().from(transfers).where(and(eq(transfers.tenancyId, t.id), notInArray(transfers.state, [...FINAL_STATES]))).limit(1),
    ]);
    let transfer: TenancyOverview['transfer'];
    if (open && (await guard.canRead(p, 'transfer.read', transferRef(open)))) {
      const target = await describeTarget(db, open);
      transfer = { id: open.id, state: open.state, target: target?.name ?? '', takesEffect: freezeNotBefore(open, open.state === 'notice' ? await noticeReach(db, open) : undefined) };
    }
    out.push({
      id: t.id,
      name: t.name,
      slug: t.slug,
      role: t.role,
      coop: t.coop,
      rooms: { count: roomCount?.n ?? 0, latest: latestRooms.map((r) => ({ name: r.name || r.meetingId, meetingId: r.meetingId, lastUsed: r.lastCreatedAt ?? r.firstSeenAt })) },
      // Only a published recording has a playback link a member may follow.
      recordings: { count: recCount?.n ?? 0, latest: latestRecs.map((r) => ({ name: r.name, startTime: r.startTime, playback: r.published ? (r.formats[0]?.url ?? null) : null })) },
      ...(transfer ? { transfer } : {}),
    });
  }
  const exports = (await memberExportsOf(db, p.accountId)).reverse();
  return { tenancies: out, exports };
}
