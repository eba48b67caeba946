// The rooms and recordings inventory of each tenancy. Recordings are read from the
// tenancy's cluster with getRecordings filtered by its meta tag, page by page, and
// stored; rooms are the meeting ids the tenancy created through the gateway (or
// that its recordings name). A refresh is audited with its counts.
import { and, asc, eq, exists, getTableColumns, gt, inArray, isNull, lt, ne, notInArray, or, sql } from 'drizzle-orm';
import type { Db, Executor } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import { uuidv7 } from '../ids.js';
import { appendAudit } from '../audit/trail.js';
import { LOCAL_OPERATOR, type Principal } from '../auth/principal.js';
import type { MeetingInfo, Recording, RecordingState } from '../bbb/client.js';
import { findCluster } from '../clusters/service.js';
import { clusterClient } from '../clusters/health.js';
import type { Outbound } from '../net/outbound.js';
import { findTenancy, type Tenancy } from '../tenancies/service.js';
import { problems } from '../http/problem.js';
import { clusters } from '../clusters/table.js';
import { recordings, rooms, type RecordingFormat } from './table.js';
import { tenancies } from '../tenancies/table.js';

/** The meta tag the gateway adds to every meeting a tenancy creates. */
export const TENANCY_META = 'meetplane-tenancy';
const PAGE = 100;
/** How long after a meeting ended on a cluster the inventory still looks there for its recordings (processing can take hours). */
const RECENT_MEETINGS_MS = 7 * 24 * 3600_000;
const STATES: readonly RecordingState[] = ['processing', 'processed', 'published', 'unpublished'];

export type Room = typeof rooms.$inferSelect;
export type StoredRecording = typeof recordings.$inferSelect;

export interface RefreshCounts {
  recordings: number;
  added: number;
  updated: number;
  removed: number;
  rooms: number;
}

// ---- rooms (the gateway's ownership rule) ----

/**
 * Claims a meeting id for a tenancy on create. Returns the room, or undefined when
 * another tenancy owns that meeting id.
 */
export async function claimRoom(
  db: Executor,
  input: { tenancyId: string; meetingId: string; name: string; clusterId: string; recordingReadyUrl: string | null },
): Promise<Room | undefined> {
  let q = claimPrepared.get(db);
  if (!q) claimPrepared.set(db, (q = prepareClaim(db)));
  const [row] = await q.execute({ id: uuidv7(), ...input });
  return row;
}

// Every gateway create claims its room: prepared once per database (building the upsert cost as much as running it).
const claimPrepared = new WeakMap<Executor, ReturnType<typeof prepareClaim>>();
function prepareClaim(db: Executor) {
  const p = (name: string) => sql.placeholder(name);
  return db
    .insert(rooms)
    .values({ id: p('id'), tenancyId: p('tenancyId'), meetingId: p('meetingId'), name: p('name'), clusterId: p('clusterId'), recordingReadyUrl: p('recordingReadyUrl'), lastCreatedAt: sql`now()` })
    .onConflictDoUpdate({
      target: rooms.meetingId,
      set: {
        name: sql`excluded.name`,
        clusterId: sql`excluded.cluster_id`,
        recordingReadyUrl: sql`excluded.recording_ready_url`,
        // A create (re)starts the meeting on that cluster, or joins the one still running there.
        endedAt: null,
        lastCreatedAt: sql`now()`,
        updatedAt: sql`now()`,
      },
      setWhere: sql`${rooms.tenancyId} = excluded.tenancy_id`,
    })
    .returning()
    .prepare('claim_room');
}

/** The tenancy's room with this meeting id, if it owns one. */
export async function ownedRoom(db: Executor, tenancyId: string, meetingId: string): Promise<Room | undefined> {
  const [row] = await db
    .select()
    .from(rooms)
    .where(and(eq(rooms.meetingId, meetingId), eq(rooms.tenancyId, tenancyId)))
    .limit(1);
  return row;
}

// The gateway asks this on every meeting call: prepared once per database.
const placementPrepared = new WeakMap<Db, ReturnType<typeof preparePlacement>>();
function preparePlacement(db: Db) {
  return db
    .select({ clusterId: rooms.clusterId, endedAt: rooms.endedAt })
    .from(rooms)
    .where(and(eq(rooms.meetingId, sql.placeholder('meetingId')), eq(rooms.tenancyId, sql.placeholder('tenancyId'))))
    .limit(1)
    .prepare('room_placement');
}

/** Where the tenancy's meeting was last created and whether it is known to have ended there; undefined when the tenancy does not own the id. */
export async function meetingPlacement(
  db: Db,
  tenancyId: string,
  meetingId: string,
): Promise<{ clusterId: string | null; endedAt: Date | null } | undefined> {
  let q = placementPrepared.get(db);
  if (!q) placementPrepared.set(db, (q = preparePlacement(db)));
  const [row] = await q.execute({ tenancyId, meetingId });
  return row;
}

