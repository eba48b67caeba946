// The roles an account holds, as the cover.* questions the takeover rule asks
// (policies/holdings.ts): one per role and scope, none forgotten.
import { describe, expect, it } from 'vitest';
import { holdingsOf } from '../../policies/holdings.js';
import type { GrantFact } from '../../policies/entities.js';

const grant = (role: GrantFact['role'], scope: GrantFact['scope'], over: Partial<GrantFact> = {}): GrantFact => ({ id: `g-${role}`, role, scope, delegable: false, ...over });
const key = (h: { action: string; scope: { type: string; id?: string } }) => `${h.action} ${h.scope.type === 'global' ? 'global' : `${h.scope.type}:${(h.scope as { id: string }).id}`}`;

describe('holdings', () => {
  it('asks one cover question per role, on the grant\'s scope', () => {
    const grants = [
      grant('platform_admin', { type: 'global' }),
      grant('auditor', { type: 'global' }),
      grant('coop_admin', { type: 'coop', id: 'A' }),
      grant('cluster_operator', { type: 'cluster', id: 'A1' }),
      grant('tenancy_owner', { type: 'tenancy', id: 'T1' }),
      grant('tenancy_admin', { type: 'tenancy', id: 'T2' }),
    ];
    expect(holdingsOf({ accountId: 'x', coopId: 'A', grants }).map(key)).toEqual([
      'cover.platformAdmin global',
      'cover.auditor global',
      'cover.coopAdmin coop:A',
      'cover.clusterOperator cluster:A1',
      'cover.tenancyOwner tenancy:T1',
      'cover.tenancyAdmin tenancy:T2',
    ]);
  });

  it('adds delegation where a grant is delegable, transfer approval where a coop_admin grant approves, membership per tenancy', () => {
    const grants = [
      grant('cluster_operator', { type: 'coop', id: 'A' }, { delegable: true }),
      grant('coop_admin', { type: 'coop', id: 'B' }, { approvesTransfers: true }),
      grant('tenancy_owner', { type: 'tenancy', id: 'T1' }, { approvesTransfers: true }),
    ];
    expect(holdingsOf({ accountId: 'x', coopId: 'A', grants, memberOf: ['T1', 'T3'] }).map(key)).toEqual([
      'cover.clusterOperator coop:A',
      'cover.delegation coop:A',
      'cover.coopAdmin coop:B',
      'cover.transferApprover coop:B',
      'cover.tenancyOwner tenancy:T1',
      'cover.member tenancy:T1',
      'cover.member tenancy:T3',
    ]);
  });

  it('counts the legacy platformAdmin flag as a platform_admin grant, once', () => {
    expect(holdingsOf({ accountId: 'x', coopId: null, grants: [], platformAdmin: true }).map(key)).toEqual(['cover.platformAdmin global']);
    expect(holdingsOf({ accountId: 'x', coopId: null, grants: [grant('platform_admin', { type: 'global' })], platformAdmin: true }).map(key)).toEqual(['cover.platformAdmin global']);
    expect(holdingsOf({ accountId: 'x', coopId: null, grants: [], platformAdmin: false })).toEqual([]);
  });

  it('asks each question once, however many grants raise it, and keeps different scopes apart', () => {
    const grants = [
      grant('tenancy_admin', { type: 'tenancy', id: 'T1' }, { id: 'a', delegable: true }),
      grant('tenancy_admin', { type: 'tenancy', id: 'T1' }, { id: 'b', delegable: true }),
      grant('tenancy_admin', { type: 'tenancy', id: 'T2' }, { id: 'c' }),
    ];
    const out = holdingsOf({ accountId: 'x', coopId: 'A', grants, memberOf: ['T1', 'T1'] });
    expect(out.map(key)).toEqual(['cover.tenancyAdmin tenancy:T1', 'cover.delegation tenancy:T1', 'cover.tenancyAdmin tenancy:T2', 'cover.member tenancy:T1']);
    expect(out[0]).toEqual({ action: 'cover.tenancyAdmin', scope: { type: 'tenancy', id: 'T1' } });
  });
});
