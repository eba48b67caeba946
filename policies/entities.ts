// Builds the Cedar request data for one decision: the principal (an Account
// whose active grants become the sets in `roles`) and the resource with every
// ancestor the policies may walk through (Platform > Coop > Cluster/Tenancy).
import type { EntityJson, EntityUidJson, CedarValueJson } from '@cedar-policy/cedar-wasm/nodejs';
import type { Role, Scope } from './roles.js';

/** The one Platform entity. */
export const PLATFORM_ID = 'meetplane';

/** A grant as the evaluator needs it: active (the caller filtered), with its scope. */
export interface GrantFact {
  id: string;
  role: Role;
  scope: Scope;
  delegable: boolean;
  /**
   * A coop_admin grant that approves transfers of its co-op: first-hand
   * (granted by no other grant), or delegated with transferApproval. Absent: no.
   */
  approvesTransfers?: boolean;
}

/** Who asks: an account, its home co-op, its active grants and tenancy memberships. */
export interface PrincipalFacts {
  accountId: string;
  coopId: string | null;
  grants: readonly GrantFact[];
  /** Tenancies the account is a member of (any membership role). */
  memberOf?: readonly string[];
  /**
   * A machine client (client credentials), not a person: the co-op it belongs to
   * and the tenancy it was created for (null: the whole co-op). Absent: a person.
   */
  machine?: { coopId: string; tenancyId: string | null };
}

export interface TenancyRef {
  id: string;
  coopId: string;
  clusterId: string;
}

/** What is acted on, with what the policies need to place it in the tree. */
export type ResourceRef =
  | { type: 'Platform' }
  | { type: 'Coop'; id: string }
  | { type: 'Cluster'; id: string; coopId: string }
  | ({ type: 'Tenancy' } & TenancyRef)
  | { type: 'Account'; id: string; coopId: string | null }
  | { type: 'Grant'; id: string; scope: ScopeResource; holderId: string; delegatorIds: readonly string[] }
  | { type: 'Client'; id: string; coopId: string; tenancy?: TenancyRef | null }
  | { type: 'Upstream'; id: string; coopId: string }
  | { type: 'Transfer'; id: string; tenancy: TenancyRef; targetCoopId: string }
  | { type: 'Handover'; id: string; sourceCoopId: string; targetCoopId: string };

/** The resources a grant's scope can be. */
export type ScopeResource = Extract<ResourceRef, { type: 'Platform' | 'Coop' | 'Cluster' | 'Tenancy' }>;

export type ResourceType = ResourceRef['type'];

export interface CedarRequestData {
  principal: EntityUidJson;
  resource: EntityUidJson;
  entities: EntityJson[];
}

const uid = (type: string, id: string) => ({ type, id });
const ref = (type: string, id: string): CedarValueJson => ({ __entity: { type, id } });
const PLATFORM = uid('Platform', PLATFORM_ID);

export function resourceUid(r: ResourceRef): { type: string; id: string } {
  return r.type === 'Platform' ? PLATFORM : uid(r.type, r.id);
}

/** Text like `Cluster::"0190..."`, for reasons and logs. */
export function uidText(u: { type: string; id: string }): string {
  return `${u.type}::${JSON.stringify(u.id)}`;
}

