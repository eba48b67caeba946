// Where a cluster keeps its published recordings (file:// on the same host, or
// sftp:// with a pinned host key), for transfers to copy from and to. The
// credentials are write-only.
import { createRoute, z } from '@hono/zod-openapi';
import { router, type Deps } from '../http/env.js';
import { clusterFor } from '../authz/objects.js';
import { IdOrSlug, commonErrors, jsonBody, jsonContent } from '../http/schemas.js';
import { problems } from '../http/problem.js';

import { clusterStorageUrl, setClusterStorage } from '../transfers/cluster-storage.js';
import { openStorage } from '../storage/index.js';

const StorageIn = z
  .object({
    url: z.string().regex(/^(file:\/\/\/|sftp:\/\/)/, 'must be file:///absolute/path or sftp://user@host[:port]/path').max(2000),
    password: z.string().min(1).max(1000).optional().openapi({ writeOnly: true }),
    privateKey: z.string().min(1).max(20_000).optional().openapi({ writeOnly: true }),
    passphrase: z.string().min(1).max(1000).optional().openapi({ writeOnly: true }),
    hostKeySha256: z.string().max(200).optional(),
  })
  .strict()
  .openapi('RecordingStorage');
const StorageOut = z.object({ clusterId: z.string(), url: z.string().nullable().openapi({ description: 'null: not configured yet' }), hasCredentials: z.boolean() }).openapi('RecordingStorageOut');
const IdPath = z.object({ id: IdOrSlug.openapi({ param: { name: 'id', in: 'path' } }) });

export function clusterStorageRoutes({ db, box, guard }: Deps) {
  const app = router();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/clusters/{id}/storage',
      tags: ['clusters'],
      summary: "Where the cluster's published recordings live (credentials are never shown)",
      request: { params: IdPath },
      responses: { 200: jsonContent(StorageOut, 'The storage'), ...commonErrors },
    }),
    async (c) => {
      const { cluster } = await clusterFor(db, guard, c.var.principal, c.req.valid('param').id, 'cluster.read');
      const storage = await clusterStorageUrl(db, cluster.id);
      return c.json({ clusterId: cluster.id, url: storage?.url ?? null, hasCredentials: storage?.hasCredentials ?? false }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/clusters/{id}/storage',
      tags: ['clusters'],
      summary: "Set where the cluster's published recordings live",
      request: { params: IdPath, body: jsonBody(StorageIn) },
      responses: { 200: jsonContent(StorageOut, 'Set'), ...commonErrors },
    }),
    async (c) => {
      const { cluster, actor } = await clusterFor(db, guard, c.var.principal, c.req.valid('param').id, 'cluster.update');
      const { url, ...rest } = c.req.valid('json');
      const credentials = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as Record<string, string>;
      try {
        await openStorage(url, credentials).close();
      } catch (e) {
        // The storage library refuses a URL it cannot use (a password inside it, no pinned host key); its messages name no secret.
        throw problems.validation([{ path: 'url', message: (e as Error).message }]);
      }
      await setClusterStorage(db, box, actor, cluster.id, url, Object.keys(credentials).length ? credentials : null);
      return c.json({ clusterId: cluster.id, url, hasCredentials: Object.keys(credentials).length > 0 }, 200);
    },
  );

  return app;
}
