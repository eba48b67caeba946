// The right to erasure (GDPR Art. 17, UK GDPR, Québec Law 25): the person's
// personal data is deleted for good, in one transaction:
// - name and e-mail become tombstones ("erased:<account id>" cannot be an
//   address, so no account can ever be created with it);
// - password hash, e-mail verification, upstream identity links, password-set
//   links, personal access tokens (their names are the person's words), member
//   invitations to the address, Art. 20 exports made for the person, the
//   failed-login counters keyed by the address, the address and text of mails
//   to it (unsent ones are not sent), sign-on sessions and grants;
// - grants are revoked (with what was delegated from them) and memberships end;
// - the audit pseudonym key is destroyed, as POST /audit/forget does, so the log
//   keeps verifying but no entry can be linked to the person any more.
// Kept: the account row (its id, tombstones, when it was created and erased),
// because grants, transfers, approvals, objections and notices refer to the id;
// they hold no personal data once the name and address are gone.
// Refused while the person is the only owner of a tenancy, or the last platform
// admin: someone must be left to run it.
import { and, eq, isNull, like, or, sql } from 'drizzle-orm';
import type { Db, Executor } from '../db/index.js';
import { rowsOf } from '../db/index.js';
import { appendAudit } from '../audit/trail.js';
import { forgetPersonKey, person } from '../audit/subjects.js';
import type { Principal } from '../auth/principal.js';
import { ProblemError } from '../http/problem.js';
import { findGrant, revokeGrantIn } from '../grants/service.js';
import { grants } from '../grants/table.js';
import { memberInvitations } from '../memberships/table.js';
import { memberExports } from '../transfers/table.js';
import { mailOutbox } from '../mail/table.js';
import { accessTokens, accounts, memberships } from './table.js';
import { accountCredentials, accountIdentities, accountInvitations, loginThrottle } from './sso-table.js';
import { emailKey } from './throttle.js';
import { endSessions } from './sessions.js';
import { isLastPlatformAdmin, lastPlatformAdmin, lockAccount, lockPlatformAdmins } from './lifecycle.js';
import type { Account } from './service.js';

export const ERASED_NAME = 'Erased account';
/** Not an e-mail address (no "@"): it can never collide with a real account's. */
export const tombstoneEmail = (accountId: string) => `erased:${accountId}`;

/** What the person gets: what was deleted, and when (what is kept is in README, "Account lifecycle"). */
export interface ErasureReceipt {
  account: string;
  erasedAt: string;
  deleted: Record<string, number>;
  grantsRevoked: string[];
  membershipsEnded: string[];
  auditPseudonymKeyDestroyed: boolean;
}

/** Tenancies where the account is an owner and nobody else is (by membership or tenancy_owner grant). */
export async function tenanciesOnlyOwnedBy(db: Executor, accountId: string): Promise<Array<{ id: string; slug: string }>> {
  return rowsOf<{ id: string; slug: string }>(
    await db.execute(sql`
      with owners as (
        select tenancy_id, account_id from memberships where role = 'owner'
        union
        select scope_id, account_id from grants
        where role = 'tenancy_owner' and scope_type = 'tenancy' and revoked_at is null and (expires_at is null or expires_at > now())
      )
      select t.id, t.slug from tenancies t
      where t.id in (select tenancy_id from owners where account_id = ${accountId})
        and not exists (select 1 from owners o join accounts a on a.id = o.account_id
                        where o.tenancy_id = t.id and o.account_id <> ${accountId} and a.erased_at is null)
      order by t.slug`),
  );
}

/** The refusals, checked before anything changes (and again inside the transaction). */
export async function erasureRefusal(db: Executor, accountId: string) {
  const owned = await tenanciesOnlyOwnedBy(db, accountId);
  if (owned.length > 0)
    return new ProblemError(
      409,
      'only-owner',
      'Conflict',
      `Erasure is refused: this account is the only owner of ${owned.map((t) => t.slug).join(', ')}. Make someone else an owner of ${owned.length === 1 ? 'it' : 'them'} first, or delete ${owned.length === 1 ? 'it' : 'them'}.`,
      { tenancies: owned },
    );
  if (await isLastPlatformAdmin(db, accountId)) return lastPlatformAdmin('Erasure');
  return undefined;
}

