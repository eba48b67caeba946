// Creating, reading and listing hand-over plans. A plan names the source and
// target co-op, the source clusters it covers (all of them by default) with a
// mode each, the timeline, and the waves its data-move tenancies go in; it is
// refused whole (every issue listed) when the timeline breaks the notice rule
// or a target cluster lacks room. Audited as one entry with the whole plan.
import { checkGreenlightMap } from '../greenlight/transfer-move.js';
import { and, asc, eq, inArray, isNotNull, notInArray, sql } from 'drizzle-orm';
import type { Db, Executor, Tx } from '../db/index.js';
import { uuidv7 } from '../ids.js';
import { appendAudit, type AuditValue } from '../audit/trail.js';
import type { Principal } from '../auth/principal.js';
import { problems } from '../http/problem.js';
import { findCoop } from '../coops/service.js';
import { clusters } from '../clusters/table.js';
import { clusterHealth } from '../clusters/health-table.js';
import { tenancies } from '../tenancies/table.js';
import { rooms } from '../inventory/table.js';
import { handoverClusters, handovers, handoverTenancies, handoverWaves } from './table.js';
import { spreadOverWaves, timelineIssues, type WavePlan } from './timeline.js';
import { placeClusters, type TargetCluster } from './placement.js';
import { canMove } from './lifecycle.js';

export type Handover = typeof handovers.$inferSelect;
export type HandoverTenancy = typeof handoverTenancies.$inferSelect;

export interface PlanInput {
  name: string;
  sourceCoopId: string;
  targetCoopId: string;
  /** Source clusters the plan covers, with their mode; absent: every cluster of the source co-op, data-move. */
  clusters?: Array<{ clusterId: string; mode: 'data-move' | 'custody'; targetClusterId?: string }>;
  noticeDays: number;
  announceAt: Date;
  waves: Array<WavePlan & { tenancyIds?: string[] }>;
  cutoverAt: Date;
  decommissionAt: Date;
  agreement?: { sha256: string; signedOn: string } | null;
  /** automatic (default): waves run on their own while their window is open; by-hand: only when an admin runs them. */
  runWaves?: 'automatic' | 'by-hand';
  /** Where members' Greenlight rooms go: a source Greenlight (slug or id) to a target one, or null to leave them. */
  greenlights?: Array<{ source: string; target: string | null }>;
}

/** A tenancy's demand on a cluster: participants in its meetings at the last poll, at least one. */
async function demandOf(db: Executor, tenancyIds: string[]): Promise<Map<string, number>> {
  const out = new Map(tenancyIds.map((id) => [id, 1]));
  if (!tenancyIds.length) return out;
  const rows = await db
    .select({ tenancyId: rooms.tenancyId, n: sql<number>`coalesce(sum(${rooms.participants}), 0)::int` })
    .from(rooms)
    .where(and(inArray(rooms.tenancyId, tenancyIds), sql`${rooms.endedAt} is null`))
    .groupBy(rooms.tenancyId);
  for (const r of rows) out.set(r.tenancyId, Math.max(1, Number(r.n)));
  return out;
}

async function targetClusters(db: Executor, coopId: string): Promise<TargetCluster[]> {
  const rows = await db
    .select({ id: clusters.id, capacity: clusters.capacity, state: clusters.state, load: clusterHealth.load, polled: clusterHealth.lastSuccessAt })
    .from(clusters)
    .leftJoin(clusterHealth, eq(clusterHealth.clusterId, clusters.id))
    .where(eq(clusters.coopId, coopId))
    .orderBy(asc(clusters.id));
  return rows.map((r) => ({ id: r.id, capacity: r.capacity, state: r.state, load: r.polled ? (r.load ?? 0) : null }));
}