class EntityStore {
  readonly #byKey = new Map<string, EntityJson>();
  add(type: string, id: string, attrs: Record<string, CedarValueJson>, parents: Array<{ type: string; id: string }>): void {
    const key = `${type}\u0000${id}`;
    if (!this.#byKey.has(key)) this.#byKey.set(key, { uid: uid(type, id), attrs, parents });
  }
  list(): EntityJson[] {
    return [...this.#byKey.values()];
  }
}

function addPlatform(s: EntityStore): void {
  s.add('Platform', PLATFORM_ID, {}, []);
}
function addCoop(s: EntityStore, id: string): void {
  addPlatform(s);
  s.add('Coop', id, {}, [PLATFORM]);
}
function addCluster(s: EntityStore, id: string, coopId: string): void {
  addCoop(s, coopId);
  s.add('Cluster', id, {}, [uid('Coop', coopId)]);
}
function addTenancy(s: EntityStore, t: TenancyRef): void {
  // A tenancy is hosted on a cluster of its own co-op (the tenancies service enforces it).
  addCluster(s, t.clusterId, t.coopId);
  s.add('Tenancy', t.id, {}, [uid('Coop', t.coopId), uid('Cluster', t.clusterId)]);
}

const EMPTY_ACCOUNT_ATTRS = (): Record<string, CedarValueJson> => ({
  roles: { platformAdmin: [], auditor: [], coopAdmin: [], clusterOperatorCoop: [], clusterOperator: [], tenancyOwner: [], tenancyAdmin: [], transferApprover: [] },
  delegatesOn: { platform: [], coops: [], clusters: [], tenancies: [] },
  memberOf: [],
  machine: false,
  clientOf: { coops: [], tenancies: [] },
});

function addAccount(s: EntityStore, id: string, coopId: string | null, attrs = EMPTY_ACCOUNT_ATTRS()): void {
  addPlatform(s);
  if (coopId) addCoop(s, coopId);
  s.add('Account', id, attrs, coopId ? [uid('Coop', coopId), PLATFORM] : [PLATFORM]);
}

/** Which `roles` set a role held on a scope type lands in; undefined: not a valid pairing (ignored). */
function roleSet(role: Role, scopeType: Scope['type']): string | undefined {
  switch (`${role}@${scopeType}`) {
    case 'platform_admin@global':
      return 'platformAdmin';
    case 'auditor@global':
      return 'auditor';
    case 'coop_admin@coop':
      return 'coopAdmin';
    case 'cluster_operator@coop':
      return 'clusterOperatorCoop';
    case 'cluster_operator@cluster':
      return 'clusterOperator';
    case 'tenancy_owner@tenancy':
      return 'tenancyOwner';
    case 'tenancy_admin@tenancy':
      return 'tenancyAdmin';
    default:
      return undefined;
  }
}

const SCOPE_ENTITY = { global: 'Platform', coop: 'Coop', cluster: 'Cluster', tenancy: 'Tenancy' } as const;
const DELEGATES_ON = { global: 'platform', coop: 'coops', cluster: 'clusters', tenancy: 'tenancies' } as const;

function scopeValue(scope: Scope): CedarValueJson {
  return scope.type === 'global' ? ref('Platform', PLATFORM_ID) : ref(SCOPE_ENTITY[scope.type], scope.id);
}

export function principalAttrs(p: PrincipalFacts): Record<string, CedarValueJson> {
  const attrs = EMPTY_ACCOUNT_ATTRS();
  const roles = attrs.roles as Record<string, CedarValueJson[]>;
  const delegatesOn = attrs.delegatesOn as Record<string, CedarValueJson[]>;
  for (const g of p.grants) {
    const set = roleSet(g.role, g.scope.type);
    if (!set) continue;
    roles[set]!.push(scopeValue(g.scope));
    if (set === 'coopAdmin' && g.approvesTransfers) roles.transferApprover!.push(scopeValue(g.scope));
    if (g.delegable) delegatesOn[DELEGATES_ON[g.scope.type]]!.push(scopeValue(g.scope));
  }
  attrs.memberOf = [...new Set(p.memberOf ?? [])].map((id) => ref('Tenancy', id));
  if (p.machine) {
    attrs.machine = true;
    attrs.clientOf = p.machine.tenancyId ? { coops: [], tenancies: [ref('Tenancy', p.machine.tenancyId)] } : { coops: [ref('Coop', p.machine.coopId)], tenancies: [] };
  }
  return attrs;
}

function addResource(s: EntityStore, r: ResourceRef): void {
  switch (r.type) {
    case 'Platform':
      return addPlatform(s);
    case 'Coop':
      return addCoop(s, r.id);
    case 'Cluster':
      return addCluster(s, r.id, r.coopId);
    case 'Tenancy':
      return addTenancy(s, r);
    case 'Account':
      return addAccount(s, r.id, r.coopId);
    case 'Grant': {
      addResource(s, r.scope);
      const attrs = { holder: ref('Account', r.holderId), delegators: [...new Set(r.delegatorIds)].map((id) => ref('Account', id)) };
      return s.add('Grant', r.id, attrs, [resourceUid(r.scope)]);
    }
    case 'Client':
      addCoop(s, r.coopId);
      if (r.tenancy) addTenancy(s, r.tenancy);
      return s.add('Client', r.id, {}, r.tenancy ? [uid('Coop', r.coopId), uid('Tenancy', r.tenancy.id)] : [uid('Coop', r.coopId)]);
    case 'Upstream':
      addCoop(s, r.coopId);
      return s.add('Upstream', r.id, {}, [uid('Coop', r.coopId)]);
    case 'Transfer':
      addTenancy(s, r.tenancy);
      addCoop(s, r.targetCoopId);
      return s.add('Transfer', r.id, { target: ref('Coop', r.targetCoopId) }, [uid('Tenancy', r.tenancy.id)]);
    case 'Handover':
      addCoop(s, r.sourceCoopId);
      addCoop(s, r.targetCoopId);
      return s.add('Handover', r.id, { target: ref('Coop', r.targetCoopId) }, [uid('Coop', r.sourceCoopId)]);
  }
}

export function requestData(principal: PrincipalFacts, resource: ResourceRef): CedarRequestData {
  const s = new EntityStore();
  // The principal first: when it is also the resource, its attributes are the ones kept.
  addAccount(s, principal.accountId, principal.coopId, principalAttrs(principal));
  addResource(s, resource);
  return { principal: uid('Account', principal.accountId), resource: resourceUid(resource), entities: s.list() };
}
