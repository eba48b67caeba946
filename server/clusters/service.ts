// BBB clusters a co-op runs. The API secret is sealed with the master key on
// the way in and only opened by code that talks to the cluster.
import { and, asc, eq, getTableColumns, gt, inArray, or, sql } from 'drizzle-orm';
import { rowsOf, type Db, type Executor } from '../db/index.js';
import { uuidv7 } from '../ids.js';
import { appendAudit, type AuditValue } from '../audit/trail.js';
import type { Principal } from '../auth/principal.js';
import type { SecretBox } from '../crypto/secretbox.js';
import { problems } from '../http/problem.js';
import { mapUniqueViolation } from '../db/errors.js';
import { clusters } from './table.js';

export type ClusterRow = typeof clusters.$inferSelect;
/** A cluster as the rest of the program sees it: the sealed secret is left out. */
export type Cluster = Omit<ClusterRow, 'secretSealed'>;
export type ChecksumAlgorithm = ClusterRow['checksumAlgorithm'];
export type ClusterState = ClusterRow['state'];

export interface ClusterInput {
  coopId: string;
  name: string;
  apiUrl: string;
  secret: string;
  checksumAlgorithm: ChecksumAlgorithm;
  country: string;
  capacity: number;
  state: ClusterState;
  /** host names (host[:port]) its recordings are played from; empty: the API URL's host */
  playbackHosts?: string[];
}
export type ClusterPatch = Partial<Omit<ClusterInput, 'coopId'>>;

const secretLabel = (id: string) => `cluster-secret:${id}`;

const { secretSealed: _sealed, ...publicColumns } = getTableColumns(clusters);

function auditView(c: Cluster): Record<string, AuditValue> {
  return {
    coop: c.coopId,
    name: c.name,
    apiUrl: c.apiUrl,
    playbackHosts: c.playbackHosts,
    checksumAlgorithm: c.checksumAlgorithm,
    country: c.country,
    capacity: c.capacity,
    state: c.state,
    version: c.version,
  };
}

/**
 * The host names the cluster's recordings are played from: those configured,
 * or else the API URL's host (host[:port], lower case).
 */
export function playbackHostsOf(c: Pick<Cluster, 'apiUrl' | 'playbackHosts'>): string[] {
  return c.playbackHosts.length ? c.playbackHosts : [new URL(c.apiUrl).host];
}

export async function findCluster(db: Executor, id: string): Promise<Cluster | undefined> {
  const [row] = await db.select(publicColumns).from(clusters).where(eq(clusters.id, id)).limit(1);
  return row;
}

/** The cluster's API secret in clear, for the BBB client only. */
export async function openClusterSecret(db: Executor, box: SecretBox, id: string): Promise<string> {
  const [row] = await db.select({ s: clusters.secretSealed }).from(clusters).where(eq(clusters.id, id)).limit(1);
  if (!row) throw problems.notFound('cluster');
  return box.open(row.s, secretLabel(id));
}

export async function listClusters(
  db: Db,
  opts: { coopId?: string | null; within?: { coopIds: string[]; clusterIds: string[] }; after?: string; limit: number },
): Promise<Cluster[]> {
  const conds = [];
  if (opts.coopId !== undefined) conds.push(opts.coopId === null ? sql`false` : eq(clusters.coopId, opts.coopId));
  if (opts.within) {
    const { coopIds, clusterIds } = opts.within;
    const any = [...(coopIds.length ? [inArray(clusters.coopId, coopIds)] : []), ...(clusterIds.length ? [inArray(clusters.id, clusterIds)] : [])];
    conds.push(any.length ? or(...any)! : sql`false`);
  }
  if (opts.after) conds.push(gt(clusters.id, opts.after));
  return db.select(publicColumns).from(clusters).where(and(...conds)).orderBy(asc(clusters.id)).limit(opts.limit + 1);
}

export async function createCluster(db: Db, box: SecretBox, actor: Principal, input: ClusterInput): Promise<Cluster> {
  const id = uuidv7();
  const { secret, ...rest } = input;
  return mapUniqueViolation(
    () =>
    db.transaction(async (tx) => {
      const [row] = await tx
        .insert(clusters)
        .values({ id, ...rest, secretSealed: box.seal(secret, secretLabel(id)) })
        .returning(publicColumns);
      await appendAudit(tx, { actor, action: 'cluster.create', subject: { type: 'cluster', id }, after: auditView(row!) });
      return row!;
    }),
    () => problems.conflict('name-taken', `the co-op already has a cluster named "${input.name}"`),
  );
}

export async function updateCluster(
  db: Db,
  box: SecretBox,
  actor: Principal,
  current: Cluster,
  patch: ClusterPatch,
): Promise<Cluster> {
  const { secret, ...rest } = patch;
  return mapUniqueViolation(
    () =>
    db.transaction(async (tx) => {
      const [row] = await tx
        .update(clusters)
        .set({
          ...rest,
          ...(secret !== undefined ? { secretSealed: box.seal(secret, secretLabel(current.id)) } : {}),
          version: current.version + 1,
          updatedAt: new Date(),
        })
        .where(and(eq(clusters.id, current.id), eq(clusters.version, current.version)))
        .returning(publicColumns);
      if (!row) throw problems.preconditionFailed('(changed meanwhile)');
      await appendAudit(tx, {
        actor,
        action: 'cluster.update',
        subject: { type: 'cluster', id: row.id },
        before: auditView(current),
        after: auditView(row),
        details: { secretRotated: secret !== undefined },
      });
      return row;
    }),
    () => problems.conflict('name-taken', `the co-op already has a cluster named "${patch.name}"`),
  );
}

export async function deleteCluster(db: Db, actor: Principal, current: Cluster): Promise<void> {
  await db.transaction(async (tx) => {
    const [refs] = rowsOf<{ n: number }>(await tx.execute(sql`select count(*)::int as n from tenancies where cluster_id = ${current.id}`));
    if (Number(refs?.n ?? 0) > 0) throw problems.conflict('cluster-in-use', 'tenancies are still hosted on this cluster; move them first');
    const deleted = await tx
      .delete(clusters)
      .where(and(eq(clusters.id, current.id), eq(clusters.version, current.version)))
      .returning({ id: clusters.id });
    if (deleted.length === 0) throw problems.preconditionFailed('(changed meanwhile)');
    await appendAudit(tx, { actor, action: 'cluster.delete', subject: { type: 'cluster', id: current.id }, before: auditView(current), after: null });
  });
}