export async function eraseAccount(db: Db, actor: Principal, account: Account, reason: string): Promise<ErasureReceipt> {
  const refusal = await erasureRefusal(db, account.id);
  if (refusal) throw refusal;
  return db.transaction(async (tx) => {
    await lockPlatformAdmins(tx);
    const row = await lockAccount(tx, account.id, account.version);
    const again = await erasureRefusal(tx, row.id);
    if (again) throw again;
    const now = new Date();
    const count = (rows: unknown[]) => rows.length;
    const deleted: Record<string, number> = {};

    // Roles: every grant revoked with its delegations, every membership ended.
    const live = await tx.select({ id: grants.id }).from(grants).where(and(eq(grants.accountId, row.id), isNull(grants.revokedAt))).orderBy(grants.depth, grants.id);
    const revoked: string[] = [];
    for (const { id } of live) {
      if (revoked.includes(id)) continue;
      const grant = await findGrant(tx, id);
      if (grant && !grant.revokedAt) revoked.push(...(await revokeGrantIn(tx, actor, grant, 'account erased')));
    }
    const ended = await tx.delete(memberships).where(eq(memberships.accountId, row.id)).returning({ tenancy: memberships.tenancyId });

    // Credentials and login methods.
    deleted.passwordAndVerification = count(await tx.delete(accountCredentials).where(eq(accountCredentials.accountId, row.id)).returning({ id: accountCredentials.accountId }));
    deleted.upstreamLinks = count(await tx.delete(accountIdentities).where(eq(accountIdentities.accountId, row.id)).returning({ s: accountIdentities.subject }));
    deleted.passwordLinks = count(await tx.delete(accountInvitations).where(eq(accountInvitations.accountId, row.id)).returning({ id: accountInvitations.id }));
    deleted.accessTokens = count(await tx.delete(accessTokens).where(eq(accessTokens.accountId, row.id)).returning({ id: accessTokens.id }));
    deleted.loginCounters = count(
      await tx
        .delete(loginThrottle)
        .where(or(eq(loginThrottle.key, emailKey(row.email)), like(loginThrottle.key, `${emailKey(row.email)}|%`)))
        .returning({ k: loginThrottle.key }),
    );
    // Personal data kept for the person elsewhere.
    deleted.memberInvitations = count(
      await tx.delete(memberInvitations).where(or(eq(memberInvitations.accountId, row.id), eq(memberInvitations.email, row.email))).returning({ id: memberInvitations.id }),
    );
    deleted.exports = count(await tx.delete(memberExports).where(eq(memberExports.accountId, row.id)).returning({ id: memberExports.id }));
    // Mails to the address: the address and text go; an unsent one is never sent.
    deleted.mails = count(
      await tx
        .update(mailOutbox)
        .set({ toAddress: tombstoneEmail(row.id), subject: '(erased)', body: '(erased)', failedAt: sql`coalesce(${mailOutbox.failedAt}, case when ${mailOutbox.sentAt} is null then now() end)` })
        .where(eq(mailOutbox.toAddress, row.email))
        .returning({ id: mailOutbox.id }),
    );
    // An admin's note of how the person was told of a transfer may name them (its SHA-256 stays in the log).
    deleted.noticeNotes = rowsOf(
      await tx.execute(sql`update transfer_notices set told_note = null where account_id = ${row.id} and told_note is not null returning transfer_id`),
    ).length;
    // The account itself: tombstones; it can never sign in again.
    await tx
      .update(accounts)
      .set({ email: tombstoneEmail(row.id), name: ERASED_NAME, platformAdmin: false, suspendedAt: row.suspendedAt ?? now, erasedAt: now, updatedAt: now, version: row.version + 1 })
      .where(eq(accounts.id, row.id));
    await endSessions(tx, [row.id], now);

    // Recorded with the pseudonym one last time, then the key behind it is destroyed.
    await appendAudit(tx, {
      actor,
      action: 'account.erase',
      subject: { type: 'account', id: person(row.id) },
      details: { reason, deleted, grantsRevoked: revoked, membershipsEnded: ended.map((m) => m.tenancy) },
    });
    const keyDestroyed = await forgetPersonKey(tx, row.id);
    return {
      account: row.id,
      erasedAt: now.toISOString(),
      deleted,
      grantsRevoked: revoked,
      membershipsEnded: ended.map((m) => m.tenancy),
      auditPseudonymKeyDestroyed: keyDestroyed,
    };
  });
}