/** The meeting is no longer on `clusterId` (ended through the gateway, or the cluster no longer knows it). */
export async function noteMeetingEnded(db: Executor, tenancyId: string, meetingId: string, clusterId: string): Promise<void> {
  await db
    .update(rooms)
    .set({ endedAt: sql`now()`, running: false, participants: 0, updatedAt: sql`now()` })
    .where(and(eq(rooms.meetingId, meetingId), eq(rooms.tenancyId, tenancyId), eq(rooms.clusterId, clusterId), isNull(rooms.endedAt)));
}

/**
 * Clusters of the current cluster's co-op, other than it, where the tenancy has meetings
 * not known to have ended: it moved (PATCH cluster) while they ran. Another co-op's
 * clusters never count: a transfer ends the meetings and leaves the source co-op for good.
 */
export async function clustersRunningMeetings(db: Executor, tenancyId: string, current: { id: string; coopId: string }): Promise<string[]> {
  let q = runningPrepared.get(db);
  if (!q) runningPrepared.set(db, (q = prepareRunning(db)));
  const rows = await q.execute({ tenancyId, currentId: current.id, coopId: current.coopId });
  return rows.map((r) => r.id).filter((id): id is string => id !== null);
}

// Asked on every gateway getMeetings and getRecordings: prepared once per database.
const runningPrepared = new WeakMap<Executor, ReturnType<typeof prepareRunning>>();
function prepareRunning(db: Executor) {
  return db
    .selectDistinct({ id: rooms.clusterId })
    .from(rooms)
    .innerJoin(clusters, eq(clusters.id, rooms.clusterId))
    .where(
      and(
        eq(rooms.tenancyId, sql.placeholder('tenancyId')),
        ne(rooms.clusterId, sql.placeholder('currentId')),
        isNull(rooms.endedAt),
        eq(clusters.coopId, sql.placeholder('coopId')),
      ),
    )
    .prepare('clusters_running_meetings');
}

const holdingPrepared = new WeakMap<Executor, ReturnType<typeof prepareHolding>>();
function prepareHolding(db: Executor) {
  // One index probe per cluster of the co-op (few), not a read of every recording of the tenancy.
  return db
    .select({ id: clusters.id })
    .from(clusters)
    .where(
      and(
        eq(clusters.coopId, sql.placeholder('coopId')),
        ne(clusters.id, sql.placeholder('currentId')),
        exists(db.select({ one: sql`1` }).from(recordings).where(and(eq(recordings.tenancyId, sql.placeholder('tenancyId')), eq(recordings.clusterId, clusters.id)))),
      ),
    )
    .prepare('clusters_holding_recordings');
}

/**
 * Clusters of the current cluster's co-op, other than it, that hold (or will soon hold) the
 * tenancy's recordings: where the inventory saw them, and where its meetings still run.
 * `endedSince` adds the clusters of meetings that ended since then (their recordings may
 * still be processing there): the inventory refresh asks those too, so it learns of them.
 */
export async function clustersHoldingRecordings(
  db: Executor,
  tenancyId: string,
  current: { id: string; coopId: string },
  opts: { endedSince?: Date } = {},
): Promise<string[]> {
  let inventoryQuery = holdingPrepared.get(db);
  if (!inventoryQuery) holdingPrepared.set(db, (inventoryQuery = prepareHolding(db)));
  const inInventory = await inventoryQuery.execute({ tenancyId, currentId: current.id, coopId: current.coopId });
  const meetingsThere = opts.endedSince
    ? await db
        .selectDistinct({ id: rooms.clusterId })
        .from(rooms)
        .innerJoin(clusters, eq(clusters.id, rooms.clusterId))
        .where(
          and(
            eq(rooms.tenancyId, tenancyId),
            ne(rooms.clusterId, current.id),
            eq(clusters.coopId, current.coopId),
            or(isNull(rooms.endedAt), gt(rooms.endedAt, opts.endedSince)),
          ),
        )
    : (await clustersRunningMeetings(db, tenancyId, current)).map((id) => ({ id }));
  const ids = [...inInventory, ...meetingsThere].map((r) => r.id).filter((id): id is string => id !== null);
  return [...new Set(ids)];
}

