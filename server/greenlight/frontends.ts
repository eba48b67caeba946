// A co-op's Greenlight front ends: set (create or change), list, delete, and
// the two sealed secrets opened for the one step that needs each (reading a
// source Greenlight's database; encrypting what a target Greenlight receives).
// The secrets never leave in an answer, an audit entry or an error.
import { and, asc, eq, notInArray, or } from 'drizzle-orm';
import type { Db, Executor } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Principal } from '../auth/principal.js';
import { appendAudit, type AuditValue } from '../audit/trail.js';
import { problems } from '../http/problem.js';
import { UUID_RE, uuidv7 } from '../ids.js';
import { tenancies } from '../tenancies/table.js';
import { greenlightFrontends } from './table.js';
import { transfers } from '../transfers/table.js';

type Row = typeof greenlightFrontends.$inferSelect;
export type GreenlightFrontend = Omit<Row, 'databaseUrlSealed' | 'secretKeyBaseSealed'> & { hasDatabaseUrl: boolean; hasSecretKeyBase: boolean };

export const databaseUrlLabel = (id: string) => `greenlight-database-url:${id}`;
export const secretKeyBaseLabel = (id: string) => `greenlight-secret-key-base:${id}`;

/** What may be set; a secret left out stays as it is, null removes it. */
export interface FrontendInput {
  baseUrl: string;
  greenlightVersion: 'v3' | 'v2';
  provider: string;
  databaseUrl?: string | null;
  secretKeyBase?: string | null;
}

function visible(row: Row): GreenlightFrontend {
  const { databaseUrlSealed, secretKeyBaseSealed, ...rest } = row;
  return { ...rest, hasDatabaseUrl: databaseUrlSealed !== null, hasSecretKeyBase: secretKeyBaseSealed !== null };
}

function auditView(f: GreenlightFrontend): Record<string, AuditValue> {
  return { slug: f.slug, baseUrl: f.baseUrl, greenlightVersion: f.greenlightVersion, provider: f.provider, databaseUrl: f.hasDatabaseUrl, secretKeyBase: f.hasSecretKeyBase, version: f.version };
}

export async function listFrontends(db: Executor, coopId: string): Promise<GreenlightFrontend[]> {
  const rows = await db.select().from(greenlightFrontends).where(eq(greenlightFrontends.coopId, coopId)).orderBy(asc(greenlightFrontends.slug));
  return rows.map(visible);
}

/** A front end of the co-op, by slug or id. */
export async function findFrontend(db: Executor, coopId: string, slugOrId: string): Promise<GreenlightFrontend | undefined> {
  const which = UUID_RE.test(slugOrId) ? eq(greenlightFrontends.id, slugOrId.toLowerCase()) : eq(greenlightFrontends.slug, slugOrId);
  const [row] = await db.select().from(greenlightFrontends).where(and(eq(greenlightFrontends.coopId, coopId), which));
  return row && visible(row);
}

/** Creates the co-op's front end `slug`, or changes it (then `current` is what the caller's If-Match was checked against). */
export async function setFrontend(
  db: Db,
  box: SecretBox,
  actor: Principal,
  coopId: string,
  slug: string,
  input: FrontendInput,
  current?: GreenlightFrontend,
): Promise<{ frontend: GreenlightFrontend; created: boolean }> {
  const id = current?.id ?? uuidv7();
  const sealed = (value: string | null | undefined, label: string) => (value === undefined ? undefined : value === null ? null : box.seal(value, label));
  const secrets = {
    ...(input.databaseUrl !== undefined ? { databaseUrlSealed: sealed(input.databaseUrl, databaseUrlLabel(id)) } : {}),
    ...(input.secretKeyBase !== undefined ? { secretKeyBaseSealed: sealed(input.secretKeyBase, secretKeyBaseLabel(id)) } : {}),
  };
  const fields = { baseUrl: input.baseUrl, greenlightVersion: input.greenlightVersion, provider: input.provider };
  return db.transaction(async (tx) => {
    let row: Row | undefined;
    if (current) {
      [row] = await tx
        .update(greenlightFrontends)
        .set({ ...fields, ...secrets, version: current.version + 1, updatedAt: new Date() })
        .where(and(eq(greenlightFrontends.id, current.id), eq(greenlightFrontends.version, current.version)))
        .returning();
      if (!row) throw problems.preconditionFailed('(changed meanwhile)');
    } else {
      [row] = await tx
        .insert(greenlightFrontends)
        .values({ id, coopId, slug, ...fields, ...secrets })
        .onConflictDoNothing()
        .returning();
      if (!row) throw problems.conflict('slug-taken', `the co-op already has a Greenlight "${slug}": send its ETag as If-Match to change it`);
    }
    const after = visible(row);
    await appendAudit(tx, {
      actor,
      action: current ? 'greenlight.update' : 'greenlight.create',
      subject: { type: 'coop', id: coopId },
      ...(current ? { before: auditView(current) } : {}),
      after: auditView(after),
    });
    return { frontend: after, created: !current };
  });
}

/** Removes a front end no tenancy names any more. */
export async function deleteFrontend(db: Db, actor: Principal, coopId: string, current: GreenlightFrontend): Promise<void> {
  await db.transaction(async (tx) => {
    const [user] = await tx.select({ id: tenancies.id }).from(tenancies).where(eq(tenancies.greenlightId, current.id)).limit(1);
    if (user) throw problems.conflict('greenlight-in-use', 'tenancies still name this Greenlight: point them at another one (or none) first');
    const [moving] = await tx
      .select({ id: transfers.id })
      .from(transfers)
      .where(and(or(eq(transfers.sourceGreenlightId, current.id), eq(transfers.targetGreenlightId, current.id)), notInArray(transfers.state, ['completed', 'rejected', 'cancelled', 'rolled_back'])))
      .limit(1);
    if (moving) throw problems.conflict('greenlight-in-use', 'a transfer moves rooms from or to this Greenlight and has not ended (a failed one waits for retry or resolve): let it end first');
    const gone = await tx
      .delete(greenlightFrontends)
      .where(and(eq(greenlightFrontends.id, current.id), eq(greenlightFrontends.version, current.version)))
      .returning({ id: greenlightFrontends.id });
    if (!gone.length) throw problems.preconditionFailed('(changed meanwhile)');
    await appendAudit(tx, { actor, action: 'greenlight.delete', subject: { type: 'coop', id: coopId }, before: auditView(current) });
  });
}

/** The source Greenlight's read-only database URL, for the step that reads it; null when none is set. */
export async function openDatabaseUrl(db: Executor, box: SecretBox, id: string): Promise<string | null> {
  const [row] = await db.select({ sealed: greenlightFrontends.databaseUrlSealed }).from(greenlightFrontends).where(eq(greenlightFrontends.id, id));
  return row?.sealed ? box.open(row.sealed, databaseUrlLabel(id)) : null;
}

/** The target Greenlight's SECRET_KEY_BASE, for encrypting what it receives; null when none is set. */
export async function openSecretKeyBase(db: Executor, box: SecretBox, id: string): Promise<string | null> {
  const [row] = await db.select({ sealed: greenlightFrontends.secretKeyBaseSealed }).from(greenlightFrontends).where(eq(greenlightFrontends.id, id));
  return row?.sealed ? box.open(row.sealed, secretKeyBaseLabel(id)) : null;
}
