// Which tenancy a gateway request is for, and where its calls go: the tenancy's
// secret and state, and its current cluster's URL, secret and algorithm, read in
// one prepared query, with its forward when it moved to another instance; and, by
// id, a former cluster that still runs some of its meetings. Both are kept while
// their rows are unchanged (server/cache): a freeze, a switch of cluster, a rotated
// secret or a forward, made by this process or another on the same database,
// applies to the next call.
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { ChecksumAlgorithm } from '../bbb/checksum.js';
import { SLUG_RE, UUID_RE } from '../ids.js';
import { tenancies } from '../tenancies/table.js';
import { clusters } from '../clusters/table.js';
import { tenancyForwards } from '../forwarding/table.js';
import { forwardSecretLabel } from '../forwarding/service.js';
import { changeFeed } from '../cache/change-feed.js';
import { FreshCache } from '../cache/fresh-cache.js';

/** A cluster as the gateway calls it. */
export interface ClusterTarget {
  id: string;
  coopId: string;
  apiUrl: string;
  algorithm: ChecksumAlgorithm;
  secret: string;
}

export interface GatewayTarget {
  tenancy: { id: string; slug: string; state: string; secret: string };
  /** the tenancy's current cluster */
  cluster: ClusterTarget;
  /** where a tenancy moved to another instance is forwarded (server/forwarding) */
  forward?: ForwardTarget;
}

/** A moved tenancy's forward: the target's gateway URL for it and the secret it checks. */
export interface ForwardTarget {
  gatewayUrl: string;
  secret: string;
  until: Date;
}

const columns = {
  tenancyId: tenancies.id,
  slug: tenancies.slug,
  state: tenancies.state,
  tenancySealed: tenancies.bbbSecretSealed,
  clusterId: clusters.id,
  coopId: clusters.coopId,
  apiUrl: clusters.apiUrl,
  algorithm: clusters.checksumAlgorithm,
  clusterSealed: clusters.secretSealed,
  forwardUrl: tenancyForwards.gatewayUrl,
  forwardSealed: tenancyForwards.secretSealed,
  forwardUntil: tenancyForwards.until,
};

function prepare(db: Db) {
  const base = () =>
    db
      .select(columns)
      .from(tenancies)
      .innerJoin(clusters, eq(clusters.id, tenancies.clusterId))
      .leftJoin(tenancyForwards, eq(tenancyForwards.tenancyId, tenancies.id));
  return {
    bySlug: base().where(eq(tenancies.slug, sql.placeholder('ref'))).limit(1).prepare('gateway_target_slug'),
    byId: base().where(eq(tenancies.id, sql.placeholder('ref'))).limit(1).prepare('gateway_target_id'),
    cluster: db
      .select({ clusterId: clusters.id, coopId: clusters.coopId, apiUrl: clusters.apiUrl, algorithm: clusters.checksumAlgorithm, clusterSealed: clusters.secretSealed })
      .from(clusters)
      .where(eq(clusters.id, sql.placeholder('id')))
      .limit(1)
      .prepare('gateway_cluster'),
  };
}

export class TargetResolver {
  readonly #lookups;
  // Opened secrets by sealed text: a rotation changes the sealed text, so entries never go stale.
  readonly #opened = new Map<string, string>();
  readonly #targets: FreshCache<string, GatewayTarget>;
  readonly #clusters: FreshCache<string, ClusterTarget>;

  constructor(
    db: Db,
    private readonly box: SecretBox,
    opts: { maxAgeMs: number; onListenError?: (err: unknown) => void },
  ) {
    this.#lookups = prepare(db);
    const feed = changeFeed(db, opts.onListenError);
    // A target is a tenancy row, its cluster's and its forward's; a cluster target the cluster's row alone.
    this.#targets = new FreshCache(feed, { tables: ['tenancies', 'clusters', 'tenancy_forwards'], maxAgeMs: opts.maxAgeMs });
    this.#clusters = new FreshCache(feed, { tables: ['clusters'], maxAgeMs: opts.maxAgeMs });
  }

  /** `ref` is a tenancy slug or id; undefined when there is no such tenancy. */
  resolve(ref: string): Promise<GatewayTarget | undefined> {
    const lookup = UUID_RE.test(ref) ? this.#lookups.byId : SLUG_RE.test(ref) ? this.#lookups.bySlug : undefined;
    if (!lookup) return Promise.resolve(undefined);
    return this.#targets.get(ref, () => this.#read(lookup, ref));
  }

  async #read(lookup: ReturnType<typeof prepare>['byId'], ref: string): Promise<GatewayTarget | undefined> {
    const [row] = await lookup.execute({ ref });
    if (!row) return undefined;
    return {
      tenancy: { id: row.tenancyId, slug: row.slug, state: row.state, secret: this.#open(row.tenancySealed, `tenancy-bbb-secret:${row.tenancyId}`) },
      cluster: this.#cluster(row),
      ...(row.forwardUrl !== null && row.forwardSealed !== null && row.forwardUntil !== null
        ? { forward: { gatewayUrl: row.forwardUrl, secret: this.#open(row.forwardSealed, forwardSecretLabel(row.tenancyId)), until: row.forwardUntil } }
        : {}),
    };
  }

  /** Another cluster the tenancy's meetings or recordings are on; undefined when it no longer exists. */
  cluster(id: string): Promise<ClusterTarget | undefined> {
    return this.#clusters.get(id, async () => {
      const [row] = await this.#lookups.cluster.execute({ id });
      return row ? this.#cluster(row) : undefined;
    });
  }

  #cluster(row: { clusterId: string; coopId: string; apiUrl: string; algorithm: ChecksumAlgorithm; clusterSealed: string }): ClusterTarget {
    return {
      id: row.clusterId,
      coopId: row.coopId,
      apiUrl: row.apiUrl,
      algorithm: row.algorithm,
      secret: this.#open(row.clusterSealed, `cluster-secret:${row.clusterId}`),
    };
  }

  #open(sealed: string, label: string): string {
    let clear = this.#opened.get(sealed);
    if (clear === undefined) {
      clear = this.box.open(sealed, label);
      if (this.#opened.size > 10_000) this.#opened.clear();
      this.#opened.set(sealed, clear);
    }
    return clear;
  }
}

/** The tenancy slug in a Host header `<slug>.<suffix>[:port]`, if any. */
export function slugFromHost(host: string | undefined, suffix: string): string | undefined {
  if (!host) return undefined;
  const name = host.replace(/:\d+$/, '').replace(/\.$/, '').toLowerCase();
  const tail = `.${suffix.toLowerCase()}`;
  if (!name.endsWith(tail)) return undefined;
  const slug = name.slice(0, -tail.length);
  return SLUG_RE.test(slug) ? slug : undefined;
}