/** After a health poll: which of the cluster's rooms are running, and with how many people. */
export async function noteRunningMeetings(db: Executor, clusterId: string, meetings: readonly MeetingInfo[]): Promise<void> {
  const tagged = meetings.filter((m) => m.metadata[TENANCY_META]);
  for (const m of tagged) {
    await db
      .update(rooms)
      .set({ running: m.running, participants: m.participantCount, updatedAt: sql`now()` })
      .where(and(eq(rooms.meetingId, m.meetingID), eq(rooms.tenancyId, m.metadata[TENANCY_META]!)));
  }
  const ids = tagged.map((m) => m.meetingID);
  const unlisted = ids.length ? [notInArray(rooms.meetingId, ids)] : [];
  await db
    .update(rooms)
    .set({ running: false, participants: 0, updatedAt: sql`now()` })
    .where(and(eq(rooms.clusterId, clusterId), eq(rooms.running, true), ...unlisted));
  // Listed: the meeting lives on this cluster (again), whatever a failed check concluded.
  if (ids.length) {
    await db
      .update(rooms)
      .set({ endedAt: null, updatedAt: sql`now()` })
      .where(and(eq(rooms.clusterId, clusterId), inArray(rooms.meetingId, ids), sql`${rooms.endedAt} is not null`));
  }
  // Not listed: ended, unless its create may still have been on its way when the cluster
  // answered (claimed before forwarding, forwarded within the gateway's upstream timeout).
  await db
    .update(rooms)
    .set({ endedAt: sql`now()`, updatedAt: sql`now()` })
    .where(
      and(
        eq(rooms.clusterId, clusterId),
        isNull(rooms.endedAt),
        or(isNull(rooms.lastCreatedAt), lt(rooms.lastCreatedAt, sql`now() - interval '2 minutes'`)),
        ...unlisted,
      ),
    );
}

export async function listRooms(db: Db, tenancyId: string, opts: { after?: string; limit: number }): Promise<Room[]> {
  return db
    .select()
    .from(rooms)
    .where(and(eq(rooms.tenancyId, tenancyId), ...(opts.after ? [gt(rooms.id, opts.after)] : [])))
    .orderBy(asc(rooms.id))
    .limit(opts.limit + 1);
}

export async function listRecordings(db: Db, tenancyId: string, opts: { after?: string; limit: number }): Promise<StoredRecording[]> {
  return db
    .select({ ...getTableColumns(recordings), clusterId: sql<string | null>`coalesce(${recordings.clusterId}, (select ${tenancies.clusterId} from ${tenancies} where ${tenancies.id} = ${recordings.tenancyId}))` })
    .from(recordings)
    .where(and(eq(recordings.tenancyId, tenancyId), ...(opts.after ? [gt(recordings.id, opts.after)] : [])))
    .orderBy(asc(recordings.id))
    .limit(opts.limit + 1);
}

// ---- recordings inventory ----

/** Every recording of the tenancy on its cluster, paged with offset/limit. */
export async function fetchTenancyRecordings(
  db: Db,
  box: SecretBox,
  tenancy: Pick<Tenancy, 'id' | 'clusterId'>,
  opts: { outbound: Outbound; signal?: AbortSignal | undefined },
): Promise<Recording[]> {
  const cluster = await findCluster(db, tenancy.clusterId);
  if (!cluster) throw new Error('the tenancy has no cluster');
  const client = await clusterClient(db, box, cluster, { outbound: opts.outbound, signal: opts.signal, timeoutMs: 15_000 });
  const all: Recording[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await client.getRecordings({ meta: { [TENANCY_META]: tenancy.id }, state: STATES, offset, limit: PAGE });
    // A server that ignores the filter must not leak other tenancies' recordings.
    all.push(...page.filter((r) => r.metadata[TENANCY_META] === tenancy.id));
    if (page.length < PAGE) return all;
  }
}

const ms = (t: number) => (t > 0 ? new Date(t) : null);

/** `clusterId` null: at the tenancy's current cluster (see the recordings table). */
function toRow(tenancyId: string, clusterId: string | null, r: Recording) {
  const formats: RecordingFormat[] = r.playback.map((f) => ({ type: f.type, url: f.url, length: f.length, processingTime: f.processingTime }));
  return {
    tenancyId,
    clusterId,
    recordId: r.recordID,
    meetingId: r.meetingID,
    name: r.name,
    state: r.state,
    published: r.published,
    startTime: ms(r.startTime),
    endTime: ms(r.endTime),
    participants: r.participants,
    size: r.size,
    formats,
    metadata: r.metadata,
  };
}

// jsonb does not keep key order: compare with keys sorted.
const stable = (v: unknown): string =>
  Array.isArray(v)
    ? `[${v.map(stable).join(',')}]`
    : v !== null && typeof v === 'object'
      ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`).join(',')}}`
      : JSON.stringify(v ?? null);

/** What a refresh compares to decide that a recording changed. */
const fingerprint = (r: ReturnType<typeof toRow> | StoredRecording) =>
  stable([r.name, r.state, r.published, r.startTime?.getTime() ?? null, r.endTime?.getTime() ?? null, r.participants, r.size, r.formats, r.metadata]);

/**
 * Reads the tenancy's recordings from its cluster and stores them: new ones added,
 * changed ones updated, ones the cluster no longer lists removed. Audited with the
 * counts when `actor` asked for it, and for the periodic refresh when anything changed.
 */
