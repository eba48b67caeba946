// The synthetic world of policies/authz-table.ts as Cedar facts: the holder of
// each column and the object each relation names, without a database.
import type { GrantFact, PrincipalFacts, ResourceRef, ScopeResource, TenancyRef } from '../../policies/evaluator.js';
import { HOLDER_GRANTS, type Holder, type Relation } from '../../policies/authz-table.js';
import type { ResourceType } from '../../policies/entities.js';
import type { Scope } from '../../policies/roles.js';

const TA1: TenancyRef = { id: 'TA1', coopId: 'A', clusterId: 'A1' };
const TA2: TenancyRef = { id: 'TA2', coopId: 'A', clusterId: 'A2' };
const TB1: TenancyRef = { id: 'TB1', coopId: 'B', clusterId: 'B1' };
export const HOLDER_ID = 'holder';

const SCOPES: Record<string, { scope: Scope; resource: ScopeResource }> = {
  global: { scope: { type: 'global' }, resource: { type: 'Platform' } },
  A: { scope: { type: 'coop', id: 'A' }, resource: { type: 'Coop', id: 'A' } },
  A1: { scope: { type: 'cluster', id: 'A1' }, resource: { type: 'Cluster', id: 'A1', coopId: 'A' } },
  TA1: { scope: { type: 'tenancy', id: 'TA1' }, resource: { type: 'Tenancy', ...TA1 } },
};

export function holder(h: Holder): PrincipalFacts {
  const g = HOLDER_GRANTS[h];
  // First-hand grants: a coop_admin one approves transfers.
  const grants: GrantFact[] = g ? [{ id: 'g-self', role: g.role, scope: SCOPES[g.scope]!.scope, delegable: true, approvesTransfers: true }] : [];
  return { accountId: HOLDER_ID, coopId: 'A', grants, memberOf: h === 'me' ? ['TA1'] : [] };
}

/** The object a relation names for a resource type; undefined when the holder has none (n/a). */
export function resourceFor(h: Holder, type: ResourceType, relation: Relation): ResourceRef | undefined {
  const own = HOLDER_GRANTS[h];
  const key = `${type}/${relation}`;
  switch (key) {
    case 'Platform/global': return { type: 'Platform' };
    case 'Coop/own-coop': return { type: 'Coop', id: 'A' };
    case 'Coop/other-coop': return { type: 'Coop', id: 'B' };
    case 'Cluster/own-cluster': return { type: 'Cluster', id: 'A1', coopId: 'A' };
    case 'Cluster/other-cluster': return { type: 'Cluster', id: 'A2', coopId: 'A' };
    case 'Cluster/other-coop': return { type: 'Cluster', id: 'B1', coopId: 'B' };
    case 'Tenancy/own-tenancy': return { type: 'Tenancy', ...TA1 };
    case 'Tenancy/other-tenancy': return { type: 'Tenancy', ...TA2 };
    case 'Tenancy/other-coop': return { type: 'Tenancy', ...TB1 };
    case 'Account/self': return { type: 'Account', id: HOLDER_ID, coopId: 'A' };
    case 'Account/own-coop': return { type: 'Account', id: 'someone-of-A', coopId: 'A' };
    case 'Account/other-coop': return { type: 'Account', id: 'someone-of-B', coopId: 'B' };
    case 'Client/own-tenancy': return { type: 'Client', id: 'client-TA1', coopId: 'A', tenancy: TA1 };
    case 'Client/own-coop': return { type: 'Client', id: 'client-A', coopId: 'A', tenancy: null };
    case 'Client/other-coop': return { type: 'Client', id: 'client-B', coopId: 'B', tenancy: null };
    case 'Upstream/own-coop': return { type: 'Upstream', id: 'upstream-A', coopId: 'A' };
    case 'Upstream/other-coop': return { type: 'Upstream', id: 'upstream-B', coopId: 'B' };
    case 'Grant/self':
      return own ? { type: 'Grant', id: 'g-self', scope: SCOPES[own.scope]!.resource, holderId: HOLDER_ID, delegatorIds: ['root'] } : undefined;
    case 'Grant/delegated':
      return own ? { type: 'Grant', id: 'g-delegated', scope: SCOPES[own.scope]!.resource, holderId: 'someone-else', delegatorIds: [HOLDER_ID, 'root'] } : undefined;
    case 'Grant/own-coop':
      return { type: 'Grant', id: 'g-TA2', scope: { type: 'Tenancy', ...TA2 }, holderId: 'someone-of-A', delegatorIds: ['another'] };
    case 'Grant/other-coop':
      return { type: 'Grant', id: 'g-B1', scope: { type: 'Cluster', id: 'B1', coopId: 'B' }, holderId: 'someone-of-B', delegatorIds: ['another'] };
    case 'Transfer/own-tenancy': return { type: 'Transfer', id: 'tr-TA1', tenancy: TA1, targetCoopId: 'B' };
    case 'Transfer/other-tenancy': return { type: 'Transfer', id: 'tr-TA2', tenancy: TA2, targetCoopId: 'B' };
    case 'Transfer/incoming': return { type: 'Transfer', id: 'tr-in', tenancy: TB1, targetCoopId: 'A' };
    case 'Transfer/other-coop': return { type: 'Transfer', id: 'tr-B-C', tenancy: TB1, targetCoopId: 'C' };
    case 'Handover/own-coop': return { type: 'Handover', id: 'ho-A-B', sourceCoopId: 'A', targetCoopId: 'B' };
    case 'Handover/incoming': return { type: 'Handover', id: 'ho-B-A', sourceCoopId: 'B', targetCoopId: 'A' };
    case 'Handover/other-coop': return { type: 'Handover', id: 'ho-B-C', sourceCoopId: 'B', targetCoopId: 'C' };
  }
  throw new Error(`no object for ${key}`);
}
