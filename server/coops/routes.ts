// REST for co-ops: validate, authorise, call the service, shape the answer.
import { createRoute, z } from '@hono/zod-openapi';
import { router, type Deps } from '../http/env.js';
import { coopFor } from '../authz/objects.js';
import { Country, Email, IdParam, IfMatchHeader, Name, Slug, Timestamp, commonErrors, jsonBody, jsonContent } from '../http/schemas.js';
import { PageQuery, decodeCursor, page, pageSchema } from '../http/pagination.js';
import { etagOf, requireIfMatch } from '../http/etag.js';

import { coopRef, PLATFORM } from '../authz/guard.js';
import { createCoop, deleteCoop, listCoops, updateCoop, type Coop } from './service.js';

const LegalRegime = z.enum(['eu_gdpr', 'uk_gdpr', 'ch_fadp', 'other']).openapi({ description: 'EU GDPR, UK GDPR, Swiss FADP or other' });

const CoopOut = z
  .object({
    id: z.string(),
    slug: z.string(),
    name: z.string(),
    jurisdiction: z.string(),
    contactEmail: z.string(),
    legalRegime: LegalRegime,
    dpfListed: z.boolean(),
    pipedaSubject: z.boolean(),
    version: z.number().int(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('Coop');

const DpfListed = z.boolean().openapi({ description: 'The co-op is listed under the EU-US Data Privacy Framework (stated to peers in the federation metadata)' });
const PipedaSubject = z.boolean().openapi({ description: "The co-op is subject to Canada's PIPEDA (stated to peers in the federation metadata)" });

const CoopCreate = z
  .object({ slug: Slug, name: Name, jurisdiction: Country, contactEmail: Email, legalRegime: LegalRegime, dpfListed: DpfListed.optional(), pipedaSubject: PipedaSubject.optional() })
  .strict()
  .openapi('CoopCreate');

const CoopPatch = z
  .object({ name: Name, jurisdiction: Country, contactEmail: Email, legalRegime: LegalRegime, dpfListed: DpfListed, pipedaSubject: PipedaSubject })
  .partial()
  .strict()
  .openapi('CoopPatch');

function out(c: Coop) {
  return { ...c, createdAt: c.createdAt.toISOString(), updatedAt: c.updatedAt.toISOString() };
}

const json = jsonContent;

export function coopRoutes({ db, guard }: Deps) {
  const app = router();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/coops',
      tags: ['coops'],
      summary: 'List co-ops',
      request: { query: PageQuery },
      responses: { 200: json(pageSchema(CoopOut), 'A page of co-ops'), ...commonErrors },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      await guard.allow(c.var.principal, 'coop.list', PLATFORM, 'co-ops');
      const rows = await listCoops(db, { after: decodeCursor(cursor), limit });
      const p = page(rows, limit);
      return c.json({ items: (await guard.visible(c.var.principal, p.items, 'coop.read', coopRef)).map(out), nextCursor: p.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/coops',
      tags: ['coops'],
      summary: 'Register a co-op',
      request: { body: jsonBody(CoopCreate) },
      responses: { 201: json(CoopOut, 'Created'), ...commonErrors, 409: json(z.any(), 'Slug taken') },
    }),
    async (c) => {
      const actor = await guard.allow(c.var.principal, 'coop.create', PLATFORM, 'co-ops');
      const coop = await createCoop(db, actor, c.req.valid('json'));
      c.header('ETag', etagOf(coop));
      c.header('Location', `/api/v1/coops/${coop.id}`);
      return c.json(out(coop), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/coops/{id}',
      tags: ['coops'],
      summary: 'Show a co-op (by id or slug)',
      request: { params: IdParam },
      responses: { 200: json(CoopOut, 'The co-op'), ...commonErrors },
    }),
    async (c) => {
      const { coop } = await coopFor(db, guard, c.var.principal, c.req.valid('param').id, 'coop.read');
      c.header('ETag', etagOf(coop));
      return c.json(out(coop), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/coops/{id}',
      tags: ['coops'],
      summary: 'Update a co-op (If-Match required)',
      request: { params: IdParam, headers: IfMatchHeader, body: jsonBody(CoopPatch) },
      responses: { 200: json(CoopOut, 'Updated'), ...commonErrors, 412: json(z.any(), 'Changed meanwhile'), 428: json(z.any(), 'If-Match missing') },
    }),
    async (c) => {
      const { coop, actor } = await coopFor(db, guard, c.var.principal, c.req.valid('param').id, 'coop.update');
      requireIfMatch(c.req.valid('header')['if-match'], coop);
      const updated = await updateCoop(db, actor, coop, c.req.valid('json'));
      c.header('ETag', etagOf(updated));
      return c.json(out(updated), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/coops/{id}',
      tags: ['coops'],
      summary: 'Delete a co-op that hosts nothing (If-Match required)',
      request: { params: IdParam, headers: IfMatchHeader },
      responses: { 204: { description: 'Deleted' }, ...commonErrors, 409: json(z.any(), 'Still in use'), 412: json(z.any(), 'Changed meanwhile') },
    }),
    async (c) => {
      const { coop, actor } = await coopFor(db, guard, c.var.principal, c.req.valid('param').id, 'coop.delete');
      requireIfMatch(c.req.valid('header')['if-match'], coop);
      await deleteCoop(db, actor, coop);
      return c.body(null, 204);
    },
  );

  return app;
}
