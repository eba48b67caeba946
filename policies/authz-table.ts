// The authorisation table: what every role may do, action by action, on each
// kind of object relative to where its grant is. It is the specification the
// policies are tested against (test/policies) and the REST matrix test checks
// route by route. Change a policy, change this table, and the tests agree.
//
// The world the table speaks of: co-op A with clusters A1 and A2, tenancy TA1
// on A1 and TA2 on A2; co-op B with cluster B1 and tenancy TB1; co-op C.
// Every holder is an account of co-op A; its one grant is delegable and
// first-hand (so ca's coop_admin grant approves transfers: see transferApproval).
//
// Columns (holders):
//   pa  platform_admin   on the global scope
//   au  auditor          on the global scope
//   ca  coop_admin       on co-op A
//   oc  cluster_operator on co-op A (every cluster of A)
//   ok  cluster_operator on cluster A1
//   to  tenancy_owner    on tenancy TA1
//   ta  tenancy_admin    on tenancy TA1
//   me  no grant; a member of tenancy TA1
//   no  no grant, no membership
// Cells: Y allow, . deny, - not applicable (the holder has no such object).
import type { ResourceType } from './entities.js';
import type { Role, ScopeType } from './roles.js';

export const HOLDERS = ['pa', 'au', 'ca', 'oc', 'ok', 'to', 'ta', 'me', 'no'] as const;
export type Holder = (typeof HOLDERS)[number];

/** The grant each holder has (none for me and no), and its scope in the world above. */
export const HOLDER_GRANTS: Record<Holder, { role: Role; scopeType: ScopeType; scope: 'global' | 'A' | 'A1' | 'TA1' } | null> = {
  pa: { role: 'platform_admin', scopeType: 'global', scope: 'global' },
  au: { role: 'auditor', scopeType: 'global', scope: 'global' },
  ca: { role: 'coop_admin', scopeType: 'coop', scope: 'A' },
  oc: { role: 'cluster_operator', scopeType: 'coop', scope: 'A' },
  ok: { role: 'cluster_operator', scopeType: 'cluster', scope: 'A1' },
  to: { role: 'tenancy_owner', scopeType: 'tenancy', scope: 'TA1' },
  ta: { role: 'tenancy_admin', scopeType: 'tenancy', scope: 'TA1' },
  me: null,
  no: null,
};

/** Which object a relation names, per resource type (see RELATIONS_BY_TYPE). */
export const RELATIONS = {
  global: 'the platform itself (collections, audit log, policies)',
  'own-coop': 'co-op A, or an object of co-op A outside TA1 (another account, a co-op-wide client, an upstream, a grant on TA2, a hand-over of A\'s platform to B)',
  'other-coop': 'co-op B or an object of co-op B (cluster B1, tenancy TB1, ...; a transfer of TB1 to co-op C)',
  'own-cluster': 'cluster A1 (hosts TA1)',
  'other-cluster': 'cluster A2 of co-op A',
  'own-tenancy': 'tenancy TA1, a client serving TA1, a transfer of TA1 to co-op B',
  'other-tenancy': 'tenancy TA2 of co-op A, a transfer of TA2 to co-op B',
  self: 'the holder\'s own account, or its own grant',
  delegated: 'a grant the holder delegated from its grant to someone else',
  incoming: 'a transfer of TB1 from co-op B into co-op A, or a hand-over of co-op B\'s platform to co-op A',
} as const;
export type Relation = keyof typeof RELATIONS;

/** The relations each resource type is tested in; the first type listed for an action claims a shared relation. */
export const RELATIONS_BY_TYPE: Record<ResourceType, readonly Relation[]> = {
  Platform: ['global'],
  Coop: ['own-coop', 'other-coop'],
  Cluster: ['own-cluster', 'other-cluster', 'other-coop'],
  Tenancy: ['own-tenancy', 'other-tenancy', 'other-coop'],
  Account: ['self', 'own-coop', 'other-coop'],
  Client: ['own-tenancy', 'own-coop', 'other-coop'],
  Upstream: ['own-coop', 'other-coop'],
  Grant: ['self', 'delegated', 'own-coop', 'other-coop'],
  Transfer: ['own-tenancy', 'other-tenancy', 'incoming', 'other-coop'],
  Handover: ['own-coop', 'incoming', 'other-coop'],
};
const TYPE_ORDER = Object.keys(RELATIONS_BY_TYPE) as ResourceType[];

