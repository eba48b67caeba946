// Accounts (people), their memberships in tenancies, and their personal access
// tokens. E-mail addresses and names are personal data: they never enter the
// audit trail, which only names account ids.
import { and, asc, eq, getTableColumns, gt, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Db, Executor, Tx } from '../db/index.js';
import { uuidv7 } from '../ids.js';
import { appendAudit, type AuditValue } from '../audit/trail.js';
import { person } from '../audit/subjects.js';
import type { Principal } from '../auth/principal.js';
import { problems } from '../http/problem.js';
import { mapUniqueViolation } from '../db/errors.js';
import { accessTokens, accounts, memberships } from './table.js';
import { insertPat } from './tokens.js';

export type Account = typeof accounts.$inferSelect;
export type Membership = typeof memberships.$inferSelect;
export type MemberRole = Membership['role'];
export type AccessToken = Omit<typeof accessTokens.$inferSelect, 'tokenHash'>;

export async function findAccount(db: Executor, id: string): Promise<Account | undefined> {
  const [row] = await db.select().from(accounts).where(eq(accounts.id, id)).limit(1);
  return row;
}

/** `within`: a coarse pre-filter (accounts of these co-ops, and these accounts). */
export async function listAccounts(db: Db, opts: { within?: { coopIds: string[]; accountIds: string[] }; after?: string; limit: number }): Promise<Account[]> {
  const conds = [];
  if (opts.within) {
    const { coopIds, accountIds } = opts.within;
    const any = [...(coopIds.length ? [inArray(accounts.coopId, coopIds)] : []), ...(accountIds.length ? [inArray(accounts.id, accountIds)] : [])];
    conds.push(any.length ? or(...any)! : sql`false`);
  }
  if (opts.after) conds.push(gt(accounts.id, opts.after));
  return db.select().from(accounts).where(and(...conds)).orderBy(asc(accounts.id)).limit(opts.limit + 1);
}

export async function createAccount(
  db: Db,
  actor: Principal,
  input: { email: string; name: string; coopId: string | null; platformAdmin?: boolean },
): Promise<Account> {
  return mapUniqueViolation(
    () =>
      db.transaction(async (tx) => {
        const [row] = await tx
          .insert(accounts)
          .values({ id: uuidv7(), email: input.email.toLowerCase(), name: input.name, coopId: input.coopId, platformAdmin: input.platformAdmin ?? false })
          .returning();
        await appendAudit(tx, {
          actor,
          action: 'account.create',
          subject: { type: 'account', id: person(row!.id) },
          after: { coop: row!.coopId, platformAdmin: row!.platformAdmin },
        });
        return row!;
      }),
    () => problems.conflict('email-taken', 'an account with this e-mail address already exists'),
  );
}

/** Creates the first platform admin with a token, unless one exists already. */
/** Is there a platform admin yet? (None: the server offers a one-time setup link.) */
export async function hasPlatformAdmin(db: Executor): Promise<boolean> {
  const [existing] = await db.select({ id: accounts.id }).from(accounts).where(eq(accounts.platformAdmin, true)).limit(1);
  return !!existing;
}

export async function bootstrapAdmin(
  db: Db,
  actor: Principal,
  input: { email: string; name: string },
): Promise<{ account: Account; token: string }> {
  const [existing] = await db.select({ id: accounts.id }).from(accounts).where(eq(accounts.platformAdmin, true)).limit(1);
  if (existing) throw problems.conflict('already-bootstrapped', 'a platform admin exists already; ask them for an account');
  const account = await createAccount(db, actor, { ...input, coopId: null, platformAdmin: true });
  // The root of every delegation chain: platform_admin on the global scope, delegable, no expiry.
  const { insertRootGrant } = await import('../grants/service.js');
  await db.transaction((tx) => insertRootGrant(tx, actor, { accountId: account.id, role: 'platform_admin', scope: { type: 'global' }, reason: 'bootstrap' }));
  const { token } = await issueToken(db, actor, account.id, 'bootstrap', null);
  return { account, token };
}

