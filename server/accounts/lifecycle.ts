// Suspending and reinstating an account. A suspended account cannot sign in
// (password, upstream provider, device flow: the provider finds no account),
// and every credential it holds is refused from the next request on, on every
// process: personal access tokens and JWT access tokens (the API reads the
// account on each request), refresh tokens and sign-on sessions (deleted by
// endSessions), /me sessions (begun before sessions_valid_after); its personal
// access tokens are revoked besides, so they do not come back with it. Its grants
// and memberships are not touched: they confer nothing while no credential of
// the account works, and count again, exactly as they were, once reinstated.
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Db, Executor, Tx } from '../db/index.js';
import { rowsOf } from '../db/index.js';
import { appendAudit } from '../audit/trail.js';
import { person } from '../audit/subjects.js';
import type { Principal } from '../auth/principal.js';
import { problems } from '../http/problem.js';
import { accessTokens, accounts } from './table.js';
import { endSessions } from './sessions.js';
import type { Account } from './service.js';

/** Whether the account exists and may sign in (not suspended, not erased). */
export async function maySignIn(db: Executor, accountId: string): Promise<boolean> {
  const [row] = await db.select({ id: accounts.id }).from(accounts).where(and(eq(accounts.id, accountId), isNull(accounts.suspendedAt))).limit(1);
  return !!row;
}

/**
 * Whether the account is a platform admin (the flag, or an active platform_admin
 * grant) and no other account that can still act is one.
 */
export async function isLastPlatformAdmin(db: Executor, accountId: string): Promise<boolean> {
  const admins = rowsOf<{ id: string }>(
    await db.execute(sql`
      select a.id from accounts a
      where a.suspended_at is null
        and (a.platform_admin
             or exists (select 1 from grants g where g.account_id = a.id and g.role = 'platform_admin' and g.revoked_at is null
                        and (g.expires_at is null or g.expires_at > now())))`),
  ).map((r) => r.id);
  return admins.includes(accountId) && admins.length === 1;
}

/**
 * Serialises the changes that could leave the platform without an admin (two
 * admins suspending or erasing each other at once): taken in their
 * transactions before the last-admin check.
 */
const PLATFORM_ADMINS_LOCK = 7243522;
export async function lockPlatformAdmins(tx: Tx): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${PLATFORM_ADMINS_LOCK})`);
}

/** 409 naming the reason: the platform would be left without anyone to run it. */
export function lastPlatformAdmin(what: string) {
  return problems.conflict(
    'last-platform-admin',
    `${what} is refused: this account is the last platform admin, and nobody could run the platform afterwards. Make another account platform admin first.`,
  );
}

/** The account row locked for the change, with its version checked (412 when it changed since it was read). */
export async function lockAccount(tx: Tx, id: string, version: number): Promise<Account> {
  const [row] = await tx.select().from(accounts).where(eq(accounts.id, id)).for('update');
  if (!row) throw problems.notFound('account');
  if (row.version !== version) throw problems.preconditionFailed(`"${row.id}.${row.version}"`);
  if (row.erasedAt) throw problems.conflict('account-erased', 'this account was erased: nothing can be done with it any more');
  return row;
}

export async function suspendAccount(db: Db, actor: Principal, account: Account, reason: string): Promise<Account> {
  if (account.suspendedAt) throw problems.conflict('account-suspended', 'the account is suspended already');
  if (await isLastPlatformAdmin(db, account.id)) throw lastPlatformAdmin('Suspending it');
  return db.transaction(async (tx) => {
    await lockPlatformAdmins(tx);
    const row = await lockAccount(tx, account.id, account.version);
    if (row.suspendedAt) throw problems.conflict('account-suspended', 'the account is suspended already');
    if (await isLastPlatformAdmin(tx, row.id)) throw lastPlatformAdmin('Suspending it');
    const now = new Date();
    const [after] = await tx
      .update(accounts)
      .set({ suspendedAt: now, updatedAt: now, version: row.version + 1 })
      .where(eq(accounts.id, row.id))
      .returning();
    // Its sign-on sessions, grants and refresh tokens go; page sessions begun before now end.
    await endSessions(tx, [row.id], now);
    // Its personal access tokens are revoked: reinstating gives back roles, not credentials
    // (after a compromise, a stolen token must not come back with the account).
    const tokens = await tx
      .update(accessTokens)
      .set({ revokedAt: now })
      .where(and(eq(accessTokens.accountId, row.id), isNull(accessTokens.revokedAt)))
      .returning({ id: accessTokens.id });
    await appendAudit(tx, {
      actor,
      action: 'account.suspend',
      subject: { type: 'account', id: person(row.id) },
      before: { suspended: false },
      after: { suspended: true },
      details: { reason, accessTokensRevoked: tokens.map((t) => t.id) },
    });
    return after!;
  });
}

export async function reinstateAccount(db: Db, actor: Principal, account: Account, reason: string): Promise<Account> {
  if (!account.suspendedAt) throw problems.conflict('account-not-suspended', 'the account is not suspended');
  return db.transaction(async (tx) => {
    const row = await lockAccount(tx, account.id, account.version);
    if (!row.suspendedAt) throw problems.conflict('account-not-suspended', 'the account is not suspended');
    const now = new Date();
    const [after] = await tx.update(accounts).set({ suspendedAt: null, updatedAt: now, version: row.version + 1 }).where(eq(accounts.id, row.id)).returning();
    await appendAudit(tx, {
      actor,
      action: 'account.reinstate',
      subject: { type: 'account', id: person(row.id) },
      before: { suspended: true },
      after: { suspended: false },
      details: { reason },
    });
    return after!;
  });
}
