// OpenID Federation over HTTP. Public, as the spec wants them: the entity configuration, and the
// fetch / list / resolve endpoints (errors in the spec's JSON form). Under /api/v1/federation:
// the platform admins' view and changes (Cedar federation.read / federation.manage, audited).
import { Hono } from 'hono';
import { createRoute, z } from '@hono/zod-openapi';
import { SignJWT, importJWK } from 'jose';
import { router, type AppEnv, type Deps } from '../http/env.js';
import { commonErrors, jsonBody, jsonContent } from '../http/schemas.js';
import { PLATFORM } from '../authz/guard.js';
import { problems } from '../http/problem.js';
import { outboundFor } from '../net/outbound.js';
import { ENTITY_STATEMENT_CONTENT_TYPE } from '../../federation/entity-statement.js';
import { TrustChainError, TrustChainResolver } from '../../federation/trust-chain.js';
import type { MetadataPolicy } from '../../federation/metadata-policy.js';
import { federationSigningKey } from './keys.js';
import { PUBLIC_STATUS_MAX_AGE_MS, resolveWithTrustMarks, trustMarksView, type CheckedResolution } from './resolution-marks.js';
import { trustMarkApiRoutes, trustMarkPublicRoutes } from './trust-mark-routes.js';
import { addAnchor, addPeer, removePeer, enrol, removeSubordinate, rotateKey, entityConfiguration, listTrust, subordinateIds, subordinateStatement } from './service.js';

export const RESOLVE_RESPONSE_TYP = 'resolve-response+jwt';

/** One resolver per instance: chains are cached until their earliest expiry. */
export function federationResolver(deps: Pick<Deps, 'config'>): TrustChainResolver {
  return new TrustChainResolver(outboundFor(deps.config));
}

const fedError = (error: string, description: string) => ({ error, error_description: description });

function resolutionView(r: CheckedResolution) {
  const trustMarks = trustMarksView(r.trustMarks);
  if (r.kind === 'pinned') return { subject: r.subject, via: 'pinned' as const, thumbprint: r.thumbprint, metadata: r.metadata, expiresAt: new Date(r.expiresAt * 1000).toISOString(), chain: [], trustMarks };
  const c = r.chain;
  return {
    trustMarks,
    subject: c.subject,
    via: 'trust_anchor' as const,
    trustAnchor: c.trustAnchor,
    metadata: c.metadata,
    expiresAt: new Date(c.expiresAt * 1000).toISOString(),
    chain: c.statements.map((s) => ({ iss: s.iss, sub: s.sub, exp: new Date(s.exp * 1000).toISOString() })),
  };
}

/**
 * Public endpoints. `discovery` gives the provider's discovery document (openid_provider
 * metadata), read in process.
 */
export function federationPublicRoutes(
  deps: Deps,
  resolver: TrustChainResolver,
  discovery: () => Promise<Record<string, unknown> | undefined>,
  relyingParty: () => Promise<Record<string, unknown> | undefined> = async () => undefined,
) {
  const app = new Hono<AppEnv>();
  const fd = { db: deps.db, box: deps.box, publicUrl: deps.config.publicUrl, statementLifetimeS: deps.config.federationStatementLifetimeS };

  app.get('/.well-known/openid-federation', async (c) => {
    const jwt = await entityConfiguration(fd, await discovery(), await relyingParty());
    return c.body(jwt, 200, { 'Content-Type': ENTITY_STATEMENT_CONTENT_TYPE, 'Cache-Control': 'no-cache' });
  });

  app.get('/federation/fetch', async (c) => {
    const sub = c.req.query('sub');
    if (!sub) return c.json(fedError('invalid_request', 'sub is required'), 400);
    const jwt = await subordinateStatement(fd, sub.replace(/\/+$/, ''));
    if (!jwt) return c.json(fedError('not_found', 'no statement about this entity'), 404);
    return c.body(jwt, 200, { 'Content-Type': ENTITY_STATEMENT_CONTENT_TYPE });
  });

  app.get('/federation/list', async (c) => c.json(await subordinateIds(deps.db)));

  // The resolve endpoint of §8.3: the resolved metadata and the chain, signed with the federation key.
  app.get('/federation/resolve', async (c) => {
    const sub = c.req.query('sub');
    const anchor = c.req.query('trust_anchor');
    if (!sub || !anchor) return c.json(fedError('invalid_request', 'sub and trust_anchor are required'), 400);
    let r: CheckedResolution;
    try {
      // Anyone may ask: each issuer's status answer is reused for a while, so callers cannot make this instance ask at their rate.
      r = await resolveWithTrustMarks(deps.db, resolver, sub, anchor, { statusMaxAgeMs: PUBLIC_STATUS_MAX_AGE_MS });
    } catch (err) {
      if (err instanceof TrustChainError) return c.json(fedError(err.code, err.message), err.code === 'invalid_trust_anchor' ? 404 : 400);
      throw err;
    }
    if (r.kind !== 'chain') return c.json(fedError('invalid_trust_chain', 'not resolved through an anchor'), 400);
    const key = await federationSigningKey(deps.db, deps.box);
    // Only the marks verified now, and the response expires no later than any of them (§8.3.2).
    const marks = r.trustMarks.valid;
    const trust_marks = marks.map((m) => ({ trust_mark_type: m.trust_mark_type, trust_mark: m.jwt }));
    const exp = Math.min(r.chain.expiresAt, ...marks.flatMap((m) => (m.exp !== undefined ? [m.exp] : [])));
    const jwt = await new SignJWT({ sub: r.chain.subject, metadata: r.chain.metadata, ...(trust_marks.length > 0 ? { trust_marks } : {}), trust_chain: r.chain.jwts })
      .setProtectedHeader({ alg: 'ES256', typ: RESOLVE_RESPONSE_TYP, kid: key.kid! })
      .setIssuer(deps.config.publicUrl)
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(await importJWK(key, 'ES256'));
    return c.body(jwt, 200, { 'Content-Type': `application/${RESOLVE_RESPONSE_TYP}` });
  });
  app.route('/', trustMarkPublicRoutes(deps));
  return app;
}

