// Tenancies: one member organisation's presence, hosted by one co-op on one of
// its clusters. Each has its own BBB secret for the gateway, sealed at rest and
// shown only when created or rotated.
import { randomBytes } from 'node:crypto';
import { and, asc, eq, gt, inArray, or, sql } from 'drizzle-orm';
import { getTableColumns } from 'drizzle-orm';
import type { Db, Executor } from '../db/index.js';
import { uuidv7, UUID_RE } from '../ids.js';
import { appendAudit, type AuditValue } from '../audit/trail.js';
import type { Principal } from '../auth/principal.js';
import type { SecretBox } from '../crypto/secretbox.js';
import { problems } from '../http/problem.js';
import { mapUniqueViolation } from '../db/errors.js';
import { findCluster } from '../clusters/service.js';
import { recordingsStayOnMove } from '../inventory/cluster-move.js';
import { findFrontend } from '../greenlight/frontends.js';
import { tenancies, type Residency } from './table.js';

export type { Residency };
type TenancyRow = typeof tenancies.$inferSelect;
export type Tenancy = Omit<TenancyRow, 'bbbSecretSealed'>;
export type TenancyState = TenancyRow['state'];

export interface TenancyInput {
  slug: string;
  name: string;
  coopId: string;
  clusterId: string;
  residency: Residency;
  retentionDays: number;
  language?: TenancyLanguage | null;
  /** The Greenlight front end its members use: one of its co-op's (id or slug), or null. */
  greenlightId?: string | null;
}
export type TenancyLanguage = NonNullable<TenancyRow['language']>;
export type TenancyPatch = Partial<Pick<TenancyInput, 'name' | 'clusterId' | 'residency' | 'retentionDays' | 'language' | 'greenlightId'>> & {
  state?: 'active' | 'archived';
};

const { bbbSecretSealed: _sealed, ...publicColumns } = getTableColumns(tenancies);
export const secretLabel = (id: string) => `tenancy-bbb-secret:${id}`;

/** 48 hex characters, like the secrets `bbb-conf --secret` prints. */
function newBbbSecret(): string {
  return randomBytes(24).toString('hex');
}

function auditView(t: Tenancy): Record<string, AuditValue> {
  return {
    slug: t.slug,
    name: t.name,
    coop: t.coopId,
    cluster: t.clusterId,
    residency: t.residency as unknown as AuditValue,
    retentionDays: t.retentionDays,
    language: t.language,
    greenlight: t.greenlightId,
    state: t.state,
    version: t.version,
  };
}

// Built once per database handle or transaction: every read of a tenancy by the API runs one
// (query building was the largest part of such a read's own CPU).
const lookups = new WeakMap<Executor, ReturnType<typeof prepareLookups>>();
const prepareLookups = (db: Executor) => ({
  byId: db.select(publicColumns).from(tenancies).where(eq(tenancies.id, sql.placeholder('ref'))).limit(1).prepare('tenancy_by_id'),
  bySlug: db.select(publicColumns).from(tenancies).where(eq(tenancies.slug, sql.placeholder('ref'))).limit(1).prepare('tenancy_by_slug'),
});

export async function findTenancy(db: Executor, idOrSlug: string): Promise<Tenancy | undefined> {
  let q = lookups.get(db);
  if (!q) lookups.set(db, (q = prepareLookups(db)));
  const [row] = await (UUID_RE.test(idOrSlug) ? q.byId : q.bySlug).execute({ ref: idOrSlug });
  return row;
}

export async function openTenancySecret(db: Executor, box: SecretBox, id: string): Promise<string> {
  const [row] = await db.select({ s: tenancies.bbbSecretSealed }).from(tenancies).where(eq(tenancies.id, id)).limit(1);
  if (!row) throw problems.notFound('tenancy');
  return box.open(row.s, secretLabel(id));
}

export async function listTenancies(
  db: Db,
  opts: {
    coopId?: string | null;
    clusterId?: string;
    /** Coarse pre-filter: tenancies of these co-ops, on these clusters, or these tenancies. */
    within?: { coopIds: string[]; clusterIds: string[]; tenancyIds: string[] };
    after?: string;
    limit: number;
  },
): Promise<Tenancy[]> {
  const conds = [];
  if (opts.coopId !== undefined) conds.push(opts.coopId === null ? sql`false` : eq(tenancies.coopId, opts.coopId));
  if (opts.within) {
    const { coopIds, clusterIds, tenancyIds } = opts.within;
    const any = [
      ...(coopIds.length ? [inArray(tenancies.coopId, coopIds)] : []),
      ...(clusterIds.length ? [inArray(tenancies.clusterId, clusterIds)] : []),
      ...(tenancyIds.length ? [inArray(tenancies.id, tenancyIds)] : []),
    ];
    conds.push(any.length ? or(...any)! : sql`false`);
  }
  if (opts.clusterId) conds.push(eq(tenancies.clusterId, opts.clusterId));
  if (opts.after) conds.push(gt(tenancies.id, opts.after));
  return db.select(publicColumns).from(tenancies).where(and(...conds)).orderBy(asc(tenancies.id)).limit(opts.limit + 1);
}

