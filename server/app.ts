// Assembles the HTTP application: observation, operations endpoints, the
// authenticated REST API under /api/v1 and its OpenAPI description.
import { OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { AppEnv, Deps } from './http/env.js';
import { Guard } from './authz/guard.js';
import { Authz } from './authz/authz.js';
import { observe } from './http/observe.js';
import { Metrics } from './metrics/registry.js';
import { pageHeaders } from './http/page-headers.js';
import { notFound, onError } from './http/errors.js';
import { limitBody, REQUEST_BODY_LIMIT } from './http/body-limit.js';
import { failedResponse } from './bbb/xml.js';
import { validationHook } from './http/validation.js';
import { bearerAuth } from './auth/middleware.js';
import { appliedMigrationCount, expectedMigrationCount } from './db/index.js';
import { coopRoutes } from './coops/routes.js';
import { clusterRoutes } from './clusters/routes.js';
import { tenancyRoutes } from './tenancies/routes.js';
import { accountRoutes } from './accounts/routes.js';
import { auditRoutes } from './audit/routes.js';
import { mountSso } from './oidc/mount.js';
import { relyingPartyMetadata } from './oidc/federated-clients.js';
import { OIDC_PREFIX } from './oidc/provider.js';
import { resolveEntity, resolvedMetadata } from './federation/service.js';
import { memberSite } from './web/member-site.js';
import { ssoRoutes } from './oidc/routes.js';
import { auditPages } from './audit/pages.js';
import { landingPage } from './web/landing.js';
import { setupPages } from './setup/pages.js';
import type { SetupLinks } from './setup/links.js';
import { transferRoutes } from './transfers/routes.js';
import { handoverRoutes } from './handovers/routes.js';
import { clusterStorageRoutes } from './clusters/storage-routes.js';
import { greenlightRoutes } from './greenlight/frontend-routes.js';
import { clusterHealthRoutes } from './clusters/health-routes.js';
import { inventoryRoutes } from './inventory/routes.js';
import { gatewayRoutes } from './gateway/routes.js';
import { MAX_BODY_BYTES as GATEWAY_BODY_LIMIT, xmlResponse } from './gateway/gateway.js';
import { grantRoutes } from './grants/routes.js';
import { policyRoutes } from './authz/routes.js';
import { receiptKeyRoutes } from './receipts/routes.js';
import { federationApiRoutes, federationPublicRoutes, federationResolver } from './federation/routes.js';
import { providerMetadata } from './federation/provider-metadata.js';
import { witnessApiRoutes, witnessPublicRoutes } from './federation/witness-routes.js';
import { peerTransferEndpoint, peerTransferRoutes } from './peer-transfers/routes.js';
import { peerTransferFileRoutes } from './peer-transfers/files-routes.js';
import { sequenceAfterAppends } from './audit/request-barrier.js';
import { retireCachesAfterWrites } from './cache/after-writes.js';
import { setCacheMaxAge } from './cache/db-caches.js';

export const API_PREFIX = '/api/v1';

/** `setup`: the one-time setup link of an instance without a platform admin (server/setup), mounted at /setup. */
export function createApp(base: Omit<Deps, 'guard'>, setup?: SetupLinks) {
  // Before anything reads through the caches of principals and their facts (server/cache/db-caches.ts).
  setCacheMaxAge(base.db, base.config.cacheMaxAgeMs);
  const deps: Deps = { ...base, guard: new Guard(new Authz(base.db)) };
  const metrics = new Metrics().watch(deps.db);
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.onError(onError);
  app.notFound(notFound);
  app.use('*', observe(deps.log, metrics));
  app.use('*', sequenceAfterAppends(deps.db));
  app.use('*', retireCachesAfterWrites(deps.db));
  // Bodies are limited before anything reads them. oidc-provider's own routes
  // read the raw request themselves (with their own limits): not limited here.
  const limit = limitBody(REQUEST_BODY_LIMIT);
  for (const path of [`${API_PREFIX}/*`, '/me/*', '/audit/*', '/setup', '/setup/*', '/oidc/interaction/*', '/oidc/upstream/*', '/oidc/invitation/*']) app.use(path, limit);
  // The gateway's create may carry pre-uploaded slides: a larger limit, answered as BBB does.
  const gatewayLimit = limitBody(GATEWAY_BODY_LIMIT, () => xmlResponse(failedResponse('invalidRequestBody', 'The request body is too large')));
  for (const path of ['/bigbluebutton/*', '/t/*']) app.use(path, gatewayLimit);
  app.use('*', pageHeaders(deps.config.publicUrl)); // CSP and friends on every HTML page, HSTS on https

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  const expected = expectedMigrationCount();
  app.get('/readyz', async (c) => {
    try {
      await deps.db.execute(sql`select 1`);
      const applied = await appliedMigrationCount(deps.db);
      if (applied < expected) return c.json({ status: 'migrating', applied, expected }, 503);
      return c.json({ status: 'ready', database: 'ok', migrations: applied }, 200);
    } catch (err) {
      c.var.log.warn({ err }, 'readiness check failed');
      return c.json({ status: 'unavailable', database: 'unreachable' }, 503);
    }
  });
  app.get('/metrics', async (c) => {
    const { contentType, body } = await metrics.render();
    return c.text(body, 200, { 'Content-Type': contentType });
  });

  const api = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  api.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'A personal access token (mp_pat_...)',
  });
  api.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'meetplane API', version: '1', description: 'Federated control plane for BigBlueButton hosting co-operatives' },
    servers: [{ url: deps.config.publicUrl + API_PREFIX }],
    security: [{ bearer: [] }],
  });
  api.use('*', async (c, next) => (c.req.path === `${API_PREFIX}/openapi.json` ? next() : bearerAuth(deps.db, () => deps.sso?.verifier)(c, next)));
  // A successful change: have a checkpoint signed soon, covering it.
  api.use('*', async (c, next) => {
    await next();
    if (c.req.method !== 'GET' && c.res.status < 400) deps.checkpointer.nudge();
  });
  api.route('/', coopRoutes(deps));
  api.route('/', clusterRoutes(deps));
  api.route('/', tenancyRoutes(deps));
  api.route('/', accountRoutes(deps));
  api.route('/', auditRoutes(deps));
  api.route('/', transferRoutes(deps));
  api.route('/', handoverRoutes(deps));
  api.route('/', clusterStorageRoutes(deps));
  api.route('/', greenlightRoutes(deps));
  api.route('/', clusterHealthRoutes(deps));
  api.route('/', inventoryRoutes(deps));
  api.route('/', grantRoutes(deps));
  api.route('/', policyRoutes(deps));
  if (deps.sso) api.route('/', ssoRoutes(deps, deps.sso));
  const federation = federationResolver(deps);
  // Sign-on across instances: the provider and the upstream log-in learn whom to trust from the federation.
  if (deps.sso)
    deps.sso.peers.metadata = async (entityId, opts) => {
      if (opts?.fresh) federation.forget(entityId);
      return resolvedMetadata(await resolveEntity(deps.db, federation, entityId));
    };
  api.route('/', federationApiRoutes(deps, federation));
  api.route('/', witnessApiRoutes(deps));
  api.route('/', peerTransferRoutes(deps, federation));
  app.route(API_PREFIX, receiptKeyRoutes(deps)); // public JWKS: before the bearer-protected router
  app.route(API_PREFIX, api);
  if (deps.sso) mountSso(app, deps.sso);
  if (deps.sso) app.route('/me', memberSite(deps, deps.sso) as never); // members' own pages, signed in through /oidc
  app.route('/audit', auditPages(deps));
  // OpenID Federation: the entity configuration (naming the provider when sign-on runs) and fetch/list/resolve.
  app.route(
    '/',
    federationPublicRoutes(
      deps,
      federation,
      async () => (deps.sso ? providerMetadata(deps.config, deps.sso.publicJwks) : undefined),
      async () => (deps.sso ? relyingPartyMetadata(deps.db, { publicUrl: deps.config.publicUrl, callbackUrl: `${deps.config.publicUrl}${OIDC_PREFIX}/upstream/callback` }) : undefined),
    ),
  );
  app.route('/', witnessPublicRoutes(deps)); // C2SP tlog-witness: unauthenticated, the checkpoint's signature is the check
  app.route('/', peerTransferEndpoint(deps, federation)); // peers' signed transfer messages: the signature and the federation's trust are the check
  app.route('/', peerTransferFileRoutes(deps, federation)); // a packaged transfer's files, to its target's key only (DPoP-bound capabilities)
  if (setup) app.route('/setup', setupPages(deps, setup));
  app.route('/', landingPage(deps)); // GET /: what this instance is, where to sign in
  app.route('/', gatewayRoutes(deps, metrics)); // BBB API gateway: checksums, not bearer tokens
  return app;
}
