// REST for grants: list the ones you may see, show one, delegate from one of
// your own, revoke (with everything delegated from it). Every decision goes
// through the policies; grants you may not see answer 404 like missing ones.
import { createRoute, z } from '@hono/zod-openapi';
import { router, type Deps } from '../http/env.js';
import { IdOrSlug, IfMatchHeader, Timestamp, Uuid, commonErrors, jsonBody, jsonContent } from '../http/schemas.js';
import { PageQuery, decodeCursor, page, pageSchema } from '../http/pagination.js';
import { etagOf, requireIfMatch } from '../http/etag.js';
import { problems } from '../http/problem.js';
import type { Principal } from '../auth/principal.js';
import { Authz } from '../authz/authz.js';
import { grantResource } from '../authz/resources.js';
import { ROLES } from '../../policies/roles.js';
import { delegate, findGrant, listGrants, revokeGrant, type Grant, type GrantVisibility } from './service.js';
import { DELEGATION_RULES } from './rules.js';
import { isoOrNull } from '../time.js';

const ScopeIn = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('global') }).strict(),
    z.object({ type: z.enum(['coop', 'cluster', 'tenancy']), id: IdOrSlug.openapi({ description: 'id or slug; the grant keeps the id' }) }).strict(),
  ])
  .openapi('GrantScope', { description: 'global, or a co-op, cluster or tenancy by id or slug' });

const GrantOut = z
  .object({
    id: z.string(),
    accountId: z.string().nullable().openapi({ description: 'The holder, when it is an account' }),
    clientId: z.string().nullable().openapi({ description: 'The holder, when it is a machine client (its id)' }),
    role: z.enum(ROLES),
    scope: z.object({ type: z.enum(['global', 'coop', 'cluster', 'tenancy']), id: z.string().optional() }),
    grantedBy: z.string().nullable().openapi({ description: 'The grant it was delegated from; null for a bootstrap grant' }),
    delegable: z.boolean(),
    transferApproval: z.boolean().openapi({ description: 'A coop_admin grant delegated with transfer approval (a first-hand grant approves transfers without it)' }),
    depth: z.number().int(),
    expiresAt: Timestamp.nullable(),
    revokedAt: Timestamp.nullable(),
    reason: z.string(),
    status: z.enum(['active', 'expired', 'revoked', 'inactive']).openapi({ description: 'inactive: a grant it came from is revoked or expired' }),
    delegators: z.array(z.string()).openapi({ description: 'Accounts (or machine clients) it was delegated by, nearest first' }),
    chain: z.array(z.string()).openapi({ description: 'Grants it was delegated from, nearest first' }),
    version: z.number().int(),
    createdAt: Timestamp,
  })
  .openapi('Grant');

const GrantCreate = z
  .object({
    from: Uuid.openapi({ description: 'One of your grants, delegable and active' }),
    account: Uuid.optional().openapi({ description: 'The account receiving the grant (or give `client`)' }),
    client: Uuid.optional().openapi({ description: 'The machine client receiving the grant, by id (or give `account`)' }),
    role: z.enum(ROLES),
    scope: ScopeIn,
    delegable: z.boolean().default(false),
    transferApproval: z
      .boolean()
      .default(false)
      .openapi({ description: 'coop_admin only: the grant approves transfers as source or target admin; needs a grant that approves transfers itself' }),
    expiresAt: z.iso.datetime({ offset: true }).openapi({ description: 'No later than the grant delegated from' }),
    reason: z.string().trim().min(1).max(500),
  })
  .strict()
  .refine((b) => (b.account === undefined) !== (b.client === undefined), { message: 'give exactly one of account and client', path: ['account'] })
  .openapi('GrantDelegate');

const GrantRevoke = z.object({ reason: z.string().trim().min(1).max(500) }).strict().openapi('GrantRevoke');
const IdPath = z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) });
const ListQuery = PageQuery.extend({
  account: Uuid.optional().openapi({ param: { name: 'account', in: 'query' }, description: 'Only this account\'s grants' }),
  client: Uuid.optional().openapi({ param: { name: 'client', in: 'query' }, description: 'Only this machine client\'s grants (its id)' }),
  active: z.enum(['true', 'false']).optional().openapi({ param: { name: 'active', in: 'query' }, description: 'true: only active grants' }),
});

function out(g: Grant) {
  return {
    id: g.id,
    accountId: g.accountId,
    clientId: g.clientId,
    role: g.role,
    scope: g.scope,
    grantedBy: g.grantedBy,
    delegable: g.delegable,
    transferApproval: g.transferApproval,
    depth: g.depth,
    expiresAt: isoOrNull(g.expiresAt),
    revokedAt: isoOrNull(g.revokedAt),
    reason: g.reason,
    status: g.status,
    delegators: g.delegators,
    chain: g.chain,
    version: g.version,
    createdAt: g.createdAt.toISOString(),
  };
}

const refusal = z.object({ type: z.string(), title: z.string(), status: z.number(), detail: z.string().optional(), rule: z.enum(Object.keys(DELEGATION_RULES) as [string, ...string[]]).optional() }).passthrough();

