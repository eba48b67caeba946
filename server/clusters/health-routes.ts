// GET /clusters/{id}/health: the last poll of a cluster, for anyone who may see it.
import { createRoute, z } from '@hono/zod-openapi';
import { router, type Deps } from '../http/env.js';
import { IdOrSlug, Timestamp, commonErrors, jsonContent } from '../http/schemas.js';
import { problems } from '../http/problem.js';
import { clusterRef } from '../authz/guard.js';
import { findCluster } from './service.js';
import { findHealth, type ClusterHealth } from './health.js';
import { isoOrNull } from '../time.js';

export const HealthOut = z
  .object({
    state: z.enum(['unknown', 'online', 'offline']),
    load: z.number().int().openapi({ description: 'Participants as Scalelite counts them (young meetings weigh at least 15)' }),
    meetings: z.number().int(),
    participants: z.number().int(),
    bbbVersion: z.string().nullable(),
    apiVersion: z.string().nullable(),
    latencyMs: z.number().int().nullable().openapi({ description: 'Duration of the last successful getMeetings' }),
    consecutiveFailures: z.number().int(),
    lastError: z.string().nullable(),
    checkedAt: Timestamp.nullable(),
    lastSuccessAt: Timestamp.nullable(),
    stateChangedAt: Timestamp.nullable(),
  })
  .openapi('ClusterHealth');


/** A cluster never polled yet is `unknown`. */
export function healthOut(h: ClusterHealth | undefined): z.infer<typeof HealthOut> {
  return {
    state: h?.state ?? 'unknown',
    load: h?.load ?? 0,
    meetings: h?.meetings ?? 0,
    participants: h?.participants ?? 0,
    bbbVersion: h?.bbbVersion ?? null,
    apiVersion: h?.apiVersion ?? null,
    latencyMs: h?.latencyMs ?? null,
    consecutiveFailures: h?.consecutiveFailures ?? 0,
    lastError: h?.lastError ?? null,
    checkedAt: isoOrNull(h?.checkedAt ?? null),
    lastSuccessAt: isoOrNull(h?.lastSuccessAt ?? null),
    stateChangedAt: isoOrNull(h?.stateChangedAt ?? null),
  };
}

export function clusterHealthRoutes({ db, guard }: Deps) {
  const app = router();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/clusters/{id}/health',
      tags: ['clusters'],
      summary: 'Health of a cluster: state, load, BBB version and latency of the last poll',
      request: { params: z.object({ id: IdOrSlug.openapi({ param: { name: 'id', in: 'path' } }) }) },
      responses: { 200: jsonContent(HealthOut.extend({ clusterId: z.string() }), 'The last poll'), ...commonErrors },
    }),
    async (c) => {
      const cluster = await findCluster(db, c.req.valid('param').id);
      if (!cluster) throw problems.notFound('cluster');
      await guard.allow(c.var.principal, 'cluster.readHealth', clusterRef(cluster), 'cluster', 'cluster.read');
      return c.json({ clusterId: cluster.id, ...healthOut(await findHealth(db, cluster.id)) }, 200);
    },
  );
  return app;
}
