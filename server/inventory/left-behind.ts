// A tenancy moved between clusters of its own co-op (PATCH cluster, a drain) leaves
// its recordings on the cluster it left (cluster-move.ts). A transfer, local or to
// another instance, copies from the tenancy's current cluster only, and after the
// switch the tenancy is no longer served by its old co-op's clusters: recordings
// left behind would be cut off from their members without anyone noticing. So a
// transfer asks first, at every other cluster of the co-op the tenancy ran meetings
// on or the inventory saw its recordings on, and stops before anything is moved if
// one holds any, or cannot be asked.
import type { Db } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Outbound } from '../net/outbound.js';
import { findCluster } from '../clusters/service.js';
import { clustersHoldingRecordings, fetchTenancyRecordings } from './service.js';

/** Every cluster the tenancy ever ran a meeting on counts, however long ago. */
const EVER = new Date(0);

/** Why the tenancy cannot be moved whole from `currentClusterId` (the caller says what it stopped), with a recording to name; null when nothing is left behind. */
export async function recordingsLeftBehind(
  deps: { db: Db; box: SecretBox; outbound: Outbound },
  tenancyId: string,
  currentClusterId: string,
): Promise<{ reason: string; recordId?: string } | null> {
  const current = await findCluster(deps.db, currentClusterId);
  if (!current) return null;
  for (const clusterId of await clustersHoldingRecordings(deps.db, tenancyId, current, { endedSince: EVER })) {
    const name = (await findCluster(deps.db, clusterId))?.slug ?? clusterId;
    let listed;
    try {
      listed = await fetchTenancyRecordings(deps.db, deps.box, { id: tenancyId, clusterId }, { outbound: deps.outbound });
    } catch (err) {
      return { reason: `cluster ${name}, which the tenancy left, did not say whether it still holds the tenancy's recordings (${(err as Error).message})` };
    }
    const [first] = listed;
    if (first)
      return {
        reason: `${listed.length} recording(s) of the tenancy, e.g. ${first.recordID}, are on cluster ${name}, which the tenancy left; a transfer copies from the tenancy's current cluster only`,
        recordId: first.recordID,
      };
  }
  return null;
}