export async function createPlan(db: Db, actor: Principal, input: PlanInput, opts: { now: Date; minNoticeDays: number }): Promise<Handover> {
  const issues: Array<{ path: string; message: string }> = [];
  const target = await findCoop(db, input.targetCoopId);
  if (!target) throw problems.validation([{ path: 'targetCoop', message: 'no such co-op' }]);
  if (target.id === input.sourceCoopId) throw problems.validation([{ path: 'targetCoop', message: 'a co-op cannot hand its platform to itself' }]);
  issues.push(...timelineIssues(input, opts));

  const own = await db.select({ id: clusters.id }).from(clusters).where(eq(clusters.coopId, input.sourceCoopId)).orderBy(asc(clusters.id));
  const chosen: NonNullable<PlanInput['clusters']> = input.clusters ?? own.map((c) => ({ clusterId: c.id, mode: 'data-move' as const }));
  chosen.forEach((c, i) => {
    if (!own.some((o) => o.id === c.clusterId)) issues.push({ path: `clusters.${i}.cluster`, message: 'no such cluster in the source co-op' });
    if (c.mode === 'custody' && c.targetClusterId) issues.push({ path: `clusters.${i}.targetCluster`, message: 'a custody cluster keeps its tenancies: it has no target cluster' });
  });
  if (new Set(chosen.map((c) => c.clusterId)).size !== chosen.length) issues.push({ path: 'clusters', message: 'a cluster is named twice' });
  if (!chosen.length) issues.push({ path: 'clusters', message: 'the source co-op has no cluster to hand over' });
  // One open plan per cluster: two would each make transfers for the same tenancies.
  const covered = chosen.length
    ? await db
        .select({ clusterId: handoverClusters.clusterId, handoverId: handovers.id, name: handovers.name, state: handovers.state })
        .from(handoverClusters)
        .innerJoin(handovers, eq(handovers.id, handoverClusters.handoverId))
        .where(and(inArray(handoverClusters.clusterId, chosen.map((c) => c.clusterId)), notInArray(handovers.state, ['completed', 'cancelled'])))
    : [];
  chosen.forEach((c, i) => {
    const other = covered.find((o) => o.clusterId === c.clusterId);
    if (other) issues.push({ path: `clusters.${i}.cluster`, message: `cluster ${c.clusterId} is already in the ${other.state} hand-over "${other.name}" (${other.handoverId}): complete or cancel it first` });
  });
  if (issues.length) throw problems.validation(issues);

  const scoped = await db
    .select({ id: tenancies.id, clusterId: tenancies.clusterId, state: tenancies.state, greenlightId: tenancies.greenlightId })
    .from(tenancies)
    .where(and(eq(tenancies.coopId, input.sourceCoopId), inArray(tenancies.clusterId, chosen.map((c) => c.clusterId))))
    .orderBy(asc(tenancies.id));
  // A tenancy moved to another instance is no longer this co-op's to hand over.
  const live = scoped.filter((t) => t.state !== 'archived' && t.state !== 'moved');
  const modeOf = new Map(chosen.map((c) => [c.clusterId, c.mode]));
  const moving = live.filter((t) => modeOf.get(t.clusterId) === 'data-move');
  const demand = await demandOf(db, moving.map((t) => t.id));

  // Waves: tenancies the plan puts in a wave go there.
  const waveOf = new Map<string, number>();
  input.waves.forEach((w, i) =>
    (w.tenancyIds ?? []).forEach((id, j) => {
      if (!moving.some((t) => t.id === id)) issues.push({ path: `waves.${i}.tenancies.${j}`, message: 'not a tenancy of a data-move cluster of the plan' });
      else if (waveOf.has(id)) issues.push({ path: `waves.${i}.tenancies.${j}`, message: 'already in another wave' });
      else waveOf.set(id, i + 1);
    }),
  );
  // The others fill the waves the plan left open (every wave, when it listed tenancies for all).
  const open = input.waves.flatMap((w, i) => (w.tenancyIds ? [] : [i + 1]));
  const fill = open.length ? open : input.waves.map((_, i) => i + 1);
  spreadOverWaves(moving.filter((t) => !waveOf.has(t.id)), fill.length).forEach((set, i) => set.forEach((t) => waveOf.set(t.id, fill[i]!)));

  const sources = chosen
    .filter((c) => c.mode === 'data-move')
    .map((c) => ({
      clusterId: c.clusterId,
      demand: moving.filter((t) => t.clusterId === c.clusterId).reduce((n, t) => n + demand.get(t.id)!, 0),
      ...(c.targetClusterId ? { targetClusterId: c.targetClusterId } : {}),
    }));
  const { placed, issues: roomIssues } = placeClusters(sources, await targetClusters(db, target.id));
  roomIssues.forEach((message) => issues.push({ path: 'clusters', message }));
  const greenlights = await checkGreenlightMap(
    db,
    { sourceCoopId: input.sourceCoopId, targetCoopId: target.id },
    input.greenlights ?? [],
    moving.flatMap((t) => (t.greenlightId ? [t.greenlightId] : [])),
  );
  issues.push(...greenlights.issues);
  if (issues.length) throw problems.validation(issues);

  return db.transaction(async (tx) => {
    const id = uuidv7();
    const [row] = await tx
      .insert(handovers)
      .values({
        id,
        name: input.name,
        sourceCoopId: input.sourceCoopId,
        targetCoopId: target.id,
        noticeDays: input.noticeDays,
        announceAt: input.announceAt,
        cutoverAt: input.cutoverAt,
        decommissionAt: input.decommissionAt,
        agreementSha256: input.agreement?.sha256 ?? null,
        agreementSignedOn: input.agreement?.signedOn ?? null,
        runWaves: input.runWaves ?? 'automatic',
        greenlights: greenlights.map,
        createdBy: actor.accountId,
      })
      .returning();
    await tx.insert(handoverClusters).values(
      chosen.map((c) => {
        const p = placed.find((x) => x.clusterId === c.clusterId);
        return {
          handoverId: id,
          clusterId: c.clusterId,
          mode: c.mode,
          targetClusterId: p?.targetClusterId ?? null,
          placement: p ? { basis: p.basis, note: p.note, demand: p.demand, targetCapacity: p.targetCapacity, targetLoad: p.targetLoad } : null,
        };
      }),
    );
    await tx.insert(handoverWaves).values(input.waves.map((w, i) => ({ handoverId: id, n: i + 1, freezeFrom: w.freezeFrom, freezeUntil: w.freezeUntil, concurrency: w.concurrency })));
    // Inserted in slices: a platform has hundreds of tenancies and a statement has a parameter limit.
    const rows = live.map((t) => ({
      handoverId: id,
      tenancyId: t.id,
      clusterId: t.clusterId,
      wave: modeOf.get(t.clusterId) === 'data-move' ? waveOf.get(t.id)! : 0,
      state: modeOf.get(t.clusterId) === 'custody' ? ('custody' as const) : ('planned' as const),
    }));
    for (let i = 0; i < rows.length; i += 1000) await tx.insert(handoverTenancies).values(rows.slice(i, i + 1000));
    await appendAudit(tx, {
      actor,
      action: 'handover.create',
      subject: { type: 'handover', id },
      after: {
        sourceCoop: input.sourceCoopId,
        targetCoop: target.id,
        noticeDays: input.noticeDays,
        announceAt: input.announceAt.toISOString(),
        cutoverAt: input.cutoverAt.toISOString(),
        decommissionAt: input.decommissionAt.toISOString(),
        runWaves: input.runWaves ?? 'automatic',
        ...(greenlights.map.length ? { greenlights: greenlights.map.map((m) => ({ source: m.sourceId, target: m.targetId })) } : {}),
        clusters: chosen.map((c) => ({ cluster: c.clusterId, mode: c.mode, target: placed.find((p) => p.clusterId === c.clusterId)?.targetClusterId ?? null })) as AuditValue,
        waves: input.waves.map((w, i) => ({
          wave: i + 1,
          freezeFrom: w.freezeFrom.toISOString(),
          freezeUntil: w.freezeUntil.toISOString(),
          concurrency: w.concurrency,
          tenancies: rows.filter((r) => r.wave === i + 1).length,
        })) as AuditValue,
        tenancies: rows.length,
      },
      ...(input.agreement ? { evidence: { 'processing-agreement': input.agreement.sha256 } } : {}),
    });
    return row!;
  });
}

