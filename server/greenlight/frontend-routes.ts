// REST for a co-op's Greenlight front ends: list them, set one (PUT creates it,
// or changes it with If-Match), delete one. The database URL and the
// SECRET_KEY_BASE are write-only: answers say only whether each is set.
import { createRoute, z } from '@hono/zod-openapi';
import { router, type Deps } from '../http/env.js';
import { coopFor } from '../authz/objects.js';
import { IdOrSlug, IfMatchHeader, Slug, commonErrors, jsonBody, jsonContent } from '../http/schemas.js';
import { etagOf, requireIfMatch } from '../http/etag.js';
import { problems } from '../http/problem.js';
import { deleteFrontend, findFrontend, listFrontends, setFrontend, type GreenlightFrontend } from './frontends.js';

const HttpUrl = z
  .string()
  .max(2000)
  .url()
  .refine((u) => /^https?:\/\//.test(u), { message: 'must be an http(s) URL' })
  .transform((u) => u.replace(/\/+$/, ''));

const FrontendIn = z
  .object({
    baseUrl: HttpUrl.openapi({ description: 'Where the Greenlight answers, e.g. https://rooms.example.org' }),
    version: z.enum(['v3', 'v2']).default('v3'),
    provider: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be the provider name the Greenlight gives its accounts ("greenlight", or the tenant\'s name)')
      .default('greenlight'),
    databaseUrl: z
      .string()
      .max(2000)
      .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// URL (a read-only role is enough)')
      .nullable()
      .optional()
      .openapi({ writeOnly: true, description: "A read-only connection to the Greenlight's database (a source Greenlight); null removes it" }),
    secretKeyBase: z
      .string()
      .regex(/^\S{32,1000}$/, 'must be the Greenlight\'s SECRET_KEY_BASE (at least 32 characters, no spaces)')
      .nullable()
      .optional()
      .openapi({ writeOnly: true, description: "The Greenlight's SECRET_KEY_BASE (a target Greenlight); null removes it" }),
  })
  .strict()
  .openapi('GreenlightIn');

const FrontendOut = z
  .object({
    id: z.string(),
    coopId: z.string(),
    slug: z.string(),
    baseUrl: z.string(),
    version: z.enum(['v3', 'v2']),
    provider: z.string(),
    hasDatabaseUrl: z.boolean(),
    hasSecretKeyBase: z.boolean(),
    etag: z.string(),
  })
  .openapi('Greenlight');

const CoopPath = z.object({ id: IdOrSlug.openapi({ param: { name: 'id', in: 'path' } }) });
const FrontendPath = CoopPath.extend({ slug: Slug.openapi({ param: { name: 'slug', in: 'path' } }) });

function out(f: GreenlightFrontend) {
  return { id: f.id, coopId: f.coopId, slug: f.slug, baseUrl: f.baseUrl, version: f.greenlightVersion, provider: f.provider, hasDatabaseUrl: f.hasDatabaseUrl, hasSecretKeyBase: f.hasSecretKeyBase, etag: etagOf(f) };
}

export function greenlightRoutes({ db, box, guard }: Deps) {
  const app = router();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/coops/{id}/greenlights',
      tags: ['greenlight'],
      summary: "The co-op's Greenlight front ends (secrets are never shown)",
      request: { params: CoopPath },
      responses: { 200: jsonContent(z.object({ items: z.array(FrontendOut) }), 'The front ends'), ...commonErrors },
    }),
    async (c) => {
      const { coop } = await coopFor(db, guard, c.var.principal, c.req.valid('param').id, 'greenlight.read');
      return c.json({ items: (await listFrontends(db, coop.id)).map(out) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/coops/{id}/greenlights/{slug}',
      tags: ['greenlight'],
      summary: 'Name a Greenlight front end of the co-op, or change it (If-Match with its ETag); a secret left out stays as it is',
      request: { params: FrontendPath, headers: IfMatchHeader.partial(), body: jsonBody(FrontendIn) },
      responses: { 200: jsonContent(FrontendOut, 'Changed'), 201: jsonContent(FrontendOut, 'Created'), ...commonErrors, 412: jsonContent(z.any(), 'Changed meanwhile'), 428: jsonContent(z.any(), 'If-Match missing') },
    }),
    async (c) => {
      const { id, slug } = c.req.valid('param');
      const { coop, actor } = await coopFor(db, guard, c.var.principal, id, 'greenlight.manage');
      const body = c.req.valid('json');
      const current = await findFrontend(db, coop.id, slug);
      // Changing one needs its current version; creating one needs none (a second create of the same slug is a 409).
      if (current) requireIfMatch(c.req.valid('header')['if-match'], current);
      const { frontend, created } = await setFrontend(
        db,
        box,
        actor,
        coop.id,
        slug,
        { baseUrl: body.baseUrl, greenlightVersion: body.version, provider: body.provider, ...(body.databaseUrl !== undefined ? { databaseUrl: body.databaseUrl } : {}), ...(body.secretKeyBase !== undefined ? { secretKeyBase: body.secretKeyBase } : {}) },
        current,
      );
      c.header('ETag', etagOf(frontend));
      c.header('Cache-Control', 'no-store');
      return c.json(out(frontend), created ? 201 : 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/coops/{id}/greenlights/{slug}',
      tags: ['greenlight'],
      summary: 'Forget a Greenlight front end no tenancy names (If-Match required)',
      request: { params: FrontendPath, headers: IfMatchHeader },
      responses: { 204: { description: 'Deleted' }, ...commonErrors, 409: jsonContent(z.any(), 'Still named by tenancies'), 412: jsonContent(z.any(), 'Changed meanwhile'), 428: jsonContent(z.any(), 'If-Match missing') },
    }),
    async (c) => {
      const { id, slug } = c.req.valid('param');
      const { coop, actor } = await coopFor(db, guard, c.var.principal, id, 'greenlight.manage');
      const current = await findFrontend(db, coop.id, slug);
      if (!current) throw problems.notFound('Greenlight of this co-op');
      requireIfMatch(c.req.valid('header')['if-match'], current);
      await deleteFrontend(db, actor, coop.id, current);
      return c.body(null, 204);
    },
  );

  return app;
}
