// The target co-op's tech team learns the platform hands-on: a source admin
// delegates them cluster_operator on the plan's source clusters, through the
// grants service (its delegation rules and the grant.delegate policy decide,
// every grant audited), expiring with the plan: at its decommission date, or
// the delegating grant's own expiry if that comes first (a delegation can
// never outlive what it came from).
import { eq } from 'drizzle-orm';
import type { Principal } from '../auth/principal.js';
import type { Authz } from '../authz/authz.js';
import { problems } from '../http/problem.js';
import { findAccount } from '../accounts/service.js';
import { activeGrants, delegate, type DelegationInput } from '../grants/service.js';
import type { HandoverDeps } from './deps.js';
import { handoverClusters, handoverGrants } from './table.js';
import type { Handover } from './plan.js';

export interface OperatorGrant {
  grantId: string;
  clusterId: string;
  expiresAt: string;
}

export async function delegateOperators(
  deps: HandoverDeps & { authz: Authz; maxDepth: number },
  actor: Principal,
  h: Handover,
  accountId: string,
): Promise<OperatorGrant[]> {
  const db = deps.exec.db;
  if (h.state === 'completed' || h.state === 'cancelled') throw problems.conflict('handover-state', `a ${h.state} hand-over delegates nothing`);
  const who = await findAccount(db, accountId);
  if (!who || who.coopId !== h.targetCoopId) throw problems.validation([{ path: 'account', message: "must be an account of the target co-op (its tech team)" }]);
  const from = (await activeGrants(db, actor.accountId)).find((g) => g.role === 'coop_admin' && g.scope.type === 'coop' && g.scope.id === h.sourceCoopId && g.delegable);
  if (!from) throw problems.forbidden('delegating needs your own delegable coop_admin grant on the source co-op');
  const until = from.expiresAt && from.expiresAt < h.decommissionAt ? from.expiresAt : h.decommissionAt;
  const clusterIds = (await db.select({ id: handoverClusters.clusterId }).from(handoverClusters).where(eq(handoverClusters.handoverId, h.id))).map((c) => c.id);
  const out: OperatorGrant[] = [];
  for (const clusterId of clusterIds) {
    const input: DelegationInput = {
      fromGrantId: from.id,
      to: { kind: 'account', id: accountId },
      role: 'cluster_operator',
      scope: { type: 'cluster', id: clusterId },
      delegable: false,
      expiresAt: until,
      reason: `hand-over ${h.name}: the target co-op's team operates the source clusters until ${until.toISOString().slice(0, 10)}`,
    };
    const g = await delegate(db, actor, input, {
      maxDepth: deps.maxDepth,
      authorize: (scope) => deps.authz.require(actor, 'grant.delegate', scope, { what: 'scope' }),
    });
    await db.insert(handoverGrants).values({ handoverId: h.id, grantId: g.id, accountId, clusterId });
    out.push({ grantId: g.id, clusterId, expiresAt: until.toISOString() });
  }
  return out;
}
