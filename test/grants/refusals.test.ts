// What a refused delegation tells the person who asked (server/grants/rules.ts):
// the rule's id and words they can act on, and where scopes lie in each other.
import { describe, expect, it } from 'vitest';
import { checkDelegation, scopeWithin, type DelegationRequest, type GrantorState } from '../../server/grants/rules.js';

const now = new Date('2026-01-01T00:00:00Z');
const days = (n: number) => new Date(now.getTime() + n * 86_400_000);
const coopA = { type: 'coop' as const, id: 'A' };
const clusterA1 = { type: 'cluster' as const, id: 'A1', coopId: 'A' };
const clusterA2 = { type: 'cluster' as const, id: 'A2', coopId: 'A' };
const tenancyA1 = { type: 'tenancy' as const, id: 'TA1', coopId: 'A' };
const tenancyA2 = { type: 'tenancy' as const, id: 'TA2', coopId: 'A' };

const grantor: GrantorState = { accountId: 'alice', role: 'coop_admin', scope: coopA, delegable: true, expiresAt: days(30), depth: 1, active: true };
const request: DelegationRequest = { actorAccountId: 'alice', toAccountId: 'bob', role: 'cluster_operator', scopeType: 'cluster', scope: clusterA1, expiresAt: days(10) };
const refuse = (g: Partial<GrantorState> = {}, r: Partial<DelegationRequest> = {}, maxDepth = 3) => checkDelegation({ ...grantor, ...g }, { ...request, ...r }, { now, maxDepth });

describe('refusal details', () => {
  it('say how long the chain would be and how long it may be', () => {
    expect(refuse({ depth: 3 })).toEqual({ rule: 'delegation.too-deep', detail: 'the chain would be 4 delegations long; at most 3 are allowed' });
    expect(refuse({ depth: 0 }, {}, 0)).toEqual({ rule: 'delegation.too-deep', detail: 'the chain would be 1 delegations long; at most 0 are allowed' });
  });

  it('say which roles the grant can delegate', () => {
    expect(refuse({ role: 'tenancy_owner', scope: tenancyA1 }, { role: 'coop_admin', scopeType: 'coop', scope: coopA })).toEqual({
      rule: 'delegation.widen-role',
      detail: 'a tenancy_owner grant can delegate tenancy_owner, tenancy_admin; not coop_admin',
    });
  });

  it('say where the role can be held', () => {
    expect(refuse({}, { role: 'cluster_operator', scopeType: 'tenancy', scope: tenancyA1 })).toEqual({
      rule: 'delegation.invalid-scope',
      detail: 'cluster_operator is held on coop or cluster scopes, not on a tenancy scope',
    });
  });

  it('say transfer approval is for coop_admin grants only', () => {
    expect(refuse({ approvesTransfers: true }, { transferApproval: true })).toEqual({
      rule: 'delegation.transfer-approval-role',
      detail: 'transferApproval applies to coop_admin grants, not to cluster_operator',
    });
  });

  it('say when the grantor\'s grant ends', () => {
    expect(refuse({}, { expiresAt: days(31) })).toEqual({
      rule: 'delegation.extends-expiry',
      detail: "the grantor's grant expires at 2026-01-31T00:00:00.000Z; the delegation cannot outlive it",
    });
    expect(refuse({}, { expiresAt: days(30) })).toBeNull();
    expect(refuse({ expiresAt: null }, { expiresAt: days(3650) })).toBeNull();
  });

  it('use the rule\'s own words where there is nothing to add', () => {
    expect(refuse({}, { actorAccountId: 'mallory' })).toEqual({ rule: 'delegation.not-holder', detail: 'only the holder of a grant can delegate from it' });
    expect(refuse({}, { expiresAt: new Date(now.getTime() - 1) })?.rule).toBe('delegation.expiry-past');
    expect(refuse({}, { expiresAt: new Date(now.getTime() + 1) })).toBeNull();
  });
});

describe('scopes within scopes', () => {
  it('a cluster or tenancy is within itself only, never within a sibling', () => {
    expect(scopeWithin(clusterA1, clusterA1)).toBe(true);
    expect(scopeWithin(clusterA2, clusterA1)).toBe(false);
    expect(scopeWithin(tenancyA1, tenancyA1)).toBe(true);
    expect(scopeWithin(tenancyA2, tenancyA1)).toBe(false);
    expect(scopeWithin(clusterA1, tenancyA1)).toBe(false);
    expect(scopeWithin({ type: 'tenancy', id: 'A1', coopId: 'A' }, clusterA1)).toBe(false);
    expect(scopeWithin(coopA, clusterA1)).toBe(false);
  });

  it('a co-op contains itself and what lies in it, not another co-op', () => {
    expect(scopeWithin(coopA, coopA)).toBe(true);
    expect(scopeWithin({ type: 'coop', id: 'B' }, coopA)).toBe(false);
    expect(scopeWithin({ type: 'cluster', id: 'B1', coopId: 'B' }, coopA)).toBe(false);
    expect(scopeWithin({ type: 'tenancy', id: 'A', coopId: 'B' }, coopA)).toBe(false);
  });

  it('a cluster operator on one cluster cannot delegate on its sibling', () => {
    expect(refuse({ role: 'cluster_operator', scope: clusterA1 }, { scope: clusterA2 })?.rule).toBe('delegation.widen-scope');
    expect(refuse({ role: 'cluster_operator', scope: clusterA1 }, { scope: clusterA1 })).toBeNull();
  });
});
