// Where a transfer goes. A co-op and cluster of this instance, or a co-op on another meetplane
// instance (`transfers.peer`), known only as that instance states it in its federation metadata
// (kept on the peer_transfers row of the same id when offered and accepted). The pages, mails and
// data-protection decisions describe either through `describeTarget`; the steps that touch the
// target's cluster (copy, switch, verify) exist for a local target only and take `localTarget`.
import { eq } from 'drizzle-orm';
import type { Executor } from '../db/index.js';
import { coops } from '../coops/table.js';
import { clusters } from '../clusters/table.js';
import { peerTransfers } from '../peer-transfers/table.js';
import type { transfers } from './table.js';

type Row = Pick<typeof transfers.$inferSelect, 'id' | 'peer' | 'targetCoopId' | 'targetClusterId'>;

export interface TransferTarget {
  name: string;
  /** the co-op's country (ISO 3166-1) */
  jurisdiction: string;
  legalRegime: string;
  contactEmail: string | null;
  /** the country of the cluster the tenancy will be hosted on */
  clusterCountry: string;
  /** the other instance's entity id; null for a co-op of this instance */
  instance: string | null;
  /** what the co-op states of itself on another instance (null here: the rules read the registry) */
  dpfListed: boolean | null;
  pipedaSubject: boolean | null;
}

/** A target on this instance: its co-op and cluster. A transfer to another instance has none (a bug to ask). */
export function localTarget(t: Row): { coopId: string; clusterId: string } {
  if (!t.targetCoopId || !t.targetClusterId) throw new Error(`transfer ${t.id} goes to another instance (${t.peer}); it has no co-op or cluster here`);
  return { coopId: t.targetCoopId, clusterId: t.targetClusterId };
}

export async function describeTarget(db: Executor, t: Row): Promise<TransferTarget | undefined> {
  if (t.peer) {
    const [row] = await db.select({ stated: peerTransfers.statedTarget }).from(peerTransfers).where(eq(peerTransfers.id, t.id)).limit(1);
    const s = row?.stated;
    if (!s) return undefined;
    return {
      name: s.coopName,
      jurisdiction: s.jurisdiction,
      legalRegime: s.legalRegime,
      contactEmail: s.contactEmail,
      clusterCountry: s.clusterCountry,
      instance: t.peer,
      dpfListed: s.dpfListed,
      pipedaSubject: s.pipedaSubject,
    };
  }
  const { coopId, clusterId } = localTarget(t);
  const [coop] = await db.select().from(coops).where(eq(coops.id, coopId)).limit(1);
  const [cluster] = await db.select({ country: clusters.country }).from(clusters).where(eq(clusters.id, clusterId)).limit(1);
  if (!coop) return undefined;
  return {
    name: coop.name,
    jurisdiction: coop.jurisdiction,
    legalRegime: coop.legalRegime,
    contactEmail: coop.contactEmail,
    clusterCountry: cluster?.country ?? coop.jurisdiction,
    instance: null,
    dpfListed: null,
    pipedaSubject: null,
  };
}
