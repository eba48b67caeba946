// REST for BBB clusters. The API secret is write-only: accepted on create and
// update, never returned.
import { createRoute, z } from '@hono/zod-openapi';
import { router, type Deps } from '../http/env.js';
import { clusterFor } from '../authz/objects.js';
import { Country, IdOrSlug, IfMatchHeader, Name, Slug, Timestamp, commonErrors, jsonBody, jsonContent } from '../http/schemas.js';
import { UUID_RE } from '../ids.js';
import { PageQuery, decodeCursor, page, pageSchema } from '../http/pagination.js';
import { etagOf, requireIfMatch } from '../http/etag.js';
import { problems } from '../http/problem.js';
import { clusterRef, coopRef, PLATFORM } from '../authz/guard.js';
import { findCoop } from '../coops/service.js';
import { createCluster, deleteCluster, listClusters, updateCluster, type Cluster } from './service.js';
import { healthOf, findHealth, type ClusterHealth } from './health.js';
import { HealthOut, healthOut } from './health-routes.js';
import { OutboundRefused, outboundFor, urlShapeProblem, type Outbound } from '../net/outbound.js';

const Algorithm = z.enum(['sha1', 'sha256', 'sha384', 'sha512']);
const State = z.enum(['enabled', 'draining', 'disabled']);
// Credentials in the URL would be written verbatim into the audit log and API answers: the secret has its own field.
const ApiUrl = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .superRefine((u, ctx) => {
    const url = URL.parse(u);
    if (!url || !/^https?:$/.test(url.protocol)) return; // z.url said so already
    const problem = urlShapeProblem(url);
    if (problem) ctx.addIssue({ code: 'custom', message: `${problem} (the BBB secret goes in secret)` });
  })
  .transform((u) => u.replace(/\/+$/, ''))
  .openapi({ example: 'https://bbb1.example.org/bigbluebutton/api' });
// host[:port] as URL.host spells it: a DNS name or IPv4 address in lower case, no scheme, no path.
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
function isHostPort(h: string): boolean {
  const m = /^([^:]+)(?::([0-9]{1,5}))?$/.exec(h);
  if (!m || m[1]!.length > 253 || !m[1]!.split('.').every((l) => LABEL.test(l))) return false;
  return m[2] === undefined || (Number(m[2]) >= 1 && Number(m[2]) <= 65535);
}
const PlaybackHosts = z
  .array(
    z
      .string()
      .max(260)
      .transform((h) => h.toLowerCase())
      .refine(isHostPort, { message: 'must be a host name, with a port if not the default (e.g. recordings.example.org or bbb1.example.org:8443)' }),
  )
  .max(20)
  .refine((hs) => new Set(hs).size === hs.length, { message: 'must not repeat a host' })
  .openapi({
    description: "Host names the cluster's recordings are played from (links in their metadata.xml); empty: the API URL's host. A transfer rewrites links to any of them for the target.",
    example: ['recordings.example.org'],
  });
// A slug shaped like a UUID would be read as an id wherever either is taken.
const ClusterSlug = Slug.refine((s) => !UUID_RE.test(s), { message: 'must not look like a UUID' }).openapi({ example: 'bbb-north' });
const Secret = z.string().min(8).max(512).openapi({ writeOnly: true, description: 'BBB shared secret; never returned' });

