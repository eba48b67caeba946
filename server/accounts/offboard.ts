// Offboarding a person from one co-op: their grants on the co-op and inside it
// (its clusters and tenancies) are revoked with everything delegated from them,
// as a revocation does; their memberships of the co-op's tenancies end, with the
// invitations to them still open; the home co-op is cleared when it is this one.
// Roles elsewhere stay. One transaction, so one change in the audit log (the
// offboarding's entry beside the revocations it made). A dry run answers the
// same plan and changes nothing.
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db, Executor } from '../db/index.js';
import { rowsOf } from '../db/index.js';
import { appendAudit } from '../audit/trail.js';
import { person } from '../audit/subjects.js';
import type { Principal } from '../auth/principal.js';
import { findGrant, grantApprovesTransfers, revokeGrantIn, scopeOf } from '../grants/service.js';
import { grants } from '../grants/table.js';
import { memberInvitations } from '../memberships/table.js';
import type { PrincipalFacts } from '../../policies/entities.js';
import type { Scope } from '../../policies/roles.js';
import { accounts, memberships } from './table.js';
import { endSessions } from './sessions.js';
import { lockAccount } from './lifecycle.js';
import type { Account } from './service.js';

export interface OffboardPlan {
  coop: string;
  /** The account's grants in the co-op, revoked with everything delegated from them. */
  grants: Array<{ id: string; role: string; scope: Scope; delegable: boolean; approvesTransfers: boolean }>;
  /** Grants of other accounts delegated from those: revoked too (the cascade). */
  cascade: string[];
  memberships: Array<{ tenancy: string; role: 'owner' | 'admin' | 'member' }>;
  /** Open invitations of the account to the co-op's tenancies, revoked. */
  invitations: string[];
  homeCoopCleared: boolean;
}

/** Scopes in the co-op: the co-op itself, its clusters, its tenancies. */
const inCoop = (coopId: string) => sql`(
  (${grants.scopeType} = 'coop' and ${grants.scopeId} = ${coopId})
  or (${grants.scopeType} = 'cluster' and ${grants.scopeId} in (select id from clusters where coop_id = ${coopId}))
  or (${grants.scopeType} = 'tenancy' and ${grants.scopeId} in (select id from tenancies where coop_id = ${coopId})))`;

export async function offboardPlan(db: Executor, account: Pick<Account, 'id' | 'coopId'>, coopId: string): Promise<OffboardPlan> {
  const own = await db
    .select()
    .from(grants)
    .where(and(eq(grants.accountId, account.id), isNull(grants.revokedAt), inCoop(coopId)))
    .orderBy(grants.depth, grants.id);
  const ids = own.map((g) => g.id);
  const cascade =
    ids.length === 0
      ? []
      : rowsOf<{ id: string }>(
          await db.execute(sql`
            with recursive tree as (
              select id from grants where granted_by in ${ids}
              union all
              select g.id from grants g join tree t on g.granted_by = t.id
            )
            select g.id from grants g where g.id in (select id from tree) and g.revoked_at is null and g.id not in ${ids} order by g.id`),
        ).map((r) => r.id);
  const member = await db
    .select({ tenancy: memberships.tenancyId, role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.accountId, account.id), sql`${memberships.tenancyId} in (select id from tenancies where coop_id = ${coopId})`))
    .orderBy(memberships.tenancyId);
  const invitations = await db
    .select({ id: memberInvitations.id })
    .from(memberInvitations)
    .where(
      and(
        eq(memberInvitations.accountId, account.id),
        isNull(memberInvitations.acceptedAt),
        isNull(memberInvitations.declinedAt),
        isNull(memberInvitations.revokedAt),
        sql`${memberInvitations.tenancyId} in (select id from tenancies where coop_id = ${coopId})`,
      ),
    );
  return {
    coop: coopId,
    grants: own.map((g) => ({ id: g.id, role: g.role, scope: scopeOf(g), delegable: g.delegable, approvesTransfers: grantApprovesTransfers(g) })),
    cascade,
    memberships: member,
    invitations: invitations.map((i) => i.id),
    homeCoopCleared: account.coopId === coopId,
  };
}

/** Whether the plan takes anything away (an empty plan on an account one may not read looks like no account). */
export const planIsEmpty = (p: OffboardPlan) => p.grants.length === 0 && p.memberships.length === 0 && p.invitations.length === 0 && !p.homeCoopCleared;

/**
 * The roles the plan takes away, as the policies see an account's roles: the
 * actor must hold at least each of them (cover.* rules), as for memberships.
 */
export function rolesTakenAway(account: Pick<Account, 'id'>, plan: OffboardPlan): PrincipalFacts {
  return {
    accountId: account.id,
    coopId: null,
    grants: [
      ...plan.grants.map((g) => ({ id: g.id, role: g.role as PrincipalFacts['grants'][number]['role'], scope: g.scope, delegable: g.delegable, approvesTransfers: g.approvesTransfers })),
      ...plan.memberships.flatMap((m) =>
        m.role === 'member' ? [] : [{ id: `membership:${m.tenancy}`, role: m.role === 'owner' ? ('tenancy_owner' as const) : ('tenancy_admin' as const), scope: { type: 'tenancy' as const, id: m.tenancy }, delegable: false }],
      ),
    ],
    memberOf: plan.memberships.map((m) => m.tenancy),
  };
}

/** Carries out the plan in one transaction; answers what was done (the plan as carried out). */
export async function offboard(db: Db, actor: Principal, account: Account, coopId: string, reason: string): Promise<OffboardPlan & { revoked: string[] }> {
  return db.transaction(async (tx) => {
    await lockAccount(tx, account.id, account.version);
    const plan = await offboardPlan(tx, account, coopId);
    const revoked: string[] = [];
    for (const g of plan.grants) {
      if (revoked.includes(g.id)) continue; // revoked already as delegated from another of its grants here
      const grant = await findGrant(tx, g.id);
      if (!grant || grant.revokedAt) continue;
      revoked.push(...(await revokeGrantIn(tx, actor, grant, `offboarded: ${reason}`)));
    }
    if (plan.memberships.length > 0)
      await tx.delete(memberships).where(and(eq(memberships.accountId, account.id), inArray(memberships.tenancyId, plan.memberships.map((m) => m.tenancy))));
    if (plan.invitations.length > 0) await tx.update(memberInvitations).set({ revokedAt: new Date() }).where(inArray(memberInvitations.id, plan.invitations));
    const now = new Date();
    await tx
      .update(accounts)
      .set({ ...(plan.homeCoopCleared ? { coopId: null } : {}), updatedAt: now, version: account.version + 1 })
      .where(eq(accounts.id, account.id));
    // What the sessions were opened on changed (revocations ended the holders' already).
    await endSessions(tx, [account.id], now);
    await appendAudit(tx, {
      actor,
      action: 'account.offboard',
      subject: { type: 'account', id: person(account.id) },
      before: { coop: account.coopId },
      after: { coop: plan.homeCoopCleared ? null : account.coopId },
      details: {
        reason,
        from: coopId,
        grantsRevoked: revoked,
        membershipsEnded: plan.memberships.map((m) => ({ tenancy: m.tenancy, role: m.role })),
        invitationsRevoked: plan.invitations,
      },
    });
    return { ...plan, revoked };
  });
}
