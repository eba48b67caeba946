// Trust marks over HTTP. Public, as the spec wants them: the trust mark endpoint (§8.6), the
// status endpoint (§8.4) and the trust marked entities listing (§8.5), errors in the spec's JSON
// form. Under /api/v1/federation/trust-marks: platform admins grant, revoke and list the marks the
// instance issues, and fetch those it holds (Cedar federation.read / federation.manage, audited).
import { Hono } from 'hono';
import { createRoute, z } from '@hono/zod-openapi';
import { router, type AppEnv, type Deps } from '../http/env.js';
import { commonErrors, jsonBody, jsonContent } from '../http/schemas.js';
import { PLATFORM } from '../authz/guard.js';
import { problems } from '../http/problem.js';
import { outboundFor } from '../net/outbound.js';
import type { TrustChainResolver } from '../../federation/trust-chain.js';
import { TRUST_MARK_CONTENT_TYPE, TRUST_MARK_STATUS_CONTENT_TYPE } from '../../federation/trust-mark.js';
import { grantTrustMark, issueTrustMark, listTrustMarks, refreshHeldTrustMarks, revokeTrustMark, trustMarkedEntities, trustMarkStatus } from './trust-marks.js';

const fedError = (error: string, description: string) => ({ error, error_description: description });
const fdOf = (deps: Deps) => ({ db: deps.db, box: deps.box, publicUrl: deps.config.publicUrl });

export function trustMarkPublicRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  const fd = fdOf(deps);

  app.get('/federation/trust_mark', async (c) => {
    const type = c.req.query('trust_mark_type');
    const sub = c.req.query('sub');
    if (!type || !sub) return c.json(fedError('invalid_request', 'trust_mark_type and sub are required'), 400);
    const jwt = await issueTrustMark(fd, type, sub);
    if (!jwt) return c.json(fedError('not_found', 'this entity holds no trust mark of this type here'), 404);
    return c.body(jwt, 200, { 'Content-Type': TRUST_MARK_CONTENT_TYPE, 'Cache-Control': 'no-store' });
  });

  app.post('/federation/trust_mark_status', async (c) => {
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const mark = form.trust_mark;
    if (typeof mark !== 'string' || mark.length === 0) return c.json(fedError('invalid_request', 'trust_mark is required (application/x-www-form-urlencoded)'), 400);
    const jwt = await trustMarkStatus(fd, mark.trim());
    if (!jwt) return c.json(fedError('not_found', 'not a trust mark this entity issued'), 404);
    return c.body(jwt, 200, { 'Content-Type': TRUST_MARK_STATUS_CONTENT_TYPE, 'Cache-Control': 'no-store' });
  });

  app.get('/federation/trust_mark_list', async (c) => {
    const type = c.req.query('trust_mark_type');
    if (!type) return c.json(fedError('invalid_request', 'trust_mark_type is required'), 400);
    return c.json(await trustMarkedEntities(deps.db, type, c.req.query('sub')));
  });
  return app;
}

const EntityId = z
  .string()
  .url()
  .refine((s) => /^https?:/.test(s) && !new URL(s).search && !new URL(s).hash, 'an http(s) URL without query or fragment')
  .openapi({ example: 'https://meet.example.coop' });
// Collision-resistant across federations (§7.1): a URL the anchor's operators control.
const TrustMarkType = z.string().url().max(2000).openapi({ example: 'https://anchor.example.coop/trust-marks/hosts-in-eea' });
const Grant = z.object({ entityId: EntityId, trustMarkType: TrustMarkType, expiresAt: z.iso.datetime({ offset: true }).optional() }).strict();
const GrantOut = z
  .object({ id: z.string(), entityId: z.string(), trustMarkType: z.string(), status: z.enum(['active', 'expired', 'revoked']), grantedAt: z.string(), expiresAt: z.string().nullable(), revokedAt: z.string().nullable() })
  .openapi('FederationTrustMarkGrant');
const Held = z.object({ trustMarkType: z.string(), issuer: z.string(), expiresAt: z.string().nullable() });
const MarksOut = z.object({ issued: z.array(GrantOut), held: z.array(Held.extend({ fetchedAt: z.string() })) }).openapi('FederationTrustMarks');
const RefreshOut = z.object({ held: z.array(Held), failures: z.array(z.object({ trustMarkType: z.string(), issuer: z.string(), reason: z.string() })) }).openapi('FederationHeldTrustMarks');

export function trustMarkApiRoutes(deps: Deps, resolver: TrustChainResolver) {
  const { guard } = deps;
  const fd = fdOf(deps);
  const outbound = outboundFor(deps.config);
  const app = router();

  app.openapi(
    createRoute({ method: 'get', path: '/federation/trust-marks', tags: ['federation'], summary: 'Trust marks this instance issues (as anchor) and holds', responses: { 200: jsonContent(MarksOut, 'Issued and held trust marks'), ...commonErrors } }),
    async (c) => {
      await guard.allow(c.var.principal, 'federation.read', PLATFORM, 'federation');
      return c.json(await listTrustMarks(deps.db), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/federation/trust-marks',
      tags: ['federation'],
      summary: 'Grant a trust mark type to an enrolled instance (it fetches the signed mark from the trust mark endpoint)',
      request: { body: jsonBody(Grant) },
      responses: { 201: jsonContent(GrantOut, 'Granted'), ...commonErrors },
    }),
    async (c) => {
      const actor = await guard.allow(c.var.principal, 'federation.manage', PLATFORM, 'federation');
      const b = c.req.valid('json');
      return c.json(await grantTrustMark(fd, actor, { entityId: b.entityId, trustMarkType: b.trustMarkType, expiresAt: b.expiresAt ? new Date(b.expiresAt) : undefined }), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/federation/trust-marks',
      tags: ['federation'],
      summary: 'Revoke a trust mark: the status endpoint answers "revoked" for it from now on',
      request: { query: z.object({ entityId: EntityId, trustMarkType: TrustMarkType }) },
      responses: { 200: jsonContent(GrantOut, 'Revoked'), ...commonErrors },
    }),
    async (c) => {
      const actor = await guard.allow(c.var.principal, 'federation.manage', PLATFORM, 'federation');
      const q = c.req.valid('query');
      const revoked = await revokeTrustMark(fd, actor, q.entityId, q.trustMarkType);
      if (!revoked) throw problems.notFound('trust mark in force');
      return c.json(revoked, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/federation/trust-marks/held/refresh',
      tags: ['federation'],
      summary: "Fetch this instance's trust marks from the issuers its anchors accept, and publish them in its entity configuration",
      responses: { 200: jsonContent(RefreshOut, 'The marks now held, and the issuers that could not answer'), ...commonErrors },
    }),
    async (c) => {
      const actor = await guard.allow(c.var.principal, 'federation.manage', PLATFORM, 'federation');
      return c.json(await refreshHeldTrustMarks(fd, resolver, outbound, actor), 200);
    },
  );
  return app;
}