const EntityId = z
  .string()
  .url()
  .refine((s) => /^https?:/.test(s) && !new URL(s).search && !new URL(s).hash, 'an http(s) URL without query or fragment')
  .openapi({ example: 'https://meet.example.coop' });
const Thumbprint = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'a base64url SHA-256 JWK thumbprint (RFC 7638)');
// metadata_policy as a list of rules (closed objects, so a misspelt operator is refused, not ignored).
const Operators = z
  .object({
    value: z.unknown().optional(),
    add: z.array(z.unknown()).optional(),
    default: z.unknown().optional(),
    one_of: z.array(z.unknown()).optional(),
    subset_of: z.array(z.unknown()).optional(),
    superset_of: z.array(z.unknown()).optional(),
    essential: z.boolean().optional(),
  })
  .strict();
const PolicyRule = z
  .object({ entityType: z.string().min(1).max(100), parameter: z.string().min(1).max(200), operators: Operators })
  .strict()
  .openapi('FederationPolicyRule', { description: 'metadata_policy[entityType][parameter] = operators' });
const Constraints = z
  .object({
    max_path_length: z.number().int().min(0).optional(),
    naming_constraints: z.object({ permitted: z.array(z.string()).optional(), excluded: z.array(z.string()).optional() }).strict().optional(),
    allowed_entity_types: z.array(z.string()).optional(),
  })
  .strict();
const Pin = z.object({ entityId: EntityId, thumbprint: Thumbprint }).strict();
const PeerPin = z
  .object({
    entityId: EntityId,
    thumbprint: Thumbprint,
    witness: z.boolean().optional().openapi({ description: "Witness each other's audit logs from the peer's metadata (default true)" }),
  })
  .strict();
const Enrolment = z.object({ entityId: EntityId, thumbprint: Thumbprint, metadataPolicy: z.array(PolicyRule).optional(), constraints: Constraints.optional() }).strict();

/** The rules as the statement's metadata_policy object. */
function policyOf(rules: Array<z.infer<typeof PolicyRule>> | undefined): MetadataPolicy | undefined {
  if (!rules) return undefined;
  const out: MetadataPolicy = {};
  for (const r of rules) {
    const ops = Object.fromEntries(Object.entries(r.operators).filter(([, v]) => v !== undefined));
    out[r.entityType] = { ...(out[r.entityType] ?? {}), [r.parameter]: ops as MetadataPolicy[string][string] };
  }
  return out;
}
const Anything = z.record(z.string(), z.unknown());
const TrustOut = z.object({ self: z.object({ entityId: z.string(), thumbprint: z.string() }), anchors: z.array(Anything), peers: z.array(Anything), subordinates: z.array(Anything) }).openapi('FederationTrust');
const TrustMarksOut = z.object({
  valid: z.array(z.object({ trustMarkType: z.string(), issuer: z.string(), issuedAt: z.string(), expiresAt: z.string().nullable(), ref: z.string().optional() })),
  dropped: z.array(z.object({ trustMarkType: z.string(), issuer: z.string().nullable(), reason: z.string() })),
});
const ResolveOut = z
  .object({ subject: z.string(), via: z.enum(['trust_anchor', 'pinned']), trustAnchor: z.string().optional(), thumbprint: z.string().optional(), metadata: Anything, expiresAt: z.string(), chain: z.array(Anything), trustMarks: TrustMarksOut })
  .openapi('FederationResolution');