/** The relations an action is tested in, each with the resource type it applies to. */
export function relationsOf(resourceTypes: readonly string[]): Array<{ relation: Relation; type: ResourceType }> {
  const out: Array<{ relation: Relation; type: ResourceType }> = [];
  for (const type of TYPE_ORDER.filter((t) => resourceTypes.includes(t)))
    for (const relation of RELATIONS_BY_TYPE[type]) if (!out.some((o) => o.relation === relation)) out.push({ relation, type });
  return out;
}

// prettier-ignore
const TABLE = `
action                 relation       pa au ca oc ok to ta me no
coop.list              global         Y  Y  Y  Y  Y  Y  Y  Y  Y
cluster.list           global         Y  Y  Y  Y  Y  Y  Y  Y  Y
tenancy.list           global         Y  Y  Y  Y  Y  Y  Y  Y  Y
account.list           global         Y  Y  Y  Y  Y  Y  Y  Y  Y
client.list            global         Y  Y  Y  Y  Y  Y  Y  Y  Y
upstream.list          global         Y  Y  Y  Y  Y  Y  Y  Y  Y
grant.list             global         Y  Y  Y  Y  Y  Y  Y  Y  Y
transfer.list          global         Y  Y  Y  Y  Y  Y  Y  Y  Y

coop.create            global         Y  .  .  .  .  .  .  .  .
coop.read              own-coop       Y  Y  Y  Y  Y  Y  Y  Y  Y
coop.read              other-coop     Y  Y  .  .  .  .  .  .  .
coop.update            own-coop       Y  .  Y  .  .  .  .  .  .
coop.update            other-coop     Y  .  .  .  .  .  .  .  .
coop.delete            own-coop       Y  .  .  .  .  .  .  .  .
coop.delete            other-coop     Y  .  .  .  .  .  .  .  .
coop.offboard          own-coop       Y  .  Y  .  .  .  .  .  .
coop.offboard          other-coop     Y  .  .  .  .  .  .  .  .
greenlight.read        own-coop       Y  Y  Y  .  .  .  .  .  .
greenlight.read        other-coop     Y  Y  .  .  .  .  .  .  .
greenlight.manage      own-coop       Y  .  Y  .  .  .  .  .  .
greenlight.manage      other-coop     Y  .  .  .  .  .  .  .  .

cluster.create         own-coop       Y  .  Y  .  .  .  .  .  .
cluster.create         other-coop     Y  .  .  .  .  .  .  .  .
cluster.read           own-cluster    Y  Y  Y  Y  Y  .  .  .  .
cluster.read           other-cluster  Y  Y  Y  Y  .  .  .  .  .
cluster.read           other-coop     Y  Y  .  .  .  .  .  .  .
cluster.readHealth     own-cluster    Y  Y  Y  Y  Y  .  .  .  .
cluster.readHealth     other-cluster  Y  Y  Y  Y  .  .  .  .  .
cluster.readHealth     other-coop     Y  Y  .  .  .  .  .  .  .
cluster.update         own-cluster    Y  .  Y  Y  Y  .  .  .  .
cluster.update         other-cluster  Y  .  Y  Y  .  .  .  .  .
cluster.update         other-coop     Y  .  .  .  .  .  .  .  .
cluster.drain          own-cluster    Y  .  Y  Y  Y  .  .  .  .
cluster.drain          other-cluster  Y  .  Y  Y  .  .  .  .  .
cluster.drain          other-coop     Y  .  .  .  .  .  .  .  .
cluster.readSecret     own-cluster    Y  .  Y  Y  Y  .  .  .  .
cluster.readSecret     other-cluster  Y  .  Y  Y  .  .  .  .  .
cluster.readSecret     other-coop     Y  .  .  .  .  .  .  .  .
cluster.delete         own-cluster    Y  .  Y  .  .  .  .  .  .
cluster.delete         other-cluster  Y  .  Y  .  .  .  .  .  .
cluster.delete         other-coop     Y  .  .  .  .  .  .  .  .

tenancy.create         own-coop       Y  .  Y  .  .  .  .  .  .
tenancy.create         other-coop     Y  .  .  .  .  .  .  .  .
tenancy.read           own-tenancy    Y  Y  Y  Y  Y  Y  Y  Y  .
tenancy.read           other-tenancy  Y  Y  Y  Y  .  .  .  .  .
tenancy.read           other-coop     Y  Y  .  .  .  .  .  .  .
tenancy.readInventory  own-tenancy    Y  Y  Y  Y  Y  Y  Y  .  .
tenancy.readInventory  other-tenancy  Y  Y  Y  Y  .  .  .  .  .
tenancy.readInventory  other-coop     Y  Y  .  .  .  .  .  .  .
tenancy.update         own-tenancy    Y  .  Y  .  .  Y  Y  .  .
tenancy.update         other-tenancy  Y  .  Y  .  .  .  .  .  .
tenancy.update         other-coop     Y  .  .  .  .  .  .  .  .
tenancy.rotateSecret   own-tenancy    Y  .  Y  .  .  Y  .  .  .
tenancy.rotateSecret   other-tenancy  Y  .  Y  .  .  .  .  .  .
tenancy.rotateSecret   other-coop     Y  .  .  .  .  .  .  .  .
tenancy.delete         own-tenancy    Y  .  Y  .  .  .  .  .  .
tenancy.delete         other-tenancy  Y  .  Y  .  .  .  .  .  .
tenancy.delete         other-coop     Y  .  .  .  .  .  .  .  .
membership.list        own-tenancy    Y  Y  Y  .  .  Y  Y  .  .
membership.list        other-tenancy  Y  Y  Y  .  .  .  .  .  .
membership.list        other-coop     Y  Y  .  .  .  .  .  .  .
membership.set         own-tenancy    Y  .  Y  .  .  Y  Y  .  .
membership.set         other-tenancy  Y  .  Y  .  .  .  .  .  .
membership.set         other-coop     Y  .  .  .  .  .  .  .  .
membership.delete      own-tenancy    Y  .  Y  .  .  Y  Y  .  .
membership.delete      other-tenancy  Y  .  Y  .  .  .  .  .  .
membership.delete      other-coop     Y  .  .  .  .  .  .  .  .

account.create         global         Y  .  .  .  .  .  .  .  .
account.create         own-coop       Y  .  Y  .  .  .  .  .  .
account.create         other-coop     Y  .  .  .  .  .  .  .  .
account.read           self           Y  Y  Y  Y  Y  Y  Y  Y  Y
account.read           own-coop       Y  Y  Y  .  .  .  .  .  .
account.read           other-coop     Y  Y  .  .  .  .  .  .  .
account.invite         self           Y  .  Y  .  .  .  .  .  .
account.invite         own-coop       Y  .  Y  .  .  .  .  .  .
account.invite         other-coop     Y  .  .  .  .  .  .  .  .
account.enroll         self           Y  .  Y  .  .  .  .  .  .
account.enroll         own-coop       Y  .  Y  .  .  .  .  .  .
account.enroll         other-coop     Y  .  .  .  .  .  .  .  .
account.link           self           Y  .  Y  .  .  .  .  .  .
account.link           own-coop       Y  .  Y  .  .  .  .  .  .
account.link           other-coop     Y  .  .  .  .  .  .  .  .
account.readExport     self           Y  Y  Y  Y  Y  Y  Y  Y  Y
account.readExport     own-coop       .  .  .  .  .  .  .  .  .
account.readExport     other-coop     .  .  .  .  .  .  .  .  .
account.suspend        self           Y  .  Y  .  .  .  .  .  .
account.suspend        own-coop       Y  .  Y  .  .  .  .  .  .
account.suspend        other-coop     Y  .  .  .  .  .  .  .  .
account.reinstate      self           Y  .  Y  .  .  .  .  .  .
account.reinstate      own-coop       Y  .  Y  .  .  .  .  .  .
account.reinstate      other-coop     Y  .  .  .  .  .  .  .  .
account.erase          self           Y  Y  Y  Y  Y  Y  Y  Y  Y
account.erase          own-coop       Y  .  Y  .  .  .  .  .  .
account.erase          other-coop     Y  .  .  .  .  .  .  .  .
account.export         self           Y  Y  Y  Y  Y  Y  Y  Y  Y
account.export         own-coop       .  .  .  .  .  .  .  .  .
account.export         other-coop     .  .  .  .  .  .  .  .  .
token.list             self           Y  Y  Y  Y  Y  Y  Y  Y  Y
token.list             own-coop       Y  .  .  .  .  .  .  .  .
token.list             other-coop     Y  .  .  .  .  .  .  .  .
token.create           self           Y  Y  Y  Y  Y  Y  Y  Y  Y
token.create           own-coop       Y  .  .  .  .  .  .  .  .
token.create           other-coop     Y  .  .  .  .  .  .  .  .
token.revoke           self           Y  Y  Y  Y  Y  Y  Y  Y  Y
token.revoke           own-coop       Y  .  .  .  .  .  .  .  .
token.revoke           other-coop     Y  .  .  .  .  .  .  .  .
me.pages               self           Y  Y  Y  Y  Y  Y  Y  Y  Y
me.pages               own-coop       Y  .  .  .  .  .  .  .  .
me.pages               other-coop     Y  .  .  .  .  .  .  .  .

client.create          own-coop       Y  .  Y  .  .  .  .  .  .
client.create          other-coop     Y  .  .  .  .  .  .  .  .
client.create          own-tenancy    Y  .  Y  .  .  Y  .  .  .
client.create          other-tenancy  Y  .  Y  .  .  .  .  .  .
client.read            own-tenancy    Y  Y  Y  .  .  Y  Y  .  .
client.read            own-coop       Y  Y  Y  .  .  .  .  .  .
client.read            other-coop     Y  Y  .  .  .  .  .  .  .
client.update          own-tenancy    Y  .  Y  .  .  Y  .  .  .
client.update          own-coop       Y  .  Y  .  .  .  .  .  .
client.update          other-coop     Y  .  .  .  .  .  .  .  .
client.rotateSecret    own-tenancy    Y  .  Y  .  .  Y  .  .  .
client.rotateSecret    own-coop       Y  .  Y  .  .  .  .  .  .
client.rotateSecret    other-coop     Y  .  .  .  .  .  .  .  .
client.delete          own-tenancy    Y  .  Y  .  .  Y  .  .  .
client.delete          own-coop       Y  .  Y  .  .  .  .  .  .
client.delete          other-coop     Y  .  .  .  .  .  .  .  .
upstream.create        own-coop       Y  .  Y  .  .  .  .  .  .
upstream.create        other-coop     Y  .  .  .  .  .  .  .  .
upstream.delete        own-coop       Y  .  Y  .  .  .  .  .  .
upstream.delete        other-coop     Y  .  .  .  .  .  .  .  .

grant.read             self           Y  Y  Y  Y  Y  Y  Y  -  -
grant.read             delegated      Y  Y  Y  Y  Y  Y  Y  -  -
grant.read             own-coop       Y  Y  Y  .  .  .  .  .  .
grant.read             other-coop     Y  Y  .  .  .  .  .  .  .
grant.revoke           self           Y  Y  Y  Y  Y  Y  Y  -  -
grant.revoke           delegated      Y  Y  Y  Y  Y  Y  Y  -  -
grant.revoke           own-coop       Y  .  Y  .  .  .  .  .  .
grant.revoke           other-coop     Y  .  .  .  .  .  .  .  .
grant.delegate         global         Y  Y  .  .  .  .  .  .  .
grant.delegate         own-coop       Y  Y  Y  Y  .  .  .  .  .
grant.delegate         other-coop     Y  Y  .  .  .  .  .  .  .
grant.delegate         own-cluster    Y  Y  Y  Y  Y  .  .  .  .
grant.delegate         other-cluster  Y  Y  Y  Y  .  .  .  .  .
grant.delegate         own-tenancy    Y  Y  Y  Y  .  Y  Y  .  .
grant.delegate         other-tenancy  Y  Y  Y  Y  .  .  .  .  .

transfer.create        own-tenancy    Y  .  Y  .  .  Y  .  .  .
transfer.create        other-tenancy  Y  .  Y  .  .  .  .  .  .
transfer.create        other-coop     Y  .  .  .  .  .  .  .  .
transfer.read          own-tenancy    Y  Y  Y  .  .  Y  Y  Y  .
transfer.read          other-tenancy  Y  Y  Y  .  .  .  .  .  .
transfer.read          incoming       Y  Y  Y  .  .  .  .  .  .
transfer.read          other-coop     Y  Y  .  .  .  .  .  .  .
transfer.check         own-tenancy    Y  .  Y  .  .  .  .  .  .
transfer.check         other-tenancy  Y  .  Y  .  .  .  .  .  .
transfer.check         incoming       Y  .  Y  .  .  .  .  .  .
transfer.check         other-coop     Y  .  .  .  .  .  .  .  .
transfer.approve       own-tenancy    Y  .  Y  .  .  Y  .  .  .
transfer.approve       other-tenancy  Y  .  Y  .  .  .  .  .  .
transfer.approve       incoming       Y  .  Y  .  .  .  .  .  .
transfer.approve       other-coop     Y  .  .  .  .  .  .  .  .
transfer.approveAsSource own-tenancy   .  .  Y  .  .  .  .  .  .
transfer.approveAsSource other-tenancy .  .  Y  .  .  .  .  .  .
transfer.approveAsSource incoming      .  .  .  .  .  .  .  .  .
transfer.approveAsSource other-coop    .  .  .  .  .  .  .  .  .
transfer.approveAsTarget own-tenancy   .  .  .  .  .  .  .  .  .
transfer.approveAsTarget other-tenancy .  .  .  .  .  .  .  .  .
transfer.approveAsTarget incoming      .  .  Y  .  .  .  .  .  .
transfer.approveAsTarget other-coop    .  .  .  .  .  .  .  .  .
transfer.approveAsOwner own-tenancy    .  .  .  .  .  Y  .  .  .
transfer.approveAsOwner other-tenancy  .  .  .  .  .  .  .  .  .
transfer.approveAsOwner incoming       .  .  .  .  .  .  .  .  .
transfer.approveAsOwner other-coop     .  .  .  .  .  .  .  .  .
transfer.cancel        own-tenancy    Y  .  Y  .  .  Y  .  .  .
transfer.cancel        other-tenancy  Y  .  Y  .  .  .  .  .  .
transfer.cancel        incoming       Y  .  .  .  .  .  .  .  .
transfer.cancel        other-coop     Y  .  .  .  .  .  .  .  .
transfer.retry         own-tenancy    Y  .  Y  .  .  .  .  .  .
transfer.retry         other-tenancy  Y  .  Y  .  .  .  .  .  .
transfer.retry         incoming       Y  .  Y  .  .  .  .  .  .
transfer.retry         other-coop     Y  .  .  .  .  .  .  .  .
transfer.resolve       own-tenancy    Y  .  Y  .  .  .  .  .  .
transfer.resolve       other-tenancy  Y  .  Y  .  .  .  .  .  .
transfer.resolve       incoming       Y  .  Y  .  .  .  .  .  .
transfer.resolve       other-coop     Y  .  .  .  .  .  .  .  .
transfer.recordNotice  own-tenancy    Y  .  Y  .  .  .  .  .  .
transfer.recordNotice  other-tenancy  Y  .  Y  .  .  .  .  .  .
transfer.recordNotice  incoming       Y  .  .  .  .  .  .  .  .
transfer.recordNotice  other-coop     Y  .  .  .  .  .  .  .  .
transfer.object        own-tenancy    Y  .  .  .  .  Y  Y  Y  .
transfer.object        other-tenancy  Y  .  .  .  .  .  .  .  .
transfer.object        incoming       Y  .  .  .  .  .  .  .  .
transfer.object        other-coop     Y  .  .  .  .  .  .  .  .

handover.list          global         Y  Y  Y  Y  Y  Y  Y  Y  Y
handover.create        own-coop       Y  .  Y  .  .  .  .  .  .
handover.create        other-coop     Y  .  .  .  .  .  .  .  .
handover.read          own-coop       Y  Y  Y  .  .  .  .  .  .
handover.read          incoming       Y  Y  Y  .  .  .  .  .  .
handover.read          other-coop     Y  Y  .  .  .  .  .  .  .
handover.run           own-coop       Y  .  Y  .  .  .  .  .  .
handover.run           incoming       Y  .  Y  .  .  .  .  .  .
handover.run           other-coop     Y  .  .  .  .  .  .  .  .
handover.tasks         own-coop       Y  .  Y  .  .  .  .  .  .
handover.tasks         incoming       Y  .  Y  .  .  .  .  .  .
handover.tasks         other-coop     Y  .  .  .  .  .  .  .  .
handover.delegateOperators own-coop   Y  .  Y  .  .  .  .  .  .
handover.delegateOperators incoming   Y  .  .  .  .  .  .  .  .
handover.delegateOperators other-coop Y  .  .  .  .  .  .  .  .
handover.approveAsSource own-coop     .  .  Y  .  .  .  .  .  .
handover.approveAsSource incoming     .  .  .  .  .  .  .  .  .
handover.approveAsSource other-coop   .  .  .  .  .  .  .  .  .
handover.approveAsTarget own-coop     .  .  .  .  .  .  .  .  .
handover.approveAsTarget incoming     .  .  Y  .  .  .  .  .  .
handover.approveAsTarget other-coop   .  .  .  .  .  .  .  .  .
handover.askLater      own-tenancy    Y  .  .  .  .  Y  .  .  .
handover.askLater      other-tenancy  Y  .  .  .  .  .  .  .  .
handover.askLater      incoming       Y  .  .  .  .  .  .  .  .
handover.askLater      other-coop     Y  .  .  .  .  .  .  .  .

audit.read             global         Y  Y  .  .  .  .  .  .  .
audit.forget           self           Y  .  .  .  .  .  .  .  .
audit.forget           own-coop       Y  .  .  .  .  .  .  .  .
audit.forget           other-coop     Y  .  .  .  .  .  .  .  .
federation.read        global         Y  Y  .  .  .  .  .  .  .
federation.manage      global         Y  .  .  .  .  .  .  .  .
policy.read            global         Y  Y  Y  Y  Y  Y  Y  Y  Y
policy.check           self           Y  Y  Y  Y  Y  Y  Y  Y  Y
policy.check           own-coop       Y  Y  Y  .  .  .  .  .  .
policy.check           other-coop     Y  Y  .  .  .  .  .  .  .

cover.auditor          global         Y  Y  .  .  .  .  .  .  .
cover.clusterOperator  own-coop       Y  .  Y  Y  .  .  .  .  .
cover.clusterOperator  other-coop     Y  .  .  .  .  .  .  .  .
cover.clusterOperator  own-cluster    Y  .  Y  Y  Y  .  .  .  .
cover.clusterOperator  other-cluster  Y  .  Y  Y  .  .  .  .  .
cover.coopAdmin        own-coop       Y  .  Y  .  .  .  .  .  .
cover.coopAdmin        other-coop     Y  .  .  .  .  .  .  .  .
cover.delegation       global         Y  Y  .  .  .  .  .  .  .
cover.delegation       own-coop       Y  Y  Y  Y  .  .  .  .  .
cover.delegation       other-coop     Y  Y  .  .  .  .  .  .  .
cover.delegation       own-cluster    Y  Y  Y  Y  Y  .  .  .  .
cover.delegation       other-cluster  Y  Y  Y  Y  .  .  .  .  .
cover.delegation       own-tenancy    Y  Y  Y  Y  .  Y  Y  .  .
cover.delegation       other-tenancy  Y  Y  Y  Y  .  .  .  .  .
cover.member           own-tenancy    Y  .  Y  .  .  Y  Y  Y  .
cover.member           other-tenancy  Y  .  Y  .  .  .  .  .  .
cover.member           other-coop     Y  .  .  .  .  .  .  .  .
cover.platformAdmin    global         Y  .  .  .  .  .  .  .  .
cover.tenancyAdmin     own-tenancy    Y  .  Y  .  .  Y  Y  .  .
cover.tenancyAdmin     other-tenancy  Y  .  Y  .  .  .  .  .  .
cover.tenancyAdmin     other-coop     Y  .  .  .  .  .  .  .  .
cover.tenancyOwner     own-tenancy    Y  .  Y  .  .  Y  .  .  .
cover.tenancyOwner     other-tenancy  Y  .  Y  .  .  .  .  .  .
cover.tenancyOwner     other-coop     Y  .  .  .  .  .  .  .  .
cover.transferApprover own-coop       Y  .  Y  .  .  .  .  .  .
cover.transferApprover other-coop     Y  .  .  .  .  .  .  .  .
`;

export type Expectation = 'allow' | 'deny' | 'n/a';

export interface TableRow {
  action: string;
  relation: Relation;
  expect: Record<Holder, Expectation>;
}

const CELL: Record<string, Expectation> = { Y: 'allow', '.': 'deny', '-': 'n/a' };

/** The table as rows; throws on a malformed line so a typo cannot pass silently. */
export function authzTable(): TableRow[] {
  const lines = TABLE.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('action '));
  return lines.map((line) => {
    const [action, relation, ...cells] = line.split(/\s+/);
    if (!action || !relation || !(relation in RELATIONS)) throw new Error(`authz table: bad relation in "${line}"`);
    if (cells.length !== HOLDERS.length || cells.some((c) => !(c in CELL))) throw new Error(`authz table: bad cells in "${line}"`);
    const expect = Object.fromEntries(HOLDERS.map((h, i) => [h, CELL[cells[i]!]!])) as Record<Holder, Expectation>;
    return { action, relation: relation as Relation, expect };
  });
}