export function grantRoutes({ db, config }: Deps) {
  const app = router();
  const authz = new Authz(db);

  async function visibleGrantOr404(p: Principal, id: string) {
    const grant = await findGrant(db, id);
    if (!grant) throw problems.notFound('grant');
    const resource = await grantResource(db, grant);
    if ((await authz.decide(p, 'grant.read', resource)).decision !== 'allow') throw problems.notFound('grant');
    return { grant, resource };
  }

  /** A narrowing the database can do before the policies decide row by row. */
  async function visibility(p: Principal): Promise<GrantVisibility> {
    const facts = await authz.facts(p);
    const global = facts.grants.some((g) => g.scope.type === 'global' && (g.role === 'platform_admin' || g.role === 'auditor'));
    if (global) return { all: true };
    const coopIds = facts.grants.filter((g) => g.role === 'coop_admin' && g.scope.type === 'coop').map((g) => (g.scope as { id: string }).id);
    return { all: false, accountId: p.accountId, coopIds };
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/grants',
      tags: ['grants'],
      summary: 'List the grants you may see: your own, those delegated from them, and those inside co-ops you run',
      request: { query: ListQuery },
      responses: { 200: jsonContent(pageSchema(GrantOut), 'A page of grants'), ...commonErrors },
    }),
    async (c) => {
      const p = c.var.principal;
      const { limit, cursor, account, client, active } = c.req.valid('query');
      await authz.require(p, 'grant.list', { type: 'Platform' }, { what: 'grants' });
      const rows = await listGrants(db, await visibility(p), { accountId: account, clientId: client, activeOnly: active === 'true', after: decodeCursor(cursor), limit });
      const { items, nextCursor } = page(rows, limit);
      const visible: Grant[] = [];
      for (const g of items) if ((await authz.decide(p, 'grant.read', await grantResource(db, g))).decision === 'allow') visible.push(g);
      return c.json({ items: visible.map(out), nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/grants/{id}',
      tags: ['grants'],
      summary: 'Show a grant with its delegation chain',
      request: { params: IdPath },
      responses: { 200: jsonContent(GrantOut, 'The grant'), ...commonErrors },
    }),
    async (c) => {
      const { grant } = await visibleGrantOr404(c.var.principal, c.req.valid('param').id);
      c.header('ETag', etagOf(grant));
      return c.json(out(grant), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/grants',
      tags: ['grants'],
      summary: 'Delegate a role from one of your grants (same or narrower role, same or inner scope, no later expiry)',
      request: { body: jsonBody(GrantCreate) },
      responses: {
        201: jsonContent(GrantOut, 'Delegated'),
        ...commonErrors,
        403: { description: 'Refused: `rule` names the delegation rule, or `policyIds` the policies', content: { 'application/problem+json': { schema: refusal } } },
      },
    }),
    async (c) => {
      const p = c.var.principal;
      const body = c.req.valid('json');
      // Grants you cannot see answer as missing ones do.
      await visibleGrantOr404(p, body.from);
      const grant = await delegate(
        db,
        p,
        {
          fromGrantId: body.from,
          to: body.client ? { kind: 'client', id: body.client } : { kind: 'account', id: body.account! },
          role: body.role,
          scope: body.scope,
          delegable: body.delegable,
          transferApproval: body.transferApproval,
          expiresAt: new Date(body.expiresAt),
          reason: body.reason,
        },
        { maxDepth: config.delegationMaxDepth, authorize: (scope) => authz.require(p, 'grant.delegate', scope, { what: 'scope' }) },
      );
      c.header('ETag', etagOf(grant));
      c.header('Location', `/api/v1/grants/${grant.id}`);
      return c.json(out(grant), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/grants/{id}/revoke',
      tags: ['grants'],
      summary: 'Revoke a grant and, at once, every grant delegated from it (If-Match required)',
      request: { params: IdPath, headers: IfMatchHeader, body: jsonBody(GrantRevoke) },
      responses: {
        200: jsonContent(GrantOut.extend({ revoked: z.array(z.string()).openapi({ description: 'Every grant revoked, this one first' }) }), 'Revoked'),
        ...commonErrors,
        409: jsonContent(z.any(), 'Revoked already'),
        412: jsonContent(z.any(), 'Changed meanwhile'),
        428: jsonContent(z.any(), 'If-Match missing'),
      },
    }),
    async (c) => {
      const p = c.var.principal;
      const { grant, resource } = await visibleGrantOr404(p, c.req.valid('param').id);
      const decision = await authz.require(p, 'grant.revoke', resource, { what: 'grant', readAction: 'grant.read' });
      requireIfMatch(c.req.valid('header')['if-match'], grant);
      if (grant.revokedAt) throw problems.conflict('grant-revoked', 'the grant is revoked already');
      const revoked = await revokeGrant(db, p, grant, c.req.valid('json').reason, decision);
      const after = (await findGrant(db, grant.id))!;
      c.header('ETag', etagOf(after));
      return c.json({ ...out(after), revoked }, 200);
    },
  );

  return app;
}
