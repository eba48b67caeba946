// Custody transfer of one cluster: the servers stay and change hands. The
// cluster is re-registered under the target co-op with the new shared secret
// its operators set on the server (rotated through the clusters service,
// audited there), the roles held on the cluster itself are revoked (with
// what was delegated from them: the target co-op's admins hold it through
// their co-op now), and its tenancies move to the target co-op on the same
// cluster: no data is copied. Every step is in the audit log.
import { and, eq, isNull } from 'drizzle-orm';
import type { Principal } from '../auth/principal.js';
import type { SecretBox } from '../crypto/secretbox.js';
import { appendAudit } from '../audit/trail.js';
import { problems } from '../http/problem.js';
import { mapUniqueViolation } from '../db/errors.js';
import { findCluster, openClusterSecret, updateCluster } from '../clusters/service.js';
import { clusters } from '../clusters/table.js';
import { tenancies } from '../tenancies/table.js';
import { grants } from '../grants/table.js';
import { findGrant, revokeGrantIn } from '../grants/service.js';
import type { HandoverDeps } from './deps.js';
import { handoverClusters, handoverTenancies } from './table.js';
import type { Handover } from './plan.js';

export interface CustodyResult {
  clusterId: string;
  tenancies: number;
  grantsRevoked: string[];
}

export async function transferCustody(deps: HandoverDeps, box: SecretBox, actor: Principal, h: Handover, clusterId: string, newSecret: string): Promise<CustodyResult> {
  const db = deps.exec.db;
  if (h.state !== 'approved' && h.state !== 'running') throw problems.conflict('handover-state', `a ${h.state} hand-over moves no cluster`);
  const [hc] = await db.select().from(handoverClusters).where(and(eq(handoverClusters.handoverId, h.id), eq(handoverClusters.clusterId, clusterId)));
  if (!hc || hc.mode !== 'custody') throw problems.notFound('custody cluster of this hand-over');
  if (hc.custodyDoneAt) throw problems.conflict('custody-done', 'this cluster is in the target co-op\'s custody already');
  const cluster = await findCluster(db, clusterId);
  if (!cluster || cluster.coopId !== h.sourceCoopId) throw problems.conflict('custody-state', 'the cluster is no longer the source co-op\'s');
  if ((await openClusterSecret(db, box, clusterId)) === newSecret)
    throw problems.validation([{ path: 'secret', message: 'must differ from the current secret: custody changes it (set it on the server first)' }]);
  // 1. The secret, rotated (the clusters service audits cluster.update with secretRotated).
  const rotated = await updateCluster(db, box, actor, cluster, { secret: newSecret });
  // 2. The cluster and its tenancies re-registered under the target co-op; roles on the cluster revoked; one transaction.
  return mapUniqueViolation(
    () =>
      db.transaction(async (tx) => {
        const [moved] = await tx
          .update(clusters)
          .set({ coopId: h.targetCoopId, version: rotated.version + 1, updatedAt: new Date() })
          .where(and(eq(clusters.id, clusterId), eq(clusters.version, rotated.version)))
          .returning({ id: clusters.id });
        if (!moved) throw problems.preconditionFailed('(cluster changed meanwhile)');
        const ts = await tx
          .update(tenancies)
          // The source co-op's Greenlight is not the target's to name: the target's admins name theirs.
          .set({ coopId: h.targetCoopId, greenlightId: null, updatedAt: new Date() })
          .where(and(eq(tenancies.clusterId, clusterId), eq(tenancies.coopId, h.sourceCoopId)))
          .returning({ id: tenancies.id });
        const held = await tx
          .select({ id: grants.id })
          .from(grants)
          .where(and(eq(grants.scopeType, 'cluster'), eq(grants.scopeId, clusterId), isNull(grants.revokedAt)));
        const revoked: string[] = [];
        for (const g of held) {
          if (revoked.includes(g.id)) continue;
          const grant = await findGrant(tx, g.id);
          if (grant && grant.status === 'active') revoked.push(...(await revokeGrantIn(tx, actor, grant, `hand-over ${h.name}: cluster in the target co-op's custody`)));
        }
        await tx.update(handoverClusters).set({ custodyDoneAt: new Date() }).where(and(eq(handoverClusters.handoverId, h.id), eq(handoverClusters.clusterId, clusterId)));
        await tx
          .update(handoverTenancies)
          .set({ updatedAt: new Date() })
          .where(and(eq(handoverTenancies.handoverId, h.id), eq(handoverTenancies.clusterId, clusterId)));
        await appendAudit(tx, {
          actor,
          action: 'handover.custody',
          subject: { type: 'cluster', id: clusterId },
          before: { coop: h.sourceCoopId },
          after: { coop: h.targetCoopId },
          details: { handover: h.id, secretRotated: true, tenancies: ts.map((t) => t.id), grantsRevoked: revoked },
        });
        return { clusterId, tenancies: ts.length, grantsRevoked: revoked };
      }),
    () => problems.conflict('name-taken', `the target co-op already has a cluster named "${cluster.name}": rename one first`),
  );
}
