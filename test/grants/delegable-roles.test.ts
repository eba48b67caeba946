// "Nobody hands out more than they hold", for delegation: every role a grant
// may delegate (DELEGABLE_ROLES), held on the grantor's scope or inside it,
// allows nothing the grantor's own role does not, row by row of the
// authorisation table (policies/authz-table.ts, which test/policies checks
// against the Cedar policies). The delegation rules (server/grants/rules.ts)
// then refuse every role outside DELEGABLE_ROLES, whatever the grantor holds.
import { describe, expect, it } from 'vitest';
import { authzTable, HOLDER_GRANTS, HOLDERS, type Holder } from '../../policies/authz-table.js';
import { DELEGABLE_ROLES, ROLE_SCOPES, ROLES, type Role, type ScopeType } from '../../policies/roles.js';
import { checkDelegation, scopeWithin, type GrantorState, type ResolvedScope } from '../../server/grants/rules.js';

/**
 * Rows that say what a holder is, not what it may hand out. Approving a
 * transfer as its source admin, target admin or owner is acting in that
 * capacity: the distinct-approvers rule counts who each approver is, so a
 * platform admin deliberately cannot approve as a co-op's admin. Objecting to a
 * transfer is the right of the tenancy's own people, which its co-op's admin
 * deliberately lacks.
 */
const IN_CAPACITY = new Set([
  'transfer.approveAsSource',
  'transfer.approveAsTarget',
  'transfer.approveAsOwner',
  'transfer.object',
  // A hand-over plan is approved by one admin of each co-op, as that co-op's admin; asking for a
  // later wave is the tenancy owner's answer, as objecting to a transfer is.
  'handover.approveAsSource',
  'handover.approveAsTarget',
  'handover.askLater',
]);

const RESOLVED: Record<'global' | 'A' | 'A1' | 'TA1', ResolvedScope> = {
  global: { type: 'global' },
  A: { type: 'coop', id: 'A' },
  A1: { type: 'cluster', id: 'A1', coopId: 'A' },
  TA1: { type: 'tenancy', id: 'TA1', coopId: 'A' },
};

const withGrant = HOLDERS.filter((h) => HOLDER_GRANTS[h]);
const grantOf = (h: Holder) => HOLDER_GRANTS[h]!;

/** Pairs of table holders where the first may delegate the second's grant (role delegable, scope within). */
function delegationPairs(delegable: Record<Role, readonly Role[]>): Array<[Holder, Holder]> {
  return withGrant.flatMap((from) =>
    withGrant
      .filter((to) => delegable[grantOf(from).role].includes(grantOf(to).role) && scopeWithin(RESOLVED[grantOf(to).scope], RESOLVED[grantOf(from).scope]))
      .map((to): [Holder, Holder] => [from, to]),
  );
}

/** Every table cell where the delegate is allowed and its delegator is not. */
function widenings(delegable: Record<Role, readonly Role[]>): string[] {
  const out: string[] = [];
  for (const [from, to] of delegationPairs(delegable))
    for (const row of authzTable()) {
      if (IN_CAPACITY.has(row.action)) continue;
      if (row.expect[to] === 'allow' && row.expect[from] !== 'allow')
        out.push(`${grantOf(from).role} delegating ${grantOf(to).role}: ${row.action} ${row.relation}`);
    }
  return out;
}

describe('delegable roles against the authorisation table', () => {
  it('every delegable role, on the grantor\'s scope or inside it, allows no more than the grantor', () => {
    expect(widenings(DELEGABLE_ROLES)).toEqual([]);
  });

  it('compares every delegable pair of roles the table has holders for', () => {
    const compared = new Set(delegationPairs(DELEGABLE_ROLES).map(([from, to]) => `${grantOf(from).role}>${grantOf(to).role}`));
    for (const role of ROLES) for (const d of DELEGABLE_ROLES[role]) expect(compared, `${role} delegating ${d}`).toContain(`${role}>${d}`);
  });

  it('would catch any role given another role to delegate (auditor delegating platform_admin, ...)', () => {
    // A check that the comparison above can fail: adding any role a grant may
    // not delegate, held within the grantor's scope, must show a widening.
    let tried = 0;
    for (const from of withGrant)
      for (const to of withGrant) {
        const [role, extra] = [grantOf(from).role, grantOf(to).role];
        if (DELEGABLE_ROLES[role].includes(extra) || !scopeWithin(RESOLVED[grantOf(to).scope], RESOLVED[grantOf(from).scope])) continue;
        tried++;
        expect(widenings({ ...DELEGABLE_ROLES, [role]: [...DELEGABLE_ROLES[role], extra] }).length, `${role} delegating ${extra}`).toBeGreaterThan(0);
      }
    expect(tried).toBeGreaterThanOrEqual(8);
  });
});

describe('the delegation rules refuse every role outside DELEGABLE_ROLES', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const later = new Date('2026-02-01T00:00:00Z');
  const BY_TYPE: Record<ScopeType, ResolvedScope> = { global: RESOLVED.global, coop: RESOLVED.A, cluster: RESOLVED.A1, tenancy: RESOLVED.TA1 };
  const scopeFor: Record<Role, ResolvedScope> = {
    platform_admin: RESOLVED.global,
    auditor: RESOLVED.global,
    coop_admin: RESOLVED.A,
    cluster_operator: RESOLVED.A1,
    tenancy_owner: RESOLVED.TA1,
    tenancy_admin: RESOLVED.TA1,
  };

  for (const grantorRole of ROLES)
    for (const role of ROLES) {
      const allowed = DELEGABLE_ROLES[grantorRole].includes(role);
      it(`${grantorRole} ${allowed ? 'may' : 'may not'} delegate ${role}`, () => {
        const grantor: GrantorState = { accountId: 'g', role: grantorRole, scope: scopeFor[grantorRole], delegable: true, expiresAt: null, depth: 0, active: true };
        // A scope the role can be held on, inside the grantor's when there is one.
        const scopeType = ROLE_SCOPES[role].find((t) => scopeWithin(BY_TYPE[t], grantor.scope)) ?? ROLE_SCOPES[role][0]!;
        const scope = BY_TYPE[scopeType];
        const refusal = checkDelegation(grantor, { actorAccountId: 'g', toAccountId: 'd', role, scopeType, scope, expiresAt: later }, { now, maxDepth: 3 });
        if (allowed) expect(refusal).toBeNull();
        else expect(refusal?.rule).toBe('delegation.widen-role');
      });
    }

  it('names what the grantor may delegate when it refuses', () => {
    const grantor: GrantorState = { accountId: 'g', role: 'auditor', scope: RESOLVED.global, delegable: true, expiresAt: null, depth: 0, active: true };
    const refusal = checkDelegation(grantor, { actorAccountId: 'g', toAccountId: 'd', role: 'platform_admin', scopeType: 'global', scope: RESOLVED.global, expiresAt: later }, { now, maxDepth: 3 });
    expect(refusal).toEqual({ rule: 'delegation.widen-role', detail: 'a auditor grant can delegate auditor; not platform_admin' });
  });
});
