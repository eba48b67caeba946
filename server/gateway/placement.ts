// Where a tenancy's meetings and recordings are. A tenancy moved to another cluster
// of its co-op (PATCH cluster, e.g. to drain a server) keeps its running meetings
// where they run until they end, as Scalelite's meeting → server map does: a meeting
// stays with the cluster it was created on (rooms.cluster_id) until meetplane learns
// that it ended there (rooms.ended_at: its `end` through the gateway, that cluster
// answering that it no longer knows it, or a health poll not listing it). Recordings
// are read from every cluster the inventory saw them on, or where meetings still run.
// Only clusters of the current cluster's co-op count: a transfer to another co-op
// ends the meetings first, and its calls never go back to the source co-op.
import type { Db } from '../db/index.js';
import { clustersHoldingRecordings, clustersRunningMeetings, meetingPlacement } from '../inventory/service.js';
import type { ClusterTarget, GatewayTarget, TargetResolver } from './target.js';

export interface MeetingPlace {
  cluster: ClusterTarget;
  /** on a former cluster of the co-op, not the tenancy's current one */
  moved: boolean;
}

export class Placement {
  constructor(
    private readonly db: Db,
    private readonly targets: TargetResolver,
  ) {}

  /** Where calls about this meeting go; undefined when the tenancy does not own the meeting id. */
  async ofMeeting(target: GatewayTarget, meetingId: string): Promise<MeetingPlace | undefined> {
    const room = await meetingPlacement(this.db, target.tenancy.id, meetingId);
    if (!room) return undefined;
    if (room.clusterId !== null && room.clusterId !== target.cluster.id && room.endedAt === null) {
      const former = await this.#sameCoop(target, room.clusterId);
      if (former) return { cluster: former, moved: true };
    }
    return { cluster: target.cluster, moved: false };
  }

  /** The current cluster, then every other cluster of the co-op where the tenancy's meetings still run. */
  async meetingClusters(target: GatewayTarget): Promise<ClusterTarget[]> {
    return this.#withCurrent(target, await clustersRunningMeetings(this.db, target.tenancy.id, target.cluster));
  }

  /** The current cluster, then every other cluster of the co-op that holds (or will soon hold) the tenancy's recordings. */
  async recordingClusters(target: GatewayTarget): Promise<ClusterTarget[]> {
    return this.#withCurrent(target, await clustersHoldingRecordings(this.db, target.tenancy.id, target.cluster));
  }

  async #withCurrent(target: GatewayTarget, ids: readonly string[]): Promise<ClusterTarget[]> {
    const former = await Promise.all(ids.map((id) => this.#sameCoop(target, id)));
    return [target.cluster, ...former.filter((c): c is ClusterTarget => c !== undefined)];
  }

  async #sameCoop(target: GatewayTarget, clusterId: string): Promise<ClusterTarget | undefined> {
    const cluster = await this.targets.cluster(clusterId);
    return cluster && cluster.coopId === target.cluster.coopId ? cluster : undefined;
  }
}
