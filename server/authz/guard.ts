// What route handlers use to ask the policies: `allow` for one action on one
// object (403/404 otherwise, and the acting principal carries the decision to
// the audit entry of the change), `visible` to keep only the items of a page
// the principal may read.
import { authorized, type Principal } from '../auth/principal.js';
import type { ResourceRef } from '../../policies/evaluator.js';
import type { Authz } from './authz.js';
import { problems } from '../http/problem.js';

export class Guard {
  constructor(readonly authz: Authz) {}

  /**
   * The principal acting under the allow decision. Denied: 404 `what` not found
   * when `readAction` is denied too (objects one may not see look missing),
   * else 403 naming the deciding policies.
   */
  async allow(p: Principal, action: string, resource: ResourceRef, what: string, readAction?: string): Promise<Principal> {
    return authorized(p, await this.authz.require(p, action, resource, { what, readAction }));
  }

  /** The items the principal may `action` (a read action), in their order. */
  async visible<T>(p: Principal, items: readonly T[], action: string, resourceOf: (item: T) => ResourceRef): Promise<T[]> {
    if (items.length === 0) return [];
    // One decision instead of one per item when the policies allow the action on
    // an object of the same type placed where the principal holds nothing (a
    // co-op, cluster and tenancy that exist nowhere): such an allow can only come
    // from a rule that covers every object of the type. Co-ops, clusters, tenancies
    // and accounts carry no attributes a rule could single one out by, so the
    // per-item decisions would all be allow too.
    const probe = strangerLike(resourceOf(items[0]!));
    if (probe && (await this.authz.decide(p, action, probe)).decision === 'allow') return [...items];
    // The same argument one level down: an allow for a stranger object placed in an
    // item's co-op (and cluster) covers every object of the type placed there, so a
    // page of one co-op costs one decision, not one per item.
    const placed = new Map<string, Promise<boolean>>();
    const out: T[] = [];
    for (const item of items) {
      const r = resourceOf(item);
      const inPlace = strangerIn(r);
      let covered = false;
      if (inPlace) {
        const key = JSON.stringify(inPlace);
        let d = placed.get(key);
        if (!d) placed.set(key, (d = this.authz.decide(p, action, inPlace).then((x) => x.decision === 'allow')));
        covered = await d;
      }
      if (covered || (await this.authz.decide(p, action, r)).decision === 'allow') out.push(item);
    }
    return out;
  }

  /**
   * Where the principal holds anything: a coarse pre-filter for list queries
   * (every item is still checked with `visible`), so pages are not mostly empty.
   */
  async reach(p: Principal): Promise<{ all: true } | { all: false; coopIds: string[]; clusterIds: string[]; tenancyIds: string[] }> {
    const facts = await this.authz.facts(p);
    if (facts.grants.some((g) => g.scope.type === 'global')) return { all: true };
    const ids = (type: string) => facts.grants.flatMap((g) => (g.scope.type === type && 'id' in g.scope ? [g.scope.id] : []));
    return {
      all: false,
      coopIds: [...new Set([...ids('coop'), ...(p.coopId ? [p.coopId] : [])])],
      clusterIds: ids('cluster'),
      tenancyIds: [...new Set([...ids('tenancy'), ...(facts.memberOf ?? []), ...(facts.machine?.tenancyId ? [facts.machine.tenancyId] : [])])],
    };
  }

  /**
   * Nobody hands out more than they hold, for tenancy memberships: giving a
   * membership role, or changing or ending one, needs at least that role on the
   * tenancy (the cover.* rules of policies/cover.cedar). Refused: audited as
   * `auditedAs`, 403.
   */
  async allowMembershipRole(p: Principal, tenancy: ResourceRef, role: 'owner' | 'admin' | 'member', auditedAs: string): Promise<void> {
    const d = await this.authz.decide(p, MEMBERSHIP_COVER[role], tenancy);
    if (d.decision === 'allow') return;
    await this.authz.auditDenial(p, auditedAs, tenancy, d);
    throw problems.forbidden(`giving, changing or ending the ${role} role of a tenancy needs at least that role on it: nobody hands out more than they hold`, {
      action: auditedAs,
      policyIds: d.policyIds,
      policySetHash: d.policySetHash,
    });
  }

  /** Whether the principal may read the object (for ids named in bodies and filters). */
  async canRead(p: Principal, action: string, resource: ResourceRef): Promise<boolean> {
    return (await this.authz.decide(p, action, resource)).decision === 'allow';
  }
}

export const coopRef = (c: { id: string }): ResourceRef => ({ type: 'Coop', id: c.id });
export const clusterRef = (c: { id: string; coopId: string }): ResourceRef => ({ type: 'Cluster', id: c.id, coopId: c.coopId });
export const tenancyRef = (t: { id: string; coopId: string; clusterId: string }): ResourceRef => ({ type: 'Tenancy', id: t.id, coopId: t.coopId, clusterId: t.clusterId });
export const accountRef = (a: { id: string; coopId: string | null }): ResourceRef => ({ type: 'Account', id: a.id, coopId: a.coopId });
export const PLATFORM: ResourceRef = { type: 'Platform' };
/**
 * A co-op on another instance (and, at a target instance, a tenancy there): an id no grant or
 * membership can name, so the rules see a transfer between instances as one out of (or into) the co-op.
 */
export const ELSEWHERE = '00000000-0000-0000-0000-000000000000';
/** A transfer lies inside its tenancy (source co-op); the target co-op is an attribute (ELSEWHERE on another instance). */
export const transferRef = (t: { id: string; tenancyId: string; sourceCoopId: string; sourceClusterId: string; targetCoopId: string | null }): ResourceRef => ({
  type: 'Transfer',
  id: t.id,
  tenancy: { id: t.tenancyId, coopId: t.sourceCoopId, clusterId: t.sourceClusterId },
  targetCoopId: t.targetCoopId ?? ELSEWHERE,
});

const MEMBERSHIP_COVER = { owner: 'cover.tenancyOwner', admin: 'cover.tenancyAdmin', member: 'cover.member' } as const;

const STRANGER = '00000000-0000-4000-8000-00000000dead';

/** An object of the same type nobody holds anything on, placed where `r` is (its co-op and cluster). */
function strangerIn(r: ResourceRef): ResourceRef | undefined {
  switch (r.type) {
    case 'Cluster':
      return { type: 'Cluster', id: STRANGER, coopId: r.coopId };
    case 'Tenancy':
      return { type: 'Tenancy', id: STRANGER, coopId: r.coopId, clusterId: r.clusterId };
    case 'Account':
      return r.coopId ? { type: 'Account', id: STRANGER, coopId: r.coopId } : undefined;
    default:
      return undefined;
  }
}

/** An object of the same type in a co-op (and cluster) nobody holds anything on. */
function strangerLike(r: ResourceRef): ResourceRef | undefined {
  switch (r.type) {
    case 'Coop':
      return { type: 'Coop', id: STRANGER };
    case 'Cluster':
      return { type: 'Cluster', id: STRANGER, coopId: STRANGER };
    case 'Tenancy':
      return { type: 'Tenancy', id: STRANGER, coopId: STRANGER, clusterId: STRANGER };
    case 'Account':
      return { type: 'Account', id: STRANGER, coopId: STRANGER };
    default:
      return undefined;
  }
}