const ClusterOut = z
  .object({
    id: z.string(),
    coopId: z.string(),
    slug: z.string().openapi({ description: 'Unique on the instance; taken wherever a cluster id is' }),
    name: z.string(),
    apiUrl: z.string(),
    playbackHosts: z.array(z.string()).openapi({ description: 'as configured (empty: the API URL\'s host)' }),
    checksumAlgorithm: Algorithm,
    country: z.string(),
    capacity: z.number().int(),
    state: State,
    version: z.number().int(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    health: HealthOut.optional().openapi({ description: 'The last health poll (listings and show)' }),
  })
  .openapi('Cluster');

const ClusterCreate = z
  .object({
    coop: IdOrSlug.openapi({ description: 'Owning co-op, id or slug' }),
    slug: ClusterSlug.optional().openapi({ description: 'Unique on the instance; absent: derived from the name (bbb-north-1 from "BBB North 1", with -2, -3 … when taken)' }),
    name: Name,
    apiUrl: ApiUrl,
    secret: Secret,
    playbackHosts: PlaybackHosts.default([]),
    checksumAlgorithm: Algorithm.default('sha256'),
    country: Country,
    capacity: z.number().int().min(0).max(1_000_000).openapi({ description: 'Participants the cluster can carry' }),
    state: State.default('enabled'),
  })
  .strict()
  .openapi('ClusterCreate');

const ClusterPatch = z
  .object({ slug: ClusterSlug, name: Name, apiUrl: ApiUrl, secret: Secret, playbackHosts: PlaybackHosts, checksumAlgorithm: Algorithm, country: Country, capacity: z.number().int().min(0).max(1_000_000), state: State })
  .partial()
  .strict()
  .openapi('ClusterPatch');

const ListQuery = PageQuery.extend({ coop: IdOrSlug.optional().openapi({ param: { name: 'coop', in: 'query' } }) });
const ClusterId = z.object({ id: IdOrSlug.openapi({ param: { name: 'id', in: 'path' }, example: 'bbb-north' }) });

function out(c: Cluster, health?: ClusterHealth | null) {
  return {
    ...c,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
    ...(health !== undefined ? { health: healthOut(health ?? undefined) } : {}),
  };
}

/** An apiUrl whose host is an address the outbound policy refuses is refused here already (names: at each connection). */
function checkApiUrl(outbound: Outbound, apiUrl: string | undefined): void {
  if (apiUrl === undefined) return;
  try {
    outbound.checkUrl(apiUrl);
  } catch (err) {
    if (err instanceof OutboundRefused) throw problems.validation([{ path: 'apiUrl', message: err.message }]);
    throw err;
  }
}

export function clusterRoutes({ db, box, guard, config }: Deps) {
  const outbound = outboundFor(config);
  const app = router();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/clusters',
      tags: ['clusters'],
      summary: 'List clusters (optionally of one co-op)',
      request: { query: ListQuery },
      responses: { 200: jsonContent(pageSchema(ClusterOut), 'A page of clusters'), ...commonErrors },
    }),
    async (c) => {
      const { limit, cursor, coop: coopFilter } = c.req.valid('query');
      const p = c.var.principal;
      await guard.allow(p, 'cluster.list', PLATFORM, 'clusters');
      let coopId: string | null | undefined;
      if (coopFilter) {
        const coop = await findCoop(db, coopFilter);
        // A filter on an invisible or unknown co-op yields an empty page, like a missing one.
        coopId = coop && (await guard.canRead(p, 'coop.read', coopRef(coop))) ? coop.id : null;
      }
      const reach = await guard.reach(p);
      const rows = await listClusters(db, { coopId, within: reach.all ? undefined : reach, after: decodeCursor(cursor), limit });
      const pg = page(rows, limit);
      const items = await guard.visible(p, pg.items, 'cluster.read', clusterRef);
      const health = await healthOf(db, items.map((i) => i.id));
      return c.json({ items: items.map((i) => out(i, health.get(i.id) ?? null)), nextCursor: pg.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/clusters',
      tags: ['clusters'],
      summary: 'Register a BBB cluster',
      request: { body: jsonBody(ClusterCreate) },
      responses: { 201: jsonContent(ClusterOut, 'Created'), ...commonErrors, 409: jsonContent(z.any(), 'Name taken') },
    }),
    async (c) => {
      const { coop: coopId, ...input } = c.req.valid('json');
      checkApiUrl(outbound, input.apiUrl);
      const coop = await findCoop(db, coopId);
      // A co-op one may not see is named exactly like a missing one.
      if (!coop || !(await guard.canRead(c.var.principal, 'coop.read', coopRef(coop)))) throw problems.validation([{ path: 'coop', message: 'no such co-op' }]);
      const actor = await guard.allow(c.var.principal, 'cluster.create', coopRef(coop), 'co-op', 'coop.read');
      const cluster = await createCluster(db, box, actor, { ...input, coopId: coop.id });
      c.header('ETag', etagOf(cluster));
      c.header('Location', `/api/v1/clusters/${cluster.id}`);
      return c.json(out(cluster), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/clusters/{id}',
      tags: ['clusters'],
      summary: 'Show a cluster',
      request: { params: ClusterId },
      responses: { 200: jsonContent(ClusterOut, 'The cluster'), ...commonErrors },
    }),
    async (c) => {
      const { cluster } = await clusterFor(db, guard, c.var.principal, c.req.valid('param').id, 'cluster.read');
      c.header('ETag', etagOf(cluster));
      return c.json(out(cluster, (await findHealth(db, cluster.id)) ?? null), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/clusters/{id}',
      tags: ['clusters'],
      summary: 'Update a cluster, rotate its secret or drain it (If-Match required)',
      request: { params: ClusterId, headers: IfMatchHeader, body: jsonBody(ClusterPatch) },
      responses: { 200: jsonContent(ClusterOut, 'Updated'), ...commonErrors, 412: jsonContent(z.any(), 'Changed meanwhile'), 428: jsonContent(z.any(), 'If-Match missing') },
    }),
    async (c) => {
      const patch = c.req.valid('json');
      checkApiUrl(outbound, patch.apiUrl);
      // Changing only the state (draining, disabling, enabling) is the narrower drain action.
      const action = Object.keys(patch).every((k) => k === 'state') ? 'cluster.drain' : 'cluster.update';
      const { cluster, actor } = await clusterFor(db, guard, c.var.principal, c.req.valid('param').id, action);
      requireIfMatch(c.req.valid('header')['if-match'], cluster);
      const updated = await updateCluster(db, box, actor, cluster, patch);
      c.header('ETag', etagOf(updated));
      return c.json(out(updated), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/clusters/{id}',
      tags: ['clusters'],
      summary: 'Delete a cluster that hosts no tenancy (If-Match required)',
      request: { params: ClusterId, headers: IfMatchHeader },
      responses: { 204: { description: 'Deleted' }, ...commonErrors, 409: jsonContent(z.any(), 'Still in use'), 412: jsonContent(z.any(), 'Changed meanwhile') },
    }),
    async (c) => {
      const { cluster, actor } = await clusterFor(db, guard, c.var.principal, c.req.valid('param').id, 'cluster.delete');
      requireIfMatch(c.req.valid('header')['if-match'], cluster);
      await deleteCluster(db, actor, cluster);
      return c.body(null, 204);
    },
  );

  return app;
}
