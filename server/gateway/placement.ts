// Where a tenancy's meetings and recordings are. A tenancy moved to another cluster
// of its co-op (PATCH cluster, e.g. to drain a server) keeps its running meetings
// where they run until they end, as Scalelite's meeting → server map does: a meeting
// stays with the cluster it was created on (rooms.cluster_id) until meetplane learns
// that it ended there (rooms.ended_at: its `end` through the gateway, that cluster
// answering that it no longer knows it, or a health poll not listing it). Recordings
// are read from every cluster the inventory saw them on, or where meetings still run.
// Only clusters of the current cluster's co-op count: a transfer to another co-op
// ends the meetings first, and its calls never go back to the source co-op.
// What was read is kept until a change to its tables (server/cache, migration 0042),
// made by this process or another on the same database: the gateway asked the
// database once per call before, and that round trip was most of a join's cost.
import type { Db } from '../db/index.js';
import { clustersHoldingRecordings, clustersRunningMeetings, meetingPlacement } from '../inventory/service.js';
import { changeFeed } from '../cache/change-feed.js';
import { FreshCache } from '../cache/fresh-cache.js';
import type { ClusterTarget, GatewayTarget, TargetResolver } from './target.js';

export interface MeetingPlace {
  cluster: ClusterTarget;
  /** on a former cluster of the co-op, not the tenancy's current one */
  moved: boolean;
}

type Room = { clusterId: string | null; endedAt: Date | null };

export class Placement {
  // A meeting the tenancy does not own is not kept (FreshCache keeps only what exists).
  readonly #rooms: FreshCache<string, Room>;
  readonly #running: FreshCache<string, string[]>;
  readonly #holding: FreshCache<string, string[]>;

  constructor(
    private readonly db: Db,
    private readonly targets: TargetResolver,
    opts: { maxAgeMs: number },
  ) {
    const feed = changeFeed(db);
    this.#rooms = new FreshCache(feed, { tables: ['rooms'], maxAgeMs: opts.maxAgeMs });
    this.#running = new FreshCache(feed, { tables: ['rooms', 'clusters'], maxAgeMs: opts.maxAgeMs });
    this.#holding = new FreshCache(feed, { tables: ['rooms', 'recordings', 'clusters'], maxAgeMs: opts.maxAgeMs });
  }

  /** Where calls about this meeting go; undefined when the tenancy does not own the meeting id. */
  async ofMeeting(target: GatewayTarget, meetingId: string): Promise<MeetingPlace | undefined> {
    const room = await this.#rooms.get(`${target.tenancy.id}\n${meetingId}`, () => meetingPlacement(this.db, target.tenancy.id, meetingId));
    if (!room) return undefined;
    if (room.clusterId !== null && room.clusterId !== target.cluster.id && room.endedAt === null) {
      const former = await this.#sameCoop(target, room.clusterId);
      if (former) return { cluster: former, moved: true };
    }
    return { cluster: target.cluster, moved: false };
  }

  /** The current cluster, then every other cluster of the co-op where the tenancy's meetings still run. */
  async meetingClusters(target: GatewayTarget): Promise<ClusterTarget[]> {
    const ids = await this.#running.get(this.#key(target), () => clustersRunningMeetings(this.db, target.tenancy.id, target.cluster));
    return this.#withCurrent(target, ids ?? []);
  }

  /** The current cluster, then every other cluster of the co-op that holds (or will soon hold) the tenancy's recordings. */
  async recordingClusters(target: GatewayTarget): Promise<ClusterTarget[]> {
    const ids = await this.#holding.get(this.#key(target), () => clustersHoldingRecordings(this.db, target.tenancy.id, target.cluster));
    return this.#withCurrent(target, ids ?? []);
  }

  /** This process changed rooms (a create, a meeting seen ended): its next call reads them again, before the notice arrives. */
  changed(): void {
    changeFeed(this.db).bump('rooms');
  }

  #key(target: GatewayTarget): string {
    return `${target.tenancy.id}\n${target.cluster.id}\n${target.cluster.coopId}`;
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
