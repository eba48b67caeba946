// Roles and scopes: what a grant can be, where each role may be held, and
// which roles are "the same or narrower" for delegation. The evaluator maps
// grants onto the Cedar schema with these; the delegation rules use them too.

export const ROLES = ['platform_admin', 'coop_admin', 'cluster_operator', 'tenancy_owner', 'tenancy_admin', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export const SCOPE_TYPES = ['global', 'coop', 'cluster', 'tenancy'] as const;
export type ScopeType = (typeof SCOPE_TYPES)[number];

export type Scope = { type: 'global' } | { type: 'coop' | 'cluster' | 'tenancy'; id: string };

/** The scope types each role can be held on. */
export const ROLE_SCOPES: Record<Role, readonly ScopeType[]> = {
  platform_admin: ['global'],
  auditor: ['global'],
  coop_admin: ['coop'],
  cluster_operator: ['coop', 'cluster'],
  tenancy_owner: ['tenancy'],
  tenancy_admin: ['tenancy'],
};

/**
 * The roles a holder of each role may delegate: itself and the roles whose
 * permissions are a subset of its own (see the policies).
 */
export const DELEGABLE_ROLES: Record<Role, readonly Role[]> = {
  platform_admin: ROLES,
  coop_admin: ['coop_admin', 'cluster_operator', 'tenancy_owner', 'tenancy_admin'],
  cluster_operator: ['cluster_operator'],
  tenancy_owner: ['tenancy_owner', 'tenancy_admin'],
  tenancy_admin: ['tenancy_admin'],
  auditor: ['auditor'],
};
