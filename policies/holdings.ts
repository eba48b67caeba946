// The roles an account holds, as the cover.* questions of policies/cover.cedar:
// one (action, scope) pair per role per scope. An actor may act on the account
// only when every one of them is allowed for the actor ("nobody hands out more
// than they hold"). Pure: the caller places each scope in the resource tree.
import type { GrantFact, PrincipalFacts } from './entities.js';
import type { Scope } from './roles.js';

export interface Holding {
  action: string;
  scope: Scope;
}

const COVER_ACTION: Record<GrantFact['role'], string> = {
  platform_admin: 'cover.platformAdmin',
  auditor: 'cover.auditor',
  coop_admin: 'cover.coopAdmin',
  cluster_operator: 'cover.clusterOperator',
  tenancy_owner: 'cover.tenancyOwner',
  tenancy_admin: 'cover.tenancyAdmin',
};

/**
 * Every cover question the account's facts raise, deduplicated. `platformAdmin`
 * is the account's legacy flag: it counts as a platform_admin grant.
 */
export function holdingsOf(account: PrincipalFacts & { platformAdmin?: boolean }): Holding[] {
  const out = new Map<string, Holding>();
  const add = (action: string, scope: Scope) => out.set(`${action} ${scope.type === 'global' ? '' : scope.id}`, { action, scope });
  if (account.platformAdmin) add('cover.platformAdmin', { type: 'global' });
  for (const g of account.grants) {
    add(COVER_ACTION[g.role], g.scope);
    if (g.delegable) add('cover.delegation', g.scope);
    if (g.role === 'coop_admin' && g.approvesTransfers) add('cover.transferApprover', g.scope);
  }
  for (const tenancyId of account.memberOf ?? []) add('cover.member', { type: 'tenancy', id: tenancyId });
  return [...out.values()];
}
