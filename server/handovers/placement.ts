// Where a data-move cluster's tenancies go: the target cluster the plan names,
// or the one of the target co-op with the most room left. Room is capacity
// minus the participants at the last health poll minus what the plan already
// placed there. meetplane does not record peak usage, so a tenancy's demand is
// the participants in its meetings at the last poll (at least one); every
// placement says which figures it rested on, and when there were none.
export interface TargetCluster {
  id: string;
  capacity: number;
  state: 'enabled' | 'draining' | 'disabled';
  /** participants at the last successful health poll; null: never polled */
  load: number | null;
}

export interface SourceDemand {
  clusterId: string;
  demand: number;
  /** the target the plan names, if any */
  targetClusterId?: string;
}

export interface PlacementResult {
  clusterId: string;
  targetClusterId: string;
  basis: 'measured' | 'none';
  note: string;
  demand: number;
  targetCapacity: number | null;
  targetLoad: number | null;
}

export const DEMAND_NOTE = 'demand: participants in the tenancies\' meetings at the last poll (at least 1 each); meetplane records no peak usage';

export function placeClusters(sources: readonly SourceDemand[], targets: readonly TargetCluster[]): { placed: PlacementResult[]; issues: string[] } {
  const assigned = new Map<string, number>();
  const issues: string[] = [];
  const placed: PlacementResult[] = [];
  const room = (t: TargetCluster) => t.capacity - (t.load ?? 0) - (assigned.get(t.id) ?? 0);
  // Largest first, so the big ones get the roomiest clusters.
  for (const s of [...sources].sort((a, b) => b.demand - a.demand || a.clusterId.localeCompare(b.clusterId))) {
    const usable = targets.filter((t) => t.state === 'enabled');
    const chosen = s.targetClusterId ? targets.find((t) => t.id === s.targetClusterId) : [...usable].sort((a, b) => room(b) - room(a) || a.id.localeCompare(b.id))[0];
    if (!chosen) {
      issues.push(s.targetClusterId ? `cluster ${s.clusterId}: the named target cluster is not a cluster of the target co-op` : `cluster ${s.clusterId}: the target co-op has no enabled cluster`);
      continue;
    }
    if (chosen.state !== 'enabled') issues.push(`cluster ${s.clusterId}: target cluster ${chosen.id} is ${chosen.state}`);
    const measured = chosen.load !== null;
    const left = room(chosen) - s.demand;
    assigned.set(chosen.id, (assigned.get(chosen.id) ?? 0) + s.demand);
    const note = measured
      ? `${s.targetClusterId ? 'named by the plan' : 'most room left'}: capacity ${chosen.capacity}, ${chosen.load} participants at the last poll, ${left} left after this cluster's demand ${s.demand}; ${DEMAND_NOTE}`
      : `${s.targetClusterId ? 'named by the plan' : 'chosen by capacity alone'}: the target cluster was never polled, so its load is unknown (capacity ${chosen.capacity}); ${DEMAND_NOTE}`;
    if (left < 0) issues.push(`cluster ${s.clusterId}: target cluster ${chosen.id} lacks room (${left} after placing a demand of ${s.demand})`);
    placed.push({ clusterId: s.clusterId, targetClusterId: chosen.id, basis: measured ? 'measured' : 'none', note, demand: s.demand, targetCapacity: chosen.capacity, targetLoad: chosen.load });
  }
  return { placed, issues };
}
