// REST for the sign-on: OIDC clients (secrets shown once), upstream identity
// providers of co-ops, and invitations for accounts.
import { randomBytes } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { router, type Deps } from '../http/env.js';
import { IdOrSlug, IfMatchHeader, Name, Timestamp, Uuid, commonErrors, jsonBody, jsonContent } from '../http/schemas.js';
import { PageQuery, decodeCursor, page, pageSchema } from '../http/pagination.js';
import { etagOf, requireIfMatch } from '../http/etag.js';
import { problems } from '../http/problem.js';
import { coopRef, tenancyRef, PLATFORM } from '../authz/guard.js';
import type { ResourceRef } from '../../policies/evaluator.js';
import type { Principal } from '../auth/principal.js';
import { findCoop } from '../coops/service.js';
import { findTenancy } from '../tenancies/service.js';
import { findAccount } from '../accounts/service.js';
import { createInvitation } from '../accounts/credentials.js';
import { ID_TOKEN_ALGS, createClient, deleteClient, findClient, listClients, rotateClientSecret, updateClient, type OidcClient } from './clients.js';
import { OutboundRefused, outboundFor } from '../net/outbound.js';
import { createUpstream, deleteUpstream, listUpstreams, type Upstream } from './upstream.js';
import { AUTH_METHODS } from './upstream-auth.js';
import type { Sso } from './index.js';
import { OIDC_PREFIX } from './provider.js';
import { activeGrants } from '../grants/service.js';
import { grantResource } from '../authz/resources.js';

const ClientOut = z
  .object({
    id: z.string(),
    clientId: z.string(),
    name: z.string(),
    coopId: z.string(),
    tenancyId: z.string().nullable(),
    kind: z.enum(['web', 'public', 'machine']),
    redirectUris: z.array(z.string()),
    postLogoutRedirectUris: z.array(z.string()),
    scope: z.string(),
    backchannelLogoutUri: z.string().nullable(),
    backchannelLogoutSessionRequired: z.boolean(),
    idTokenSignedResponseAlg: z.enum(ID_TOKEN_ALGS),
    hasSecret: z.boolean(),
    version: z.number().int(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('OidcClient');
// A machine client's active grants as GET /clients/{id} lists them: those the caller may read.
const ClientGrant = z
  .object({
    id: z.string(),
    role: z.string(),
    scope: z.object({ type: z.enum(['global', 'coop', 'cluster', 'tenancy']), id: z.string().optional() }),
    expiresAt: Timestamp.nullable(),
  })
  .openapi('OidcClientGrant');
const ClientShown = ClientOut.extend({
  grants: z.array(ClientGrant).openapi({ description: 'A machine client\'s active grants that you may see (empty for web and public clients)' }),
}).openapi('OidcClientShown');
const ClientWithSecret = ClientOut.extend({ clientSecret: z.string().nullable().openapi({ description: 'Shown once; null for public clients' }) }).openapi('OidcClientWithSecret');
const ClientCreate = z
  .object({
    name: Name,
    coop: IdOrSlug.openapi({ description: 'Owning co-op, id or slug' }),
    tenancy: IdOrSlug.optional().openapi({ description: 'A tenancy of that co-op the client serves (e.g. its Greenlight)' }),
    kind: z.enum(['web', 'public', 'machine']).openapi({ description: 'web: confidential, code flow; public: PKCE, no secret; machine: client credentials' }),
    redirectUris: z.array(z.string().max(2000)).max(20).default([]),
    postLogoutRedirectUris: z.array(z.string().max(2000)).max(20).default([]),
    scope: z.string().max(200).optional(),
    backchannelLogoutUri: z
      .string()
      .max(2000)
      .optional()
      .openapi({ description: 'OpenID Connect Back-Channel Logout 1.0: meetplane POSTs a logout token here when the person\'s session ends' }),
    backchannelLogoutSessionRequired: z.boolean().optional().openapi({ description: 'Include sid in logout tokens (the client keys its sessions by it)' }),
    idTokenSignedResponseAlg: z.enum(ID_TOKEN_ALGS).optional().openapi({ description: 'ES256 (default) or RS256: the only algorithm its ID tokens are signed with' }),
  })
  .strict()
  .openapi('OidcClientCreate');
const AuthMethod = z.enum(AUTH_METHODS).nullable().openapi({
  description:
    "How meetplane authenticates at the upstream's token endpoint. null (the default): the first of client_secret_post and client_secret_basic the upstream's discovery lists (client_secret_basic if it lists none). private_key_jwt: register jwksUri at the upstream first.",
});
const UpstreamOut = z
  .object({
    id: z.string(),
    coopId: z.string(),
    displayName: z.string(),
    issuer: z.string(),
    clientId: z.string(),
    authMethod: AuthMethod,
    federationEntity: z.string().nullable().openapi({ description: 'The meetplane instance this upstream is, when it is one' }),
    jwksUri: z.string().openapi({ description: "meetplane's public key for private_key_jwt at this upstream" }),
    enabled: z.boolean(),
    createdAt: Timestamp,
  })
  .openapi('UpstreamProvider');
const UpstreamCreate = z
  .object({
    coop: IdOrSlug,
    displayName: Name,
    issuer: z.url().max(2000).optional().openapi({ description: 'The provider (required unless federationEntity is given)' }),
    clientId: z.string().min(1).max(500).optional().openapi({ description: 'Required unless federationEntity is given' }),
    clientSecret: z.string().min(1).max(2000).optional().openapi({ description: 'Required unless authMethod is private_key_jwt' }),
    authMethod: AuthMethod.optional(),
    federationEntity: z
      .url()
      .max(2000)
      .optional()
      .openapi({
        description:
          "Another meetplane instance (its entity id) the federation trusts: its members log in here through it. Its provider comes from its federation metadata; meetplane is its client by this instance's entity id, with private_key_jwt (no secret). Excludes issuer, clientId, clientSecret and authMethod.",
      }),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.federationEntity !== undefined) {
      for (const k of ['issuer', 'clientId', 'clientSecret', 'authMethod'] as const)
        if (b[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: 'comes from the federation when federationEntity is given' });
      return;
    }
    if (b.issuer === undefined) ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'required unless federationEntity is given' });
    if (b.clientId === undefined) ctx.addIssue({ code: 'custom', path: ['clientId'], message: 'required unless federationEntity is given' });
    if (b.clientSecret === undefined && b.authMethod !== 'private_key_jwt') ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: 'required unless authMethod is private_key_jwt' });
  })
  .openapi('UpstreamProviderCreate');
