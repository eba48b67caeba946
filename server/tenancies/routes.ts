// REST for tenancies. The per-tenancy BBB secret appears in exactly two
// answers: creation and rotation.
import { createRoute, z } from '@hono/zod-openapi';
import { router, type Deps } from '../http/env.js';
import { tenancyFor } from '../authz/objects.js';
import { Country, IdOrSlug, IdParam, IfMatchHeader, Name, Slug, Timestamp, commonErrors, jsonBody, jsonContent } from '../http/schemas.js';
import { PageQuery, decodeCursor, page, pageSchema } from '../http/pagination.js';
import { etagOf, requireIfMatch } from '../http/etag.js';
import { problems } from '../http/problem.js';
import { coopRef, tenancyRef, PLATFORM } from '../authz/guard.js';
import { findCluster } from '../clusters/service.js';
import { findCoop } from '../coops/service.js';
import { createTenancy, deleteTenancy, listTenancies, rotateTenancySecret, updateTenancy, type Tenancy } from './service.js';

export const Residency = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('none') }).strict(),
    z.object({ kind: z.literal('eea') }).strict(),
    z
      .object({ kind: z.literal('countries'), countries: z.array(Country).min(1).max(249) })
      .strict()
      .transform((r) => ({ kind: r.kind, countries: [...new Set(r.countries)].sort() })),
  ])
  .openapi('Residency', { description: 'Where the tenancy\'s data may be hosted: anywhere, the EEA, or listed countries' });

const RetentionDays = z.number().int().min(1).max(36_500).openapi({ description: 'Recordings older than this are deleted' });

const Language = z
  .enum(['en', 'fr', 'de'])
  .nullable()
  .openapi({ description: "The language meetplane writes to the tenancy's people in (hand-over mails and pages) when they chose none on their own page; null: English" });

const GreenlightRef = IdOrSlug.nullable().openapi({ description: "A Greenlight front end of the tenancy's co-op (id or slug), or null for none" });