export async function findHandover(db: Executor, id: string): Promise<Handover | undefined> {
  const [row] = await db.select().from(handovers).where(eq(handovers.id, id)).limit(1);
  return row;
}

export async function listHandovers(db: Executor, opts: { limit: number; after?: string }): Promise<Handover[]> {
  return db
    .select()
    .from(handovers)
    .where(opts.after ? sql`${handovers.id} > ${opts.after}` : undefined)
    .orderBy(asc(handovers.id))
    .limit(opts.limit + 1);
}

export async function planParts(db: Executor, id: string) {
  const [cl, waves, ts] = await Promise.all([
    db.select().from(handoverClusters).where(eq(handoverClusters.handoverId, id)).orderBy(asc(handoverClusters.clusterId)),
    db.select().from(handoverWaves).where(eq(handoverWaves.handoverId, id)).orderBy(asc(handoverWaves.n)),
    db.select().from(handoverTenancies).where(eq(handoverTenancies.handoverId, id)).orderBy(asc(handoverTenancies.wave), asc(handoverTenancies.tenancyId)),
  ]);
  return { clusters: cl, waves, tenancies: ts };
}

/** The hand-over a transfer was created for, if any (owners answer on their transfer). */
export async function handoverOfTransfer(db: Executor, transferId: string): Promise<HandoverTenancy | undefined> {
  const [row] = await db.select().from(handoverTenancies).where(and(eq(handoverTenancies.transferId, transferId), isNotNull(handoverTenancies.transferId))).limit(1);
  return row;
}

