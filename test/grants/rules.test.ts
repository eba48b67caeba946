// Every delegation rule, by its id, without a database.
import { describe, expect, it } from 'vitest';
import { checkDelegation, DELEGATION_RULES, scopeWithin, type DelegationRequest, type GrantorState } from '../../server/grants/rules.js';

const now = new Date('2026-01-01T00:00:00Z');
const days = (n: number) => new Date(now.getTime() + n * 86_400_000);
const coopA = { type: 'coop' as const, id: 'A' };
const clusterA1 = { type: 'cluster' as const, id: 'A1', coopId: 'A' };
const tenancyA1 = { type: 'tenancy' as const, id: 'TA1', coopId: 'A' };
const clusterB1 = { type: 'cluster' as const, id: 'B1', coopId: 'B' };

const grantor: GrantorState = { accountId: 'alice', role: 'coop_admin', scope: coopA, delegable: true, expiresAt: days(30), depth: 1, active: true };
const request: DelegationRequest = { actorAccountId: 'alice', toAccountId: 'bob', role: 'cluster_operator', scopeType: 'cluster', scope: clusterA1, expiresAt: days(10) };
const check = (g: Partial<GrantorState> = {}, r: Partial<DelegationRequest> = {}) => checkDelegation({ ...grantor, ...g }, { ...request, ...r }, { now, maxDepth: 3 })?.rule ?? null;

describe('delegation rules', () => {
  it('allow narrowing: same or narrower role, same or inner scope, no later expiry', () => {
    expect(check()).toBeNull();
    expect(check({}, { role: 'coop_admin', scopeType: 'coop', scope: coopA, expiresAt: days(30) })).toBeNull();
    expect(check({}, { role: 'tenancy_owner', scopeType: 'tenancy', scope: tenancyA1 })).toBeNull();
    expect(check({ role: 'platform_admin', scope: { type: 'global' }, expiresAt: null, depth: 0 }, { role: 'auditor', scopeType: 'global', scope: { type: 'global' }, expiresAt: days(3650) })).toBeNull();
  });

  it('names every rule a delegation breaks', () => {
    expect(check({}, { actorAccountId: 'mallory' })).toBe('delegation.not-holder');
    expect(check({ active: false })).toBe('delegation.grantor-inactive');
    expect(check({ delegable: false })).toBe('delegation.not-delegable');
    expect(check({}, { toAccountId: 'alice' })).toBe('delegation.self');
    expect(check({ depth: 3 })).toBe('delegation.too-deep');
    expect(check({ depth: 2 })).toBeNull();
    expect(check({}, { role: 'platform_admin', scopeType: 'global', scope: { type: 'global' } })).toBe('delegation.widen-role');
    expect(check({ role: 'cluster_operator', scope: clusterA1 }, { role: 'coop_admin', scopeType: 'coop', scope: coopA })).toBe('delegation.widen-role');
    expect(check({ role: 'tenancy_admin', scope: tenancyA1 }, { role: 'tenancy_owner', scopeType: 'tenancy', scope: tenancyA1 })).toBe('delegation.widen-role');
    expect(check({}, { role: 'coop_admin', scopeType: 'tenancy', scope: tenancyA1 })).toBe('delegation.invalid-scope');
    expect(check({}, { scope: clusterB1 })).toBe('delegation.widen-scope');
    expect(check({ role: 'cluster_operator', scope: clusterA1 }, { scopeType: 'coop', scope: coopA })).toBe('delegation.widen-scope');
    expect(check({}, { expiresAt: now })).toBe('delegation.expiry-past');
    expect(check({}, { expiresAt: days(31) })).toBe('delegation.extends-expiry');
  });

  it('hands transfer approval on only from a grant that approves transfers, and only on coop_admin grants', () => {
    const coopAdmin = { role: 'coop_admin' as const, scopeType: 'coop' as const, scope: coopA, transferApproval: true };
    expect(check({}, coopAdmin)).toBe('delegation.widen-transfer-approval');
    expect(check({ approvesTransfers: false }, coopAdmin)).toBe('delegation.widen-transfer-approval');
    expect(check({ approvesTransfers: true }, coopAdmin)).toBeNull();
    expect(check({}, { ...coopAdmin, transferApproval: false })).toBeNull();
    expect(check({ role: 'platform_admin', scope: { type: 'global' }, expiresAt: null, depth: 0, approvesTransfers: true }, coopAdmin)).toBeNull();
    expect(check({ approvesTransfers: true }, { transferApproval: true })).toBe('delegation.transfer-approval-role');
    expect(check({ approvesTransfers: true }, { role: 'tenancy_owner', scopeType: 'tenancy', scope: tenancyA1, transferApproval: true })).toBe('delegation.transfer-approval-role');
  });

  it('refuses a scope that does not exist exactly like one outside the grantor\'s', () => {
    const missing = checkDelegation(grantor, { ...request, scope: null }, { now, maxDepth: 3 });
    const outside = checkDelegation(grantor, { ...request, scope: clusterB1 }, { now, maxDepth: 3 });
    expect(missing).toEqual(outside);
    expect(missing?.rule).toBe('delegation.widen-scope');
  });

  it('has a text for every rule id', () => {
    for (const [id, text] of Object.entries(DELEGATION_RULES)) {
      expect(id).toMatch(/^delegation\.[a-z-]+$/);
      expect(text.length).toBeGreaterThan(10);
    }
  });

  it('places clusters and tenancies inside their co-op, not inside each other', () => {
    expect(scopeWithin(clusterA1, coopA)).toBe(true);
    expect(scopeWithin(tenancyA1, coopA)).toBe(true);
    expect(scopeWithin(tenancyA1, clusterA1)).toBe(false);
    expect(scopeWithin(coopA, { type: 'global' })).toBe(true);
    expect(scopeWithin({ type: 'global' }, coopA)).toBe(false);
    expect(scopeWithin(clusterB1, coopA)).toBe(false);
  });
});
