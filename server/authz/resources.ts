// Places stored objects in the policy tree: a co-op, cluster, tenancy,
// account or grant becomes the ResourceRef the evaluator needs (with its
// co-op, cluster, holder...). Lookups go through each module's service.
import type { Executor } from '../db/index.js';
import { UUID_RE } from '../ids.js';
import { findCoop } from '../coops/service.js';
import { findCluster } from '../clusters/service.js';
import { findTenancy } from '../tenancies/service.js';
import { findAccount } from '../accounts/service.js';
import { findGrant, resolveScope, type Grant } from '../grants/service.js';
import type { ResourceRef } from '../../policies/evaluator.js';

export const RESOURCE_KINDS = ['platform', 'coop', 'cluster', 'tenancy', 'account', 'grant'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/** The read action that decides whether an object of this kind is visible at all. */
export const READ_ACTION: Record<ResourceKind, string> = {
  platform: 'policy.read',
  coop: 'coop.read',
  cluster: 'cluster.read',
  tenancy: 'tenancy.read',
  account: 'account.read',
  grant: 'grant.read',
};

export async function grantResource(db: Executor, g: Grant): Promise<ResourceRef> {
  // A grant whose scope object is gone stays under the platform: only platform-wide roles, its holder and delegators see it.
  const scope = (await resolveScope(db, g.scope))?.resource ?? { type: 'Platform' as const };
  return { type: 'Grant', id: g.id, scope, holderId: g.holderId, delegatorIds: g.delegators };
}

/** The object, or undefined when there is none (ids of the wrong shape included). */
export async function findResource(db: Executor, kind: ResourceKind, id: string | undefined): Promise<ResourceRef | undefined> {
  if (kind === 'platform') return { type: 'Platform' };
  if (!id) return undefined;
  const uuid = UUID_RE.test(id);
  switch (kind) {
    case 'coop': {
      const c = await findCoop(db, id);
      return c && { type: 'Coop', id: c.id };
    }
    case 'cluster': {
      const c = await findCluster(db, id);
      return c && { type: 'Cluster', id: c.id, coopId: c.coopId };
    }
    case 'tenancy': {
      const t = await findTenancy(db, id);
      return t && { type: 'Tenancy', id: t.id, coopId: t.coopId, clusterId: t.clusterId };
    }
    case 'account': {
      const a = uuid ? await findAccount(db, id) : undefined;
      return a && { type: 'Account', id: a.id, coopId: a.coopId };
    }
    case 'grant': {
      const g = uuid ? await findGrant(db, id) : undefined;
      return g && (await grantResource(db, g));
    }
  }
}
