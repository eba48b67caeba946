// Co-ops: the legal entities that host tenancies. Other modules call these
// functions, never the table.
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { rowsOf, type Db, type Executor } from '../db/index.js';
import { uuidv7, UUID_RE } from '../ids.js';
import { appendAudit, type AuditValue } from '../audit/trail.js';
import type { Principal } from '../auth/principal.js';
import { problems } from '../http/problem.js';
import { mapUniqueViolation } from '../db/errors.js';
import { coops } from './table.js';

export type Coop = typeof coops.$inferSelect;
export type LegalRegime = Coop['legalRegime'];
export interface CoopInput {
  slug: string;
  name: string;
  jurisdiction: string;
  contactEmail: string;
  legalRegime: LegalRegime;
  dpfListed?: boolean;
  pipedaSubject?: boolean;
}

/** What the audit trail keeps of a co-op: no contact address (it may name a person). */
function auditView(c: Coop): Record<string, AuditValue> {
  return { slug: c.slug, name: c.name, jurisdiction: c.jurisdiction, legalRegime: c.legalRegime, dpfListed: c.dpfListed, pipedaSubject: c.pipedaSubject, version: c.version };
}

export async function findCoop(db: Executor, idOrSlug: string): Promise<Coop | undefined> {
  const where = UUID_RE.test(idOrSlug) ? eq(coops.id, idOrSlug) : eq(coops.slug, idOrSlug);
  const [row] = await db.select().from(coops).where(where).limit(1);
  return row;
}

export async function listCoops(db: Db, opts: { after?: string; limit: number }): Promise<Coop[]> {
  const conds = [];
  if (opts.after) conds.push(gt(coops.id, opts.after));
  return db.select().from(coops).where(and(...conds)).orderBy(asc(coops.id)).limit(opts.limit + 1);
}

export async function createCoop(db: Db, actor: Principal, input: CoopInput): Promise<Coop> {
  return mapUniqueViolation(
    () =>
    db.transaction(async (tx) => {
      const [row] = await tx.insert(coops).values({ id: uuidv7(), ...input }).returning();
      await appendAudit(tx, { actor, action: 'coop.create', subject: { type: 'coop', id: row!.id }, after: auditView(row!) });
      return row!;
    }),
    () => problems.conflict('slug-taken', `a co-op with slug "${input.slug}" already exists`),
  );
}

export async function updateCoop(
  db: Db,
  actor: Principal,
  current: Coop,
  patch: Partial<Omit<CoopInput, 'slug'>>,
): Promise<Coop> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(coops)
      .set({ ...patch, version: current.version + 1, updatedAt: new Date() })
      .where(and(eq(coops.id, current.id), eq(coops.version, current.version)))
      .returning();
    if (!row) throw problems.preconditionFailed('(changed meanwhile)');
    await appendAudit(tx, {
      actor,
      action: 'coop.update',
      subject: { type: 'coop', id: row.id },
      before: auditView(current),
      after: auditView(row),
      details: { contactEmailChanged: patch.contactEmail !== undefined && patch.contactEmail !== current.contactEmail },
    });
    return row;
  });
}

export async function deleteCoop(db: Db, actor: Principal, current: Coop): Promise<void> {
  await db.transaction(async (tx) => {
    const [refs] = rowsOf<{ n: number }>(
      await tx.execute(
        sql`select (select count(*) from clusters where coop_id = ${current.id}) + (select count(*) from tenancies where coop_id = ${current.id}) + (select count(*) from accounts where coop_id = ${current.id}) as n`,
      ),
    );
    if (Number(refs?.n ?? 0) > 0) throw problems.conflict('coop-in-use', 'the co-op still has clusters, tenancies or accounts; move or delete them first');
    const deleted = await tx
      .delete(coops)
      .where(and(eq(coops.id, current.id), eq(coops.version, current.version)))
      .returning({ id: coops.id });
    if (deleted.length === 0) throw problems.preconditionFailed('(changed meanwhile)');
    await appendAudit(tx, { actor, action: 'coop.delete', subject: { type: 'coop', id: current.id }, before: auditView(current), after: null });
  });
}

/** Maps a unique-slug violation to 409; the slug is the only unique column. */