export function federationApiRoutes(deps: Deps, resolver: TrustChainResolver) {
  const { db, guard } = deps;
  const fd = { db: deps.db, box: deps.box, publicUrl: deps.config.publicUrl, statementLifetimeS: deps.config.federationStatementLifetimeS };
  const app = router();

  app.openapi(
    createRoute({ method: 'get', path: '/federation', tags: ['federation'], summary: 'Trust anchors, pinned peers and enrolled subordinates', responses: { 200: jsonContent(TrustOut, 'What this instance trusts and vouches for'), ...commonErrors } }),
    async (c) => {
      await guard.allow(c.var.principal, 'federation.read', PLATFORM, 'federation');
      return c.json(await listTrust(fd), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/federation/subordinates',
      tags: ['federation'],
      summary: 'Enrol an instance below this one (anchor or intermediate mode)',
      request: { body: jsonBody(Enrolment) },
      responses: { 201: jsonContent(Anything, 'Enrolled'), ...commonErrors },
    }),
    async (c) => {
      const actor = await guard.allow(c.var.principal, 'federation.manage', PLATFORM, 'federation');
      const b = c.req.valid('json');
      return c.json(await enrol(fd, resolver, actor, { entityId: b.entityId, thumbprint: b.thumbprint, metadataPolicy: policyOf(b.metadataPolicy), constraints: b.constraints }), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/federation/subordinates',
      tags: ['federation'],
      summary: 'Stop vouching for an instance (its chains through this anchor fail once cached ones expire)',
      request: { query: z.object({ entityId: EntityId }) },
      responses: { 204: { description: 'No longer enrolled' }, ...commonErrors },
    }),
    async (c) => {
      const actor = await guard.allow(c.var.principal, 'federation.manage', PLATFORM, 'federation');
      if (!(await removeSubordinate(fd, actor, c.req.valid('query').entityId))) throw problems.notFound('enrolled entity');
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({ method: 'post', path: '/federation/anchors', tags: ['federation'], summary: 'Trust an anchor (its configuration must be signed by the key with this thumbprint)', request: { body: jsonBody(Pin) }, responses: { 201: jsonContent(Anything, 'Added'), ...commonErrors } }),
    async (c) => {
      const actor = await guard.allow(c.var.principal, 'federation.manage', PLATFORM, 'federation');
      return c.json(await addAnchor(fd, resolver, actor, c.req.valid('json')), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/federation/keys/rotate',
      tags: ['federation'],
      summary: 'Rotate the federation key (give the new thumbprint to each anchor, which must enrol it again)',
      responses: { 200: jsonContent(z.object({ thumbprint: z.string(), retired: z.array(z.string()) }), 'The new key'), ...commonErrors },
    }),
    async (c) => {
      const actor = await guard.allow(c.var.principal, 'federation.manage', PLATFORM, 'federation');
      return c.json(await rotateKey(fd, actor), 200);
    },
  );

  app.openapi(
    createRoute({ method: 'post', path: '/federation/peers', tags: ['federation'], summary: "Pin a peer instance by the thumbprint of its federation key; unless witness is false, witness its log and ask its witness to cosign this one's", request: { body: jsonBody(PeerPin) }, responses: { 201: jsonContent(Anything, 'Added'), ...commonErrors } }),
    async (c) => {
      const actor = await guard.allow(c.var.principal, 'federation.manage', PLATFORM, 'federation');
      return c.json(await addPeer(fd, resolver, actor, c.req.valid('json')), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/federation/peers',
      tags: ['federation'],
      summary: 'Unpin a peer instance: it is no longer trusted, at once (sign-on through it is refused); witnessing from its metadata stops',
      request: { query: z.object({ entityId: EntityId }) },
      responses: { 204: { description: 'No longer trusted' }, ...commonErrors },
    }),
    async (c) => {
      const actor = await guard.allow(c.var.principal, 'federation.manage', PLATFORM, 'federation');
      if (!(await removePeer(fd, resolver, actor, c.req.valid('query').entityId))) throw problems.notFound('pinned peer');
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/federation/resolve',
      tags: ['federation'],
      summary: "Resolve an entity's trust chain and metadata (or check it as a pinned peer)",
      request: { query: z.object({ sub: EntityId, trust_anchor: EntityId.optional() }) },
      responses: { 200: jsonContent(ResolveOut, 'The chain and the resolved metadata'), ...commonErrors },
    }),
    async (c) => {
      await guard.allow(c.var.principal, 'federation.read', PLATFORM, 'federation');
      const q = c.req.valid('query');
      try {
        return c.json(resolutionView(await resolveWithTrustMarks(db, resolver, q.sub, q.trust_anchor)), 200);
      } catch (err) {
        if (err instanceof TrustChainError) throw problems.badRequest(`${err.code}: ${err.message}`);
        throw err;
      }
    },
  );
  app.route('/', trustMarkApiRoutes(deps, resolver));
  return app;
}