export async function refreshInventory(
  db: Db,
  box: SecretBox,
  tenancyRef: string,
  opts: { outbound: Outbound; actor?: Principal; signal?: AbortSignal | undefined },
): Promise<RefreshCounts> {
  const tenancy = await findTenancy(db, tenancyRef);
  if (!tenancy) throw problems.notFound('tenancy');
  const current = await findCluster(db, tenancy.clusterId);
  if (!current) throw new Error('the tenancy has no cluster');
  // The current cluster first (its copy wins), then the co-op's other clusters that hold
  // the tenancy's recordings, or ran its meetings lately, since it moved. One of those not
  // answering keeps what the inventory knew of it; the current one not answering fails.
  const former = await clustersHoldingRecordings(db, tenancy.id, current, { endedSince: new Date(Date.now() - RECENT_MEETINGS_MS) });
  const answered = new Set<string>();
  const rows: Array<ReturnType<typeof toRow>> = [];
  const listedIds = new Set<string>();
  for (const clusterId of [current.id, ...former]) {
    let listed: Recording[];
    try {
      listed = await fetchTenancyRecordings(db, box, { id: tenancy.id, clusterId }, { outbound: opts.outbound, signal: opts.signal });
    } catch (err) {
      if (clusterId === current.id) throw err;
      continue;
    }
    answered.add(clusterId);
    for (const r of listed) {
      if (listedIds.has(r.recordID)) continue;
      listedIds.add(r.recordID);
      rows.push(toRow(tenancy.id, clusterId === current.id ? null : clusterId, r));
    }
  }
  return db.transaction(async (tx) => {
    const existing = await tx.select().from(recordings).where(eq(recordings.tenancyId, tenancy.id));
    const known = new Map(existing.map((e) => [e.recordId, e]));
    const seen = new Set(rows.map((r) => r.recordId));
    let added = 0;
    let updated = 0;
    for (const row of rows) {
      const prev = known.get(row.recordId);
      if (!prev) {
        await tx.insert(recordings).values({ id: uuidv7(), ...row });
        added++;
      } else if (fingerprint(prev) !== fingerprint(row) || prev.clusterId !== row.clusterId) {
        await tx.update(recordings).set({ ...row, lastSeenAt: sql`now()` }).where(eq(recordings.id, prev.id));
        updated++;
      } else {
        await tx.update(recordings).set({ lastSeenAt: sql`now()` }).where(eq(recordings.id, prev.id));
      }
    }
    // Only what a cluster that answered no longer lists: recordings on one that did not stay.
    const gone = existing.filter((e) => !seen.has(e.recordId) && answered.has(e.clusterId ?? current.id)).map((e) => e.id);
    if (gone.length) await tx.delete(recordings).where(inArray(recordings.id, gone));
    // The meetings the recordings name are the tenancy's rooms too (unless another tenancy owns the id).
    let newRooms = 0;
    const byMeeting = new Map(rows.map((r) => [r.meetingId, r]));
    for (const [meetingId, { name, clusterId }] of byMeeting) {
      // A recording is made once its meeting ended.
      const inserted = await tx
        .insert(rooms)
        .values({ id: uuidv7(), tenancyId: tenancy.id, meetingId, name, clusterId, endedAt: sql`now()` })
        .onConflictDoNothing()
        .returning({ id: rooms.id });
      newRooms += inserted.length;
    }
    const counts: RefreshCounts = { recordings: rows.length, added, updated, removed: gone.length, rooms: newRooms };
    if (opts.actor || added + updated + gone.length + newRooms > 0) {
      await appendAudit(tx, {
        actor: opts.actor ?? LOCAL_OPERATOR,
        action: 'tenancy.inventory-refresh',
        subject: { type: 'tenancy', id: tenancy.id },
        details: { ...counts, cluster: tenancy.clusterId, ...(former.length ? { formerClusters: former } : {}), ...(opts.actor ? {} : { by: 'inventory-job' }) },
      });
    }
    return counts;
  });
}

/** How much a tenancy holds: its rooms, its recordings and their bytes (as its servers report them). */
export async function tenancyTotals(db: Executor, tenancyId: string): Promise<{ rooms: number; recordings: number; recordingBytes: number }> {
  const [r] = await db.select({ n: sql<number>`count(*)::int` }).from(rooms).where(eq(rooms.tenancyId, tenancyId));
  const [rec] = await db
    .select({ n: sql<number>`count(*)::int`, bytes: sql<string>`coalesce(sum(${recordings.size}), 0)::text` })
    .from(recordings)
    .where(eq(recordings.tenancyId, tenancyId));
  return { rooms: r?.n ?? 0, recordings: rec?.n ?? 0, recordingBytes: Number(rec?.bytes ?? 0) };
}
