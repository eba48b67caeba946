// REST for accounts, tenancy memberships and the caller's own access tokens.
import { createRoute, z } from '@hono/zod-openapi';
import { router, type Deps } from '../http/env.js';
import { Email, IdOrSlug, IdParam, Name, Timestamp, Uuid, commonErrors, jsonBody, jsonContent } from '../http/schemas.js';
import { PageQuery, decodeCursor, page, pageSchema } from '../http/pagination.js';
import { problems } from '../http/problem.js';
import { accountRef, coopRef, tenancyRef, PLATFORM } from '../authz/guard.js';
import { findCoop } from '../coops/service.js';
import { findTenancy } from '../tenancies/service.js';
import {
  createAccount,
  findAccount,
  findMembership,
  issueToken,
  listAccounts,
  listMembers,
  listTokens,
  removeMembership,
  revokeToken,
  setMembership,
} from './service.js';
import { isoOrNull } from '../time.js';
import { memberInvitationRoutes } from '../memberships/routes.js';
import { AccountOut, accountLifecycleRoutes, accountOut } from './lifecycle-routes.js';
import { offboardRoutes } from './offboard-routes.js';
import { erasureRoutes } from './erasure-routes.js';
import { etagOf } from '../http/etag.js';

const Role = z.enum(['owner', 'admin', 'member']);

const AccountCreate = z
  .object({ email: Email, name: Name, coop: IdOrSlug.openapi({ description: 'Home co-op, id or slug' }) })
  .strict()
  .openapi('AccountCreate');
const MemberOut = z.object({ accountId: z.string(), role: Role, email: z.string(), name: z.string(), since: Timestamp }).openapi('Member');
const TokenOut = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    expiresAt: Timestamp.nullable(),
    revokedAt: Timestamp.nullable(),
    lastUsedAt: Timestamp.nullable(),
    createdAt: Timestamp,
  })
  .openapi('AccessToken');
const TokenCreate = z
  .object({ name: Name, expiresInDays: z.number().int().min(1).max(366).default(90) })
  .strict()
  .openapi('AccessTokenCreate');
const MemberParams = z.object({
  id: IdOrSlug,
  accountId: Uuid.openapi({ param: { name: 'accountId', in: 'path' } }),
});
const TokenParam = z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) });
const AccountParam = z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) });