export async function issueToken(
  db: Db,
  actor: Principal,
  accountId: string,
  name: string,
  expiresAt: Date | null,
): Promise<{ id: string; token: string; prefix: string }> {
  return db.transaction(async (tx) => {
    const pat = await insertPat(tx, accountId, name, expiresAt);
    await appendAudit(tx, {
      actor,
      action: 'token.create',
      subject: { type: 'access-token', id: pat.id },
      after: { account: person(accountId), expiresAt: expiresAt?.toISOString() ?? null },
    });
    return pat;
  });
}

const { tokenHash: _hash, ...tokenColumns } = getTableColumns(accessTokens);

export async function listTokens(db: Db, accountId: string): Promise<AccessToken[]> {
  return db.select(tokenColumns).from(accessTokens).where(eq(accessTokens.accountId, accountId)).orderBy(asc(accessTokens.id));
}

/** Revokes one of the account's own tokens; unknown ids answer 404. */
export async function revokeToken(db: Db, actor: Principal, accountId: string, tokenId: string): Promise<void> {
  await db.transaction(async (tx) => {
    const revoked = await tx
      .update(accessTokens)
      .set({ revokedAt: new Date() })
      .where(and(eq(accessTokens.id, tokenId), eq(accessTokens.accountId, accountId), isNull(accessTokens.revokedAt)))
      .returning({ id: accessTokens.id });
    if (revoked.length === 0) throw problems.notFound('access token');
    await appendAudit(tx, { actor, action: 'token.revoke', subject: { type: 'access-token', id: tokenId } });
  });
}

export async function listMembers(db: Db, tenancyId: string) {
  return db
    .select({ accountId: memberships.accountId, role: memberships.role, email: accounts.email, name: accounts.name, since: memberships.createdAt })
    .from(memberships)
    .innerJoin(accounts, eq(accounts.id, memberships.accountId))
    .where(eq(memberships.tenancyId, tenancyId))
    .orderBy(asc(memberships.accountId));
}

/** The account's role in the tenancy, if it is a member. */
export async function findMembership(db: Executor, tenancyId: string, accountId: string): Promise<Membership | undefined> {
  const [row] = await db
    .select()
    .from(memberships)
    .where(and(eq(memberships.tenancyId, tenancyId), eq(memberships.accountId, accountId)))
    .limit(1);
  return row;
}

/** Adds a member or changes their role (idempotent). */
export async function setMembership(db: Db, actor: Principal, tenancyId: string, accountId: string, role: MemberRole): Promise<void> {
  await db.transaction((tx) => writeMembership(tx, actor, tenancyId, accountId, role));
}

/**
 * Adds a member or changes their role inside the caller's transaction, with its
 * audit entry (`details`: e.g. the invitation the member accepted).
 */
export async function writeMembership(
  tx: Tx,
  actor: Principal,
  tenancyId: string,
  accountId: string,
  role: MemberRole,
  details?: Record<string, AuditValue>,
): Promise<void> {
  const [before] = await tx
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.tenancyId, tenancyId), eq(memberships.accountId, accountId)))
    .for('update');
  if (before?.role === role) return;
  await tx
    .insert(memberships)
    .values({ tenancyId, accountId, role })
    .onConflictDoUpdate({ target: [memberships.tenancyId, memberships.accountId], set: { role } });
  await appendAudit(tx, {
    actor,
    action: before ? 'membership.update' : 'membership.create',
    subject: { type: 'tenancy', id: tenancyId },
    before: before ? { account: person(accountId), role: before.role } : null,
    after: { account: person(accountId), role },
    ...(details ? { details } : {}),
  });
}

export async function removeMembership(db: Db, actor: Principal, tenancyId: string, accountId: string): Promise<void> {
  await db.transaction(async (tx) => {
    const removed = await tx
      .delete(memberships)
      .where(and(eq(memberships.tenancyId, tenancyId), eq(memberships.accountId, accountId)))
      .returning({ role: memberships.role });
    if (removed.length === 0) throw problems.notFound('membership');
    await appendAudit(tx, {
      actor,
      action: 'membership.delete',
      subject: { type: 'tenancy', id: tenancyId },
      before: { account: person(accountId), role: removed[0]!.role },
      after: null,
    });
  });
}

/** How many people belong to a tenancy, in any role. */
export async function memberCount(db: Executor, tenancyId: string): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(memberships).where(eq(memberships.tenancyId, tenancyId));
  return row?.n ?? 0;
}