/** A tenancy's Greenlight (by id or slug) must be one of its host co-op's; its id. */
async function ensureGreenlightOfCoop(db: Executor, greenlight: string, coopId: string): Promise<string> {
  const frontend = await findFrontend(db, coopId, greenlight);
  if (!frontend) throw problems.validation([{ path: 'greenlight', message: "no such Greenlight of the host co-op (name it first: PUT /coops/{id}/greenlights/{slug})" }]);
  return frontend.id;
}

/** A tenancy's cluster (by id or slug) must belong to its host co-op; its id. */
async function ensureClusterOfCoop(db: Executor, clusterId: string, coopId: string): Promise<string> {
  const cluster = await findCluster(db, clusterId);
  if (!cluster || cluster.coopId !== coopId)
    throw problems.validation([{ path: 'cluster', message: 'no such cluster in the host co-op' }]);
  return cluster.id;
}

export async function createTenancy(
  db: Db,
  box: SecretBox,
  actor: Principal,
  input: TenancyInput,
): Promise<{ tenancy: Tenancy; bbbSecret: string }> {
  input = { ...input, clusterId: await ensureClusterOfCoop(db, input.clusterId, input.coopId) };
  if (input.greenlightId) input = { ...input, greenlightId: await ensureGreenlightOfCoop(db, input.greenlightId, input.coopId) };
  const id = uuidv7();
  const bbbSecret = newBbbSecret();
  const tenancy = await mapUniqueViolation(
    () =>
    db.transaction(async (tx) => {
      const [row] = await tx
        .insert(tenancies)
        .values({ id, ...input, bbbSecretSealed: box.seal(bbbSecret, secretLabel(id)) })
        .returning(publicColumns);
      await appendAudit(tx, { actor, action: 'tenancy.create', subject: { type: 'tenancy', id }, after: auditView(row!) });
      return row!;
    }),
    () => problems.conflict('slug-taken', `a tenancy with slug "${input.slug}" already exists`),
  );
  return { tenancy, bbbSecret };
}

export async function updateTenancy(db: Db, actor: Principal, current: Tenancy, patch: TenancyPatch): Promise<Tenancy> {
  if (patch.clusterId && patch.clusterId !== current.clusterId) patch = { ...patch, clusterId: await ensureClusterOfCoop(db, patch.clusterId, current.coopId) };
  if (patch.greenlightId) patch = { ...patch, greenlightId: await ensureGreenlightOfCoop(db, patch.greenlightId, current.coopId) };
  if (patch.state && (current.state === 'frozen' || current.state === 'transferring'))
    throw problems.conflict('tenancy-in-transfer', `the tenancy is ${current.state} by a transfer; its state changes with the transfer`);
  // Moved to another instance: it can only be archived here (which ends any forwarding), never served again.
  if (patch.state && patch.state !== 'archived' && current.state === 'moved')
    throw problems.conflict('tenancy-moved', 'the tenancy has moved to another instance: it can only be archived here');
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(tenancies)
      .set({ ...patch, version: current.version + 1, updatedAt: new Date() })
      .where(and(eq(tenancies.id, current.id), eq(tenancies.version, current.version)))
      .returning(publicColumns);
    if (!row) throw problems.preconditionFailed('(changed meanwhile)');
    const moved = row.clusterId !== current.clusterId;
    const left = moved ? await recordingsStayOnMove(tx, row.id, current.clusterId, row.clusterId) : 0;
    await appendAudit(tx, {
      actor,
      action: 'tenancy.update',
      subject: { type: 'tenancy', id: row.id },
      before: auditView(current),
      after: auditView(row),
      ...(left > 0 ? { details: { recordingsLeftOn: { cluster: current.clusterId, count: left } } } : {}),
    });
    return row;
  });
}

export async function rotateTenancySecret(
  db: Db,
  box: SecretBox,
  actor: Principal,
  current: Tenancy,
): Promise<{ tenancy: Tenancy; bbbSecret: string }> {
  const bbbSecret = newBbbSecret();
  const tenancy = await db.transaction(async (tx) => {
    const [row] = await tx
      .update(tenancies)
      .set({ bbbSecretSealed: box.seal(bbbSecret, secretLabel(current.id)), version: current.version + 1, updatedAt: new Date() })
      .where(and(eq(tenancies.id, current.id), eq(tenancies.version, current.version)))
      .returning(publicColumns);
    if (!row) throw problems.preconditionFailed('(changed meanwhile)');
    await appendAudit(tx, { actor, action: 'tenancy.rotate-secret', subject: { type: 'tenancy', id: row.id }, details: { version: row.version } });
    return row;
  });
  return { tenancy, bbbSecret };
}

/** Only an archived tenancy may be deleted: nothing live is lost by a slip. */
export async function deleteTenancy(db: Db, actor: Principal, current: Tenancy): Promise<void> {
  if (current.state !== 'archived')
    throw problems.conflict('tenancy-not-archived', 'archive the tenancy first (PATCH state=archived); only archived tenancies can be deleted');
  await db.transaction(async (tx) => {
    await tx.execute(sql`delete from memberships where tenancy_id = ${current.id}`);
    const deleted = await tx
      .delete(tenancies)
      .where(and(eq(tenancies.id, current.id), eq(tenancies.version, current.version)))
      .returning({ id: tenancies.id });
    if (deleted.length === 0) throw problems.preconditionFailed('(changed meanwhile)');
    await appendAudit(tx, { actor, action: 'tenancy.delete', subject: { type: 'tenancy', id: current.id }, before: auditView(current), after: null });
  });
}

