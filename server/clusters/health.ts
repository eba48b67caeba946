// Cluster health: one getMeetings per cluster and poll, as Scalelite's poller does.
// A cluster is online after one successful poll and offline after two failed ones
// in a row; only those transitions are audited, not every poll.
import { and, eq, getTableColumns, inArray, ne } from 'drizzle-orm';
import type { Db, Executor } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import { appendAudit } from '../audit/trail.js';
import { LOCAL_OPERATOR, type Principal } from '../auth/principal.js';
import { BbbClient, type MeetingInfo } from '../bbb/client.js';
import type { Outbound } from '../net/outbound.js';
import { clusters } from './table.js';
import { clusterHealth } from './health-table.js';
import { openClusterSecret, type Cluster } from './service.js';

export type ClusterHealth = typeof clusterHealth.$inferSelect;
export type HealthState = ClusterHealth['state'];

/** Failed polls in a row after which a cluster counts as offline. */
export const OFFLINE_AFTER_FAILURES = 2;
// Scalelite (LOAD_MIN_USER_COUNT, LOAD_JOIN_BUFFER_TIME): a meeting younger than
// 15 minutes weighs at least 15 users, since its participants are still arriving.
export const LOAD_MIN_USER_COUNT = 15;
export const LOAD_JOIN_BUFFER_MS = 15 * 60_000;

/** The background poller acts as the instance itself; entries say so in `details.by`. */
const POLLER: Principal = LOCAL_OPERATOR;

/**
 * Scalelite's load: for each meeting participantCount + moderatorCount (its formula,
 * which counts moderators twice), at least LOAD_MIN_USER_COUNT while the meeting is young.
 */
export function scaleliteLoad(meetings: readonly MeetingInfo[], now = Date.now()): number {
  let load = 0;
  for (const m of meetings) {
    const attendees = m.participantCount + m.moderatorCount;
    const young = Number(m.createTime) > now - LOAD_JOIN_BUFFER_MS;
    load += young ? Math.max(attendees, LOAD_MIN_USER_COUNT) : attendees;
  }
  return load;
}

export type Probe =
  | { ok: true; meetings: MeetingInfo[]; load: number; participants: number; latencyMs: number; bbbVersion: string | null; apiVersion: string | null }
  | { ok: false; error: string };

