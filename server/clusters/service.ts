// BBB clusters a co-op runs. The API secret is sealed with the master key on
// the way in and only opened by code that talks to the cluster.
import { and, asc, eq, getTableColumns, gt, inArray, or, sql } from 'drizzle-orm';
import { rowsOf, type Db, type Executor } from '../db/index.js';
import { uuidv7 } from '../ids.js';
import { appendAudit, type AuditValue } from '../audit/trail.js';
import type { Principal } from '../auth/principal.js';
import type { SecretBox } from '../crypto/secretbox.js';
import { problems } from '../http/problem.js';
import { mapUniqueViolation, pgConstraint, pgErrorCode, UNIQUE_VIOLATION } from '../db/errors.js';
import { UUID_RE } from '../ids.js';
import { clusters } from './table.js';

export type ClusterRow = typeof clusters.$inferSelect;
/** A cluster as the rest of the program sees it: the sealed secret is left out. */
export type Cluster = Omit<ClusterRow, 'secretSealed'>;
export type ChecksumAlgorithm = ClusterRow['checksumAlgorithm'];
export type ClusterState = ClusterRow['state'];

export interface ClusterInput {
  coopId: string;
  /** URL-safe, unique on the instance; absent: derived from the name (see slugFromName). */
  slug?: string;
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

export const secretLabel = (id: string) => `cluster-secret:${id}`;

const { secretSealed: _sealed, ...publicColumns } = getTableColumns(clusters);

function auditView(c: Cluster): Record<string, AuditValue> {
  return {
    coop: c.coopId,
    slug: c.slug,
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

/** The cluster by id or slug. */
export async function findCluster(db: Executor, idOrSlug: string): Promise<Cluster | undefined> {
  const where = UUID_RE.test(idOrSlug) ? eq(clusters.id, idOrSlug) : eq(clusters.slug, idOrSlug);
  const [row] = await db.select(publicColumns).from(clusters).where(where).limit(1);
  return row;
}

/**
 * The slug a name gives (the same rule as the cluster_slugs migration): lower
 * case, every run of other characters one hyphen, at most 50 characters,
 * "cluster" when nothing is left.
 */
export function slugFromName(name: string): string {
  const base = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50).replace(/^-+|-+$/g, '');
  return base || 'cluster';
}

/** slugFromName, or when that is taken the first free of base-2 … base-99, else base-<8 hex of the id>. */
async function freeSlug(db: Executor, name: string, id: string): Promise<string> {
  const base = slugFromName(name);
  const taken = new Set(
    (await db.select({ s: clusters.slug }).from(clusters).where(or(eq(clusters.slug, base), sql`${clusters.slug} like ${`${base}-%`}`))).map((r) => r.s),
  );
  if (!taken.has(base)) return base;
  for (let n = 2; n < 100; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
  return `${base}-${id.slice(-8)}`;
}

const isSlugViolation = (e: unknown) => pgErrorCode(e) === UNIQUE_VIOLATION && pgConstraint(e) === 'clusters_slug_unique';

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
  const { secret, slug, ...rest } = input;
  return mapUniqueViolation(
    () => slugConflict(slug, () =>
    db.transaction(async (tx) => {
      const [row] = await tx
        .insert(clusters)
        .values({ id, ...rest, slug: slug ?? (await freeSlug(tx, input.name, id)), secretSealed: box.seal(secret, secretLabel(id)) })
        .returning(publicColumns);
      await appendAudit(tx, { actor, action: 'cluster.create', subject: { type: 'cluster', id }, after: auditView(row!) });
      return row!;
    })),
    () => problems.conflict('name-taken', `the co-op already has a cluster named "${input.name}"`),
  );
}

/** A unique violation on the slug is a slug conflict, not a name conflict (the name's mapping comes after). */
async function slugConflict<T>(slug: string | undefined, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (isSlugViolation(e)) throw problems.conflict('slug-taken', slug ? `a cluster with slug "${slug}" already exists` : 'the derived slug was taken meanwhile; try again or give --slug');
    throw e;
  }
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
    () => slugConflict(patch.slug, () =>
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
    })),
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