const TenancyOut = z
  .object({
    id: z.string(),
    slug: z.string(),
    name: z.string(),
    coopId: z.string(),
    clusterId: z.string(),
    residency: z.any(),
    retentionDays: z.number().int(),
    language: Language,
    greenlight: z.string().nullable().openapi({ description: "The id of the Greenlight front end its members use (one of its co-op's), or null" }),
    state: z.enum(['active', 'frozen', 'transferring', 'archived', 'moved']).openapi({ description: 'moved: switched out to another meetplane instance; its gateway forwards calls there for a grace period' }),
    version: z.number().int(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('Tenancy');

const TenancyWithSecret = TenancyOut.extend({
  bbbSecret: z.string().openapi({ description: 'Shown once: the secret front ends sign gateway calls with' }),
}).openapi('TenancyWithSecret');

const TenancyCreate = z
  .object({
    slug: Slug,
    name: Name,
    coop: IdOrSlug.openapi({ description: 'Host co-op, id or slug' }),
    cluster: IdOrSlug.openapi({ description: 'A cluster of the host co-op, id or slug' }),
    residency: Residency.default({ kind: 'none' }),
    retentionDays: RetentionDays.default(365),
    language: Language.default(null),
    greenlight: GreenlightRef.optional(),
  })
  .strict()
  .openapi('TenancyCreate');

const TenancyPatch = z
  .object({ name: Name, cluster: IdOrSlug.openapi({ description: 'A cluster of the co-op, id or slug' }), residency: Residency, retentionDays: RetentionDays, language: Language, greenlight: GreenlightRef, state: z.enum(['active', 'archived']) })
  .partial()
  .strict()
  .openapi('TenancyPatch');

const ListQuery = PageQuery.extend({
  coop: IdOrSlug.optional().openapi({ param: { name: 'coop', in: 'query' } }),
  cluster: IdOrSlug.optional().openapi({ param: { name: 'cluster', in: 'query' }, description: 'id or slug' }),
});

function out(t: Tenancy) {
  const { greenlightId, ...rest } = t;
  return { ...rest, greenlight: greenlightId, createdAt: t.createdAt.toISOString(), updatedAt: t.updatedAt.toISOString() };
}

export function tenancyRoutes({ db, box, guard }: Deps) {
  const app = router();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/tenancies',
      tags: ['tenancies'],
      summary: 'List tenancies (optionally of one co-op or cluster)',
      request: { query: ListQuery },
      responses: { 200: jsonContent(pageSchema(TenancyOut), 'A page of tenancies'), ...commonErrors },
    }),
    async (c) => {
      const { limit, cursor, coop: coopFilter, cluster } = c.req.valid('query');
      const p = c.var.principal;
      await guard.allow(p, 'tenancy.list', PLATFORM, 'tenancies');
      let coopId: string | null | undefined;
      if (coopFilter) {
        const coop = await findCoop(db, coopFilter);
        coopId = coop && (await guard.canRead(p, 'coop.read', coopRef(coop))) ? coop.id : null;
      }
      // A cluster named by slug is looked up; an unknown one yields an empty page (what a reader may see is still filtered below).
      const clusterId = cluster ? (await findCluster(db, cluster))?.id : undefined;
      if (cluster && !clusterId) return c.json({ items: [], nextCursor: null }, 200);
      const reach = await guard.reach(p);
      const rows = await listTenancies(db, { coopId, clusterId, within: reach.all ? undefined : reach, after: decodeCursor(cursor), limit });
      const pg = page(rows, limit);
      const items = await guard.visible(p, pg.items, 'tenancy.read', tenancyRef);
      return c.json({ items: items.map(out), nextCursor: pg.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/tenancies',
      tags: ['tenancies'],
      summary: 'Create a tenancy; the answer holds its BBB secret, shown this once',
      request: { body: jsonBody(TenancyCreate) },
      responses: { 201: jsonContent(TenancyWithSecret, 'Created'), ...commonErrors, 409: jsonContent(z.any(), 'Slug taken') },
    }),
    async (c) => {
      const { coop: coopId, cluster, greenlight, ...input } = c.req.valid('json');
      const coop = await findCoop(db, coopId);
      if (!coop || !(await guard.canRead(c.var.principal, 'coop.read', coopRef(coop)))) throw problems.validation([{ path: 'coop', message: 'no such co-op' }]);
      const actor = await guard.allow(c.var.principal, 'tenancy.create', coopRef(coop), 'co-op', 'coop.read');
      const { tenancy, bbbSecret } = await createTenancy(db, box, actor, { ...input, coopId: coop.id, clusterId: cluster, ...(greenlight !== undefined ? { greenlightId: greenlight } : {}) });
      c.header('ETag', etagOf(tenancy));
      c.header('Location', `/api/v1/tenancies/${tenancy.id}`);
      c.header('Cache-Control', 'no-store');
      return c.json({ ...out(tenancy), bbbSecret }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/tenancies/{id}',
      tags: ['tenancies'],
      summary: 'Show a tenancy (by id or slug)',
      request: { params: IdParam },
      responses: { 200: jsonContent(TenancyOut, 'The tenancy'), ...commonErrors },
    }),
    async (c) => {
      const { tenancy } = await tenancyFor(db, guard, c.var.principal, c.req.valid('param').id, 'tenancy.read');
      c.header('ETag', etagOf(tenancy));
      return c.json(out(tenancy), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/tenancies/{id}',
      tags: ['tenancies'],
      summary: 'Update a tenancy, move it to another cluster of its co-op, or archive it (If-Match required)',
      request: { params: IdParam, headers: IfMatchHeader, body: jsonBody(TenancyPatch) },
      responses: { 200: jsonContent(TenancyOut, 'Updated'), ...commonErrors, 409: jsonContent(z.any(), 'In transfer'), 412: jsonContent(z.any(), 'Changed meanwhile'), 428: jsonContent(z.any(), 'If-Match missing') },
    }),
    async (c) => {
      const { tenancy, actor } = await tenancyFor(db, guard, c.var.principal, c.req.valid('param').id, 'tenancy.update');
      requireIfMatch(c.req.valid('header')['if-match'], tenancy);
      const { cluster, greenlight, ...patch } = c.req.valid('json');
      const updated = await updateTenancy(db, actor, tenancy, { ...patch, ...(cluster ? { clusterId: cluster } : {}), ...(greenlight !== undefined ? { greenlightId: greenlight } : {}) });
      c.header('ETag', etagOf(updated));
      return c.json(out(updated), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/tenancies/{id}/rotate-secret',
      tags: ['tenancies'],
      summary: 'Issue a new BBB secret for the tenancy (shown this once; If-Match required)',
      request: { params: IdParam, headers: IfMatchHeader },
      responses: { 200: jsonContent(TenancyWithSecret, 'Rotated'), ...commonErrors, 412: jsonContent(z.any(), 'Changed meanwhile'), 428: jsonContent(z.any(), 'If-Match missing') },
    }),
    async (c) => {
      const { tenancy: current, actor } = await tenancyFor(db, guard, c.var.principal, c.req.valid('param').id, 'tenancy.rotateSecret');
      requireIfMatch(c.req.valid('header')['if-match'], current);
      const { tenancy, bbbSecret } = await rotateTenancySecret(db, box, actor, current);
      c.header('ETag', etagOf(tenancy));
      c.header('Cache-Control', 'no-store');
      return c.json({ ...out(tenancy), bbbSecret }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/tenancies/{id}',
      tags: ['tenancies'],
      summary: 'Delete an archived tenancy (If-Match required)',
      request: { params: IdParam, headers: IfMatchHeader },
      responses: { 204: { description: 'Deleted' }, ...commonErrors, 409: jsonContent(z.any(), 'Not archived'), 412: jsonContent(z.any(), 'Changed meanwhile') },
    }),
    async (c) => {
      const { tenancy, actor } = await tenancyFor(db, guard, c.var.principal, c.req.valid('param').id, 'tenancy.delete');
      requireIfMatch(c.req.valid('header')['if-match'], tenancy);
      await deleteTenancy(db, actor, tenancy);
      return c.body(null, 204);
    },
  );

  return app;
}