/** Moves the plan's state (checked against its version) and audits it, in the caller's transaction. */
export async function moveHandover(
  tx: Tx,
  actor: Principal,
  h: Handover,
  to: Handover['state'],
  action: string,
  extra: { set?: Partial<Handover>; details?: Record<string, AuditValue> } = {},
): Promise<Handover> {
  if (!canMove(h.state, to)) throw problems.conflict('handover-state', `a ${h.state} hand-over cannot become ${to}`);
  const [row] = await tx
    .update(handovers)
    .set({ ...extra.set, state: to, version: h.version + 1, updatedAt: new Date() })
    .where(and(eq(handovers.id, h.id), eq(handovers.version, h.version)))
    .returning();
  if (!row) throw problems.preconditionFailed('(changed meanwhile)');
  await appendAudit(tx, { actor, action, subject: { type: 'handover', id: h.id }, before: { state: h.state }, after: { state: to }, ...(extra.details ? { details: extra.details } : {}) });
  return row;
}

/** Whether the waves run on their own in their windows or only by hand; audited, checked against the plan's version. */
export async function setRunWaves(db: Db, actor: Principal, h: Handover, mode: Handover['runWaves']): Promise<Handover> {
  if (!['draft', 'approved', 'running'].includes(h.state)) throw problems.conflict('handover-state', `a ${h.state} hand-over runs no more waves`);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(handovers)
      .set({ runWaves: mode, version: h.version + 1, updatedAt: new Date() })
      .where(and(eq(handovers.id, h.id), eq(handovers.version, h.version)))
      .returning();
    if (!row) throw problems.preconditionFailed('(changed meanwhile)');
    await appendAudit(tx, { actor, action: 'handover.run-waves', subject: { type: 'handover', id: h.id }, before: { runWaves: h.runWaves }, after: { runWaves: mode } });
    return row;
  });
}