/** One poll: getMeetings (timed) and the API root for the version. */
export async function probe(client: BbbClient): Promise<Probe> {
  const started = performance.now();
  let meetings: MeetingInfo[];
  try {
    meetings = await client.getMeetings();
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  const latencyMs = Math.round(performance.now() - started);
  // The version is informative: a server that lists meetings is up even if its root fails.
  const version = await client.version().catch(() => undefined);
  return {
    ok: true,
    meetings,
    load: scaleliteLoad(meetings),
    participants: meetings.reduce((n, m) => n + m.participantCount, 0),
    latencyMs,
    bbbVersion: version?.bbbVersion ?? null,
    apiVersion: version?.apiVersion ?? version?.version ?? null,
  };
}

/** Stores a poll's outcome and audits an online↔offline transition, in one transaction. */
export async function recordProbe(db: Db, clusterId: string, result: Probe): Promise<ClusterHealth> {
  return db.transaction(async (tx) => {
    await tx.insert(clusterHealth).values({ clusterId }).onConflictDoNothing();
    const [prev] = await tx.select().from(clusterHealth).where(eq(clusterHealth.clusterId, clusterId)).for('update');
    const failures = result.ok ? 0 : prev!.consecutiveFailures + 1;
    const state: HealthState = result.ok ? 'online' : failures >= OFFLINE_AFTER_FAILURES ? 'offline' : prev!.state;
    const now = new Date();
    const [row] = await tx
      .update(clusterHealth)
      .set({
        state,
        consecutiveFailures: failures,
        checkedAt: now,
        ...(result.ok
          ? {
              load: result.load,
              meetings: result.meetings.length,
              participants: result.participants,
              latencyMs: result.latencyMs,
              bbbVersion: result.bbbVersion,
              apiVersion: result.apiVersion,
              lastError: null,
              lastSuccessAt: now,
            }
          : { lastError: result.error.slice(0, 300) }),
        ...(state !== prev!.state ? { stateChangedAt: now } : {}),
      })
      .where(eq(clusterHealth.clusterId, clusterId))
      .returning();
    // The first verdict on a new cluster is not a transition; online↔offline is.
    if (prev!.state !== 'unknown' && state !== prev!.state) {
      await appendAudit(tx, {
        actor: POLLER,
        action: 'cluster.health',
        subject: { type: 'cluster', id: clusterId },
        before: { state: prev!.state },
        after: { state },
        details: { by: 'health-poller', consecutiveFailures: failures, ...(result.ok ? {} : { error: result.error.slice(0, 200) }) },
      });
    }
    return row!;
  });
}

export interface PollOutcome {
  cluster: Cluster;
  health: ClusterHealth;
  meetings: MeetingInfo[] | undefined;
}

/** Polls every cluster that is not disabled, a few at a time. */
export async function pollClusters(
  db: Db,
  box: SecretBox,
  opts: { outbound: Outbound; signal?: AbortSignal | undefined; timeoutMs?: number; only?: string; concurrency?: number },
): Promise<PollOutcome[]> {
  const { secretSealed: _s, ...cols } = getTableColumns(clusters);
  const conds = [ne(clusters.state, 'disabled')];
  if (opts.only) conds.push(eq(clusters.id, opts.only));
  const list: Cluster[] = await db.select(cols).from(clusters).where(and(...conds));
  const out: PollOutcome[] = [];
  const queue = [...list];
  const worker = async () => {
    for (let cluster = queue.shift(); cluster; cluster = queue.shift()) {
      if (opts.signal?.aborted) return;
      const client = await clusterClient(db, box, cluster, { outbound: opts.outbound, timeoutMs: opts.timeoutMs ?? 5_000, retries: 0, signal: opts.signal });
      const result = await probe(client);
      if (opts.signal?.aborted) return; // stopping: an aborted poll says nothing about the cluster
      out.push({ cluster, health: await recordProbe(db, cluster.id, result), meetings: result.ok ? result.meetings : undefined });
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 8, list.length) }, worker));
  return out;
}

/**
 * A BBB client for a cluster, with its secret opened, calling through the
 * instance's outbound policy; an optional signal cuts calls short.
 */
export async function clusterClient(
  db: Executor,
  box: SecretBox,
  cluster: Pick<Cluster, 'id' | 'apiUrl' | 'checksumAlgorithm'>,
  opts: { outbound: Outbound; timeoutMs?: number; retries?: number; signal?: AbortSignal | undefined },
): Promise<BbbClient> {
  const { signal, outbound } = opts;
  return new BbbClient({
    apiUrl: cluster.apiUrl,
    secret: await openClusterSecret(db, box, cluster.id),
    algorithm: cluster.checksumAlgorithm,
    timeoutMs: opts.timeoutMs ?? 10_000,
    retries: opts.retries ?? 2,
    fetch: signal ? (url, init) => outbound.fetch(url, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal }) : outbound.fetch,
  });
}

export async function findHealth(db: Executor, clusterId: string): Promise<ClusterHealth | undefined> {
  const [row] = await db.select().from(clusterHealth).where(eq(clusterHealth.clusterId, clusterId)).limit(1);
  return row;
}

export async function healthOf(db: Executor, clusterIds: readonly string[]): Promise<Map<string, ClusterHealth>> {
  if (clusterIds.length === 0) return new Map();
  const rows = await db.select().from(clusterHealth).where(inArray(clusterHealth.clusterId, [...clusterIds]));
  return new Map(rows.map((r) => [r.clusterId, r]));
}