export function accountRoutes(deps: Deps) {
  const { db, guard } = deps;
  const app = router();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/accounts',
      tags: ['accounts'],
      summary: 'List accounts (of your co-op unless platform admin)',
      request: { query: PageQuery },
      responses: { 200: jsonContent(pageSchema(AccountOut), 'A page of accounts'), ...commonErrors },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const p = c.var.principal;
      await guard.allow(p, 'account.list', PLATFORM, 'accounts');
      const reach = await guard.reach(p);
      const within = reach.all ? undefined : { coopIds: reach.coopIds, accountIds: [p.accountId] };
      const pg = page(await listAccounts(db, { within, after: decodeCursor(cursor), limit }), limit);
      const items = await guard.visible(p, pg.items, 'account.read', accountRef);
      return c.json({ items: items.map(accountOut), nextCursor: pg.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/accounts',
      tags: ['accounts'],
      summary: 'Create an account for a member of a co-op',
      request: { body: jsonBody(AccountCreate) },
      responses: { 201: jsonContent(AccountOut, 'Created'), ...commonErrors, 409: jsonContent(z.any(), 'E-mail taken') },
    }),
    async (c) => {
      const { coop: coopId, ...input } = c.req.valid('json');
      const coop = await findCoop(db, coopId);
      if (!coop || !(await guard.canRead(c.var.principal, 'coop.read', coopRef(coop)))) throw problems.validation([{ path: 'coop', message: 'no such co-op' }]);
      const actor = await guard.allow(c.var.principal, 'account.create', coopRef(coop), 'co-op', 'coop.read');
      const account = await createAccount(db, actor, { ...input, coopId: coop.id });
      c.header('Location', `/api/v1/accounts/${account.id}`);
      return c.json(accountOut(account), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/accounts/{id}',
      tags: ['accounts'],
      summary: 'Show an account',
      request: { params: AccountParam },
      responses: { 200: jsonContent(AccountOut, 'The account'), ...commonErrors },
    }),
    async (c) => {
      const account = await findAccount(db, c.req.valid('param').id);
      if (!account) throw problems.notFound('account');
      await guard.allow(c.var.principal, 'account.read', accountRef(account), 'account', 'account.read');
      c.header('ETag', etagOf(account));
      return c.json(accountOut(account), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/tenancies/{id}/members',
      tags: ['tenancies'],
      summary: 'List the members of a tenancy with their roles',
      request: { params: IdParam },
      responses: { 200: jsonContent(z.object({ items: z.array(MemberOut) }), 'Members'), ...commonErrors },
    }),
    async (c) => {
      const tenancy = await findTenancy(db, c.req.valid('param').id);
      if (!tenancy) throw problems.notFound('tenancy');
      await guard.allow(c.var.principal, 'membership.list', tenancyRef(tenancy), 'tenancy', 'tenancy.read');
      const members = await listMembers(db, tenancy.id);
      return c.json({ items: members.map((m) => ({ ...m, since: m.since.toISOString() })) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/tenancies/{id}/members/{accountId}',
      tags: ['tenancies'],
      summary: 'Add a member to a tenancy or change their role',
      description:
        'Changing the role of a member: anyone who may set the members. Adding a new member directly: only an account of the tenancy\'s co-op ' +
        'holding no more than you do (account.enroll); everyone else is invited (POST /tenancies/{id}/member-invitations) and accepts on their page. ' +
        'An account that does not exist and one you may not see answer the same 404.',
      request: { params: MemberParams, body: jsonBody(z.object({ role: Role }).strict()) },
      responses: { 204: { description: 'Done' }, ...commonErrors, 409: jsonContent(z.any(), 'Of another co-op: invite them') },
    }),
    async (c) => {
      const { id, accountId } = c.req.valid('param');
      const p = c.var.principal;
      const tenancy = await findTenancy(db, id);
      if (!tenancy) throw problems.notFound('tenancy');
      let actor = await guard.allow(p, 'membership.set', tenancyRef(tenancy), 'tenancy', 'tenancy.read');
      const role = c.req.valid('json').role;
      await guard.allowMembershipRole(p, tenancyRef(tenancy), role, 'membership.set');
      // A member already (listed to whoever may set members): a role change.
      const current = await findMembership(db, tenancy.id, accountId);
      if (current) await guard.allowMembershipRole(p, tenancyRef(tenancy), current.role, 'membership.set');
      else {
        // Unknown, hidden and another co-op's (unless visible) all answer the same 404.
        const account = await findAccount(db, accountId);
        if (!account || !(await guard.canRead(p, 'account.read', accountRef(account)))) throw problems.notFound('account');
        if (account.coopId !== tenancy.coopId)
          throw problems.conflict('invitation-required', 'this account is of another co-op: invite it (POST /tenancies/{id}/member-invitations) and it joins when it accepts');
        // Nobody hands out more than they hold: only an account the actor covers joins without its consent.
        actor = await guard.allow(p, 'account.enroll', accountRef(account), 'account', 'account.read');
      }
      await setMembership(db, actor, tenancy.id, accountId, role);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/tenancies/{id}/members/{accountId}',
      tags: ['tenancies'],
      summary: 'Remove a member from a tenancy',
      request: { params: MemberParams },
      responses: { 204: { description: 'Removed' }, ...commonErrors },
    }),
    async (c) => {
      const { id, accountId } = c.req.valid('param');
      const tenancy = await findTenancy(db, id);
      if (!tenancy) throw problems.notFound('tenancy');
      const p = c.var.principal;
      const actor = await guard.allow(p, 'membership.delete', tenancyRef(tenancy), 'tenancy', 'tenancy.read');
      // Leaving is always possible; removing someone needs at least their role.
      const current = await findMembership(db, tenancy.id, accountId);
      if (current && accountId !== p.accountId) await guard.allowMembershipRole(p, tenancyRef(tenancy), current.role, 'membership.delete');
      await removeMembership(db, actor, tenancy.id, accountId);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/tokens',
      tags: ['tokens'],
      summary: 'List your personal access tokens',
      responses: { 200: jsonContent(z.object({ items: z.array(TokenOut) }), 'Your tokens'), ...commonErrors },
    }),
    async (c) => {
      const p = c.var.principal;
      await guard.allow(p, 'token.list', { type: 'Account', id: p.accountId, coopId: p.coopId }, 'account');
      const tokens = await listTokens(db, p.accountId);
      return c.json(
        {
          items: tokens.map((t) => ({
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            expiresAt: isoOrNull(t.expiresAt),
            revokedAt: isoOrNull(t.revokedAt),
            lastUsedAt: isoOrNull(t.lastUsedAt),
            createdAt: t.createdAt.toISOString(),
          })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/tokens',
      tags: ['tokens'],
      summary: 'Create a personal access token (shown this once)',
      request: { body: jsonBody(TokenCreate) },
      description: 'For accounts only: a machine client (client credentials) has no personal tokens and gets 403 naming the rule machine-client-not-a-person.',
      responses: { 201: jsonContent(z.object({ id: z.string(), token: z.string(), prefix: z.string(), expiresAt: Timestamp }), 'Created'), ...commonErrors },
    }),
    async (c) => {
      const { name, expiresInDays } = c.req.valid('json');
      const expiresAt = new Date(Date.now() + expiresInDays * 86_400_000);
      const p = c.var.principal;
      // A machine client is refused by the policies (machine-client-not-a-person), naming the rule.
      const actor = await guard.allow(p, 'token.create', { type: 'Account', id: p.accountId, coopId: p.coopId }, 'account');
      // Belt and braces: personal tokens belong to accounts only.
      if (!(await findAccount(db, p.accountId)))
        throw problems.forbidden('Personal access tokens belong to accounts; a machine client authenticates with its client credentials', { reason: 'not-an-account' });
      const pat = await issueToken(db, actor, p.accountId, name, expiresAt);
      c.header('Cache-Control', 'no-store');
      return c.json({ ...pat, expiresAt: expiresAt.toISOString() }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/tokens/{id}',
      tags: ['tokens'],
      summary: 'Revoke one of your personal access tokens',
      request: { params: TokenParam },
      responses: { 204: { description: 'Revoked' }, ...commonErrors },
    }),
    async (c) => {
      const p = c.var.principal;
      const actor = await guard.allow(p, 'token.revoke', { type: 'Account', id: p.accountId, coopId: p.coopId }, 'account');
      await revokeToken(db, actor, p.accountId, c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  memberInvitationRoutes(app, deps);
  accountLifecycleRoutes(app, deps);
  offboardRoutes(app, deps);
  erasureRoutes(app, deps);
  return app;
}