const ClientUpdate = z
  .object({
    backchannelLogoutUri: z.string().max(2000).nullable().optional().openapi({ description: 'Where logout tokens are POSTed; null: the client is no longer told' }),
    backchannelLogoutSessionRequired: z.boolean().optional(),
    idTokenSignedResponseAlg: z.enum(ID_TOKEN_ALGS).optional(),
  })
  .strict()
  .openapi('OidcClientUpdate');
const IdPath = z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) });
const ClientPath = z.object({ id: z.string().min(1).max(64).openapi({ param: { name: 'id', in: 'path' }, description: 'id or client_id' }) });
const InvitationCreate = z.object({}).strict().openapi('InvitationCreate');

function upstreamOut(u: Upstream, publicUrl: string) {
  return { ...u, jwksUri: `${publicUrl}${OIDC_PREFIX}/upstream/${u.id}/jwks`, createdAt: u.createdAt.toISOString() };
}

function clientOut(c: OidcClient) {
  return { ...c, createdAt: c.createdAt.toISOString(), updatedAt: c.updatedAt.toISOString() };
}

export function ssoRoutes({ db, box, config, guard }: Deps, sso: Sso) {
  const app = router();

  /** A co-op named in a body: one the principal may not see is refused exactly like a missing one. */
  async function coopFor(p: Principal, ref: string) {
    const coop = await findCoop(db, ref);
    if (!coop || !(await guard.canRead(p, 'coop.read', coopRef(coop)))) throw problems.validation([{ path: 'coop', message: 'no such co-op' }]);
    return coop;
  }
  async function clientResource(client: OidcClient): Promise<ResourceRef> {
    const tenancy = client.tenancyId ? await findTenancy(db, client.tenancyId) : undefined;
    return { type: 'Client', id: client.id, coopId: client.coopId, tenancy: tenancy ? { id: tenancy.id, coopId: tenancy.coopId, clusterId: tenancy.clusterId } : null };
  }
  /** The client and the principal acting under the policies' allow for `action`. */
  async function clientFor(p: Principal, id: string, action: string) {
    const client = await findClient(db, id);
    if (!client) throw problems.notFound('client');
    return { client, actor: await guard.allow(p, action, await clientResource(client), 'client', 'client.read') };
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/me',
      tags: ['accounts'],
      summary: 'Who the bearer token stands for',
      responses: {
        200: jsonContent(
          z.object({ accountId: z.string(), email: z.string().nullable(), name: z.string().nullable(), coopId: z.string().nullable(), platformAdmin: z.boolean(), via: z.string(), clientId: z.string().nullable() }),
          'The caller',
        ),
        ...commonErrors,
      },
    }),
    async (c) => {
      const p = c.var.principal;
      const account = p.clientId && !p.scope ? undefined : await findAccount(db, p.accountId);
      return c.json(
        { accountId: p.accountId, email: account?.email ?? null, name: account?.name ?? null, coopId: p.coopId, platformAdmin: p.platformAdmin, via: p.via, clientId: p.clientId ?? null },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/clients',
      tags: ['clients'],
      summary: 'List OIDC clients (of your co-op unless platform admin)',
      request: { query: PageQuery.extend({ coop: IdOrSlug.optional().openapi({ param: { name: 'coop', in: 'query' } }) }) },
      responses: { 200: jsonContent(pageSchema(ClientOut), 'A page of clients'), ...commonErrors },
    }),
    async (c) => {
      const { limit, cursor, coop: coopFilter } = c.req.valid('query');
      const p = c.var.principal;
      await guard.allow(p, 'client.list', PLATFORM, 'clients');
      let coopId: string | null | undefined;
      if (coopFilter) {
        const coop = await findCoop(db, coopFilter);
        coopId = coop && (await guard.canRead(p, 'coop.read', coopRef(coop))) ? coop.id : null;
      }
      const pg = page(await listClients(db, { coopId, after: decodeCursor(cursor), limit }), limit);
      const items: OidcClient[] = [];
      for (const client of pg.items) if (await guard.canRead(p, 'client.read', await clientResource(client))) items.push(client);
      return c.json({ items: items.map(clientOut), nextCursor: pg.nextCursor }, 200);
    },
  );

  /**
   * Logout tokens go out through the outbound policy: a URI it would refuse
   * (a private or loopback address not in OUTBOUND_ALLOW) is refused now, not
   * at the first logout. A name that does not resolve yet is accepted.
   */
  async function logoutUriReachable(uri: string): Promise<void> {
    try {
      await outboundFor(config).checkTarget(uri);
    } catch (err) {
      if (err instanceof OutboundRefused) throw problems.validation([{ path: 'backchannelLogoutUri', message: err.message }]);
    }
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/clients',
      tags: ['clients'],
      summary: 'Register an OIDC client for a co-op or one of its tenancies; the secret is shown this once',
      request: { body: jsonBody(ClientCreate) },
      responses: { 201: jsonContent(ClientWithSecret, 'Registered'), ...commonErrors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const coop = await coopFor(c.var.principal, body.coop);
      let tenancyId: string | null = null;
      let target: ResourceRef = coopRef(coop);
      if (body.tenancy) {
        const tenancy = await findTenancy(db, body.tenancy);
        if (!tenancy || tenancy.coopId !== coop.id) throw problems.validation([{ path: 'tenancy', message: 'no such tenancy in this co-op' }]);
        tenancyId = tenancy.id;
        target = tenancyRef(tenancy);
      }
      // A client serving one tenancy is that tenancy's business (its owner may register it).
      const actor = await guard.allow(c.var.principal, 'client.create', target, 'co-op', body.tenancy ? 'tenancy.read' : 'coop.read');
      if (body.backchannelLogoutUri) await logoutUriReachable(body.backchannelLogoutUri);
      const { client, secret } = await createClient(db, box, actor, {
        name: body.name,
        coopId: coop.id,
        tenancyId,
        kind: body.kind,
        redirectUris: body.redirectUris,
        postLogoutRedirectUris: body.postLogoutRedirectUris,
        scope: body.scope,
        backchannelLogoutUri: body.backchannelLogoutUri,
        backchannelLogoutSessionRequired: body.backchannelLogoutSessionRequired,
        idTokenSignedResponseAlg: body.idTokenSignedResponseAlg,
      });
      c.header('ETag', etagOf(client));
      c.header('Location', `/api/v1/clients/${client.id}`);
      c.header('Cache-Control', 'no-store');
      return c.json({ ...clientOut(client), clientSecret: secret }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/clients/{id}',
      tags: ['clients'],
      summary: 'Show an OIDC client (by id or client_id)',
      request: { params: ClientPath },
      responses: { 200: jsonContent(ClientShown, 'The client, with its grants'), ...commonErrors },
    }),
    async (c) => {
      const p = c.var.principal;
      const { client } = await clientFor(p, c.req.valid('param').id, 'client.read');
      const held = client.kind === 'machine' ? await activeGrants(db, client.id) : [];
      const grants = [];
      for (const g of held)
        if ((await guard.authz.decide(p, 'grant.read', await grantResource(db, g))).decision === 'allow')
          grants.push({ id: g.id, role: g.role, scope: g.scope, expiresAt: g.expiresAt?.toISOString() ?? null });
      c.header('ETag', etagOf(client));
      return c.json({ ...clientOut(client), grants }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/clients/{id}',
      tags: ['clients'],
      summary: "Change how a client is told of logouts (back-channel logout URI, sid) and how its ID tokens are signed (If-Match required)",
      request: { params: ClientPath, headers: IfMatchHeader, body: jsonBody(ClientUpdate) },
      responses: { 200: jsonContent(ClientOut, 'Changed'), ...commonErrors, 412: jsonContent(z.any(), 'Changed meanwhile'), 428: jsonContent(z.any(), 'If-Match missing') },
    }),
    async (c) => {
      const { client, actor } = await clientFor(c.var.principal, c.req.valid('param').id, 'client.update');
      requireIfMatch(c.req.valid('header')['if-match'], client);
      const body = c.req.valid('json');
      if (body.backchannelLogoutUri) await logoutUriReachable(body.backchannelLogoutUri);
      const updated = await updateClient(db, actor, client, body);
      c.header('ETag', etagOf(updated));
      return c.json(clientOut(updated), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/clients/{id}/rotate-secret',
      tags: ['clients'],
      summary: 'Replace a client secret (If-Match required); the new one is shown this once',
      request: { params: ClientPath, headers: IfMatchHeader },
      responses: { 200: jsonContent(ClientWithSecret, 'Rotated'), ...commonErrors, 409: jsonContent(z.any(), 'Public client'), 412: jsonContent(z.any(), 'Changed meanwhile'), 428: jsonContent(z.any(), 'If-Match missing') },
    }),
    async (c) => {
      const { client, actor } = await clientFor(c.var.principal, c.req.valid('param').id, 'client.rotateSecret');
      requireIfMatch(c.req.valid('header')['if-match'], client);
      const { client: rotated, secret } = await rotateClientSecret(db, box, actor, client);
      c.header('ETag', etagOf(rotated));
      c.header('Cache-Control', 'no-store');
      return c.json({ ...clientOut(rotated), clientSecret: secret }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/clients/{id}',
      tags: ['clients'],
      summary: 'Delete an OIDC client (If-Match required); it stops working at once',
      request: { params: ClientPath, headers: IfMatchHeader },
      responses: { 204: { description: 'Deleted' }, ...commonErrors, 412: jsonContent(z.any(), 'Changed meanwhile'), 428: jsonContent(z.any(), 'If-Match missing') },
    }),
    async (c) => {
      const { client, actor } = await clientFor(c.var.principal, c.req.valid('param').id, 'client.delete');
      requireIfMatch(c.req.valid('header')['if-match'], client);
      await deleteClient(db, actor, client);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/accounts/{id}/invitations',
      tags: ['accounts'],
      summary: 'Invite the account\'s owner to set a password; the link is shown this once',
      request: { params: IdPath, body: { content: { 'application/json': { schema: InvitationCreate } }, required: false } },
      responses: { 201: jsonContent(z.object({ id: z.string(), url: z.string(), expiresAt: Timestamp }), 'Invitation created'), ...commonErrors },
    }),
    async (c) => {
      const account = await findAccount(db, c.req.valid('param').id);
      if (!account) throw problems.notFound('account');
      const actor = await guard.allow(c.var.principal, 'account.invite', { type: 'Account', id: account.id, coopId: account.coopId }, 'account', 'account.read');
      const inv = await createInvitation(db, actor, account.id, config.sso.invitationTtl);
      c.header('Cache-Control', 'no-store');
      return c.json({ id: inv.id, url: `${config.publicUrl}${OIDC_PREFIX}/invitation/${inv.token}`, expiresAt: inv.expiresAt.toISOString() }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/upstreams',
      tags: ['upstreams'],
      summary: 'List co-ops\' upstream identity providers',
      responses: { 200: jsonContent(z.object({ items: z.array(UpstreamOut) }), 'Upstream providers'), ...commonErrors },
    }),
    async (c) => {
      const p = c.var.principal;
      await guard.allow(p, 'upstream.list', PLATFORM, 'upstream providers');
      // An upstream provider is visible to whoever may read its co-op.
      const rows = [];
      for (const u of await listUpstreams(db)) if (await guard.canRead(p, 'coop.read', coopRef({ id: u.coopId }))) rows.push(u);
      return c.json({ items: rows.map((u) => upstreamOut(u, config.publicUrl)) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/upstreams',
      tags: ['upstreams'],
      summary: 'Register a co-op\'s own OIDC provider; its members may then log in there',
      request: { body: jsonBody(UpstreamCreate) },
      responses: { 201: jsonContent(UpstreamOut, 'Registered'), ...commonErrors, 409: jsonContent(z.any(), 'Exists') },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const coop = await coopFor(c.var.principal, body.coop);
      const actor = await guard.allow(c.var.principal, 'upstream.create', coopRef(coop), 'co-op', 'coop.read');
      if (body.federationEntity !== undefined) {
        // Another instance: the federation must trust it now, and it must run a provider.
        let provider: string | undefined;
        try {
          if (!sso.peers.metadata) throw new Error('this instance has no federation');
          const op = (await sso.peers.metadata(body.federationEntity)).openid_provider as { issuer?: unknown } | undefined;
          provider = typeof op?.issuer === 'string' ? op.issuer : undefined;
        } catch (err) {
          throw problems.validation([{ path: 'federationEntity', message: `not trusted by this instance's federation: ${(err as Error).message.slice(0, 300)}` }]);
        }
        if (!provider) throw problems.validation([{ path: 'federationEntity', message: 'its federation metadata names no OpenID provider' }]);
        const u = await createUpstream(db, box, actor, {
          coopId: coop.id,
          displayName: body.displayName,
          issuer: provider,
          clientId: config.publicUrl,
          // Never used (private_key_jwt); the column holds a random value nobody saw.
          clientSecret: randomBytes(32).toString('base64url'),
          authMethod: 'private_key_jwt',
          federationEntity: body.federationEntity,
        });
        c.header('Location', `/api/v1/upstreams/${u.id}`);
        return c.json(upstreamOut(u, config.publicUrl), 201);
      }
      const issuer = new URL(body.issuer!);
      if (issuer.protocol !== 'https:' && !['localhost', '127.0.0.1', '[::1]'].includes(issuer.hostname))
        throw problems.validation([{ path: 'issuer', message: 'must use https (http only for loopback addresses)' }]);
      // Kept exactly as given: the issuer is compared with the upstream's discovery and ID tokens as a
      // string, and some issuers end in a slash (LemonLDAP::NG's default does).
      const u = await createUpstream(db, box, actor, { ...body, issuer: body.issuer!, clientId: body.clientId!, clientSecret: body.clientSecret ?? '', coopId: coop.id });
      c.header('Location', `/api/v1/upstreams/${u.id}`);
      return c.json(upstreamOut(u, config.publicUrl), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/upstreams/{id}',
      tags: ['upstreams'],
      summary: 'Remove a co-op\'s upstream provider (linked identities stop working)',
      request: { params: IdPath },
      responses: { 204: { description: 'Deleted' }, ...commonErrors },
    }),
    async (c) => {
      const id = c.req.valid('param').id;
      const all = await listUpstreams(db);
      const u = all.find((x) => x.id === id);
      if (!u) throw problems.notFound('upstream provider');
      const actor = await guard.allow(c.var.principal, 'upstream.delete', { type: 'Upstream', id: u.id, coopId: u.coopId }, 'upstream provider', 'coop.read');
      await deleteUpstream(db, actor, id);
      return c.body(null, 204);
    },
  );

  return app;
}
