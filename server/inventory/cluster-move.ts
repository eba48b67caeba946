// A tenancy moved to another cluster of its own co-op (PATCH cluster, e.g. to drain
// a server) takes none of its recordings along: they stay on the cluster it leaves.
// The inventory marks a recording at the tenancy's current cluster by a null
// cluster, so the move has to say where those now are, or the gateway would stop
// listing them and the next refresh would drop them as gone (a transfer's switch is
// different: it copied them, so there null stays right).
import { and, eq, isNull } from 'drizzle-orm';
import type { Tx } from '../db/index.js';
import { recordings } from './table.js';

/**
 * In the move's transaction: the recordings at the current cluster stay on `from`;
 * those left earlier on `to` are at the current cluster again. Returns how many stay.
 */
export async function recordingsStayOnMove(tx: Tx, tenancyId: string, from: string, to: string): Promise<number> {
  const stayed = await tx
    .update(recordings)
    .set({ clusterId: from })
    .where(and(eq(recordings.tenancyId, tenancyId), isNull(recordings.clusterId)))
    .returning({ id: recordings.id });
  await tx
    .update(recordings)
    .set({ clusterId: null })
    .where(and(eq(recordings.tenancyId, tenancyId), eq(recordings.clusterId, to)));
  return stayed.length;
}
