// Identity brokering: a co-op may register its own OIDC provider; its members
// then log in there. The first log-in links to an existing account of that
// co-op only when the upstream says the e-mail address is verified and it
// matches; otherwise a new account of the co-op is created. Later log-ins are
// recognised by the upstream (issuer, sub) pair. Linking, at the first log-in and
// again at every later one, is the policies' `account.link`: the upstream stands
// for a coop_admin of its co-op, so it reaches only accounts of that co-op whose
// every role lies inside it (policies/cover.cedar) — never another co-op's
// admin, a platform admin or an auditor.
import { randomBytes } from 'node:crypto';
import { and, asc, eq, isNull } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import * as oidc from 'openid-client';
import type { AppEnv } from '../http/env.js';
import type { Db } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Principal } from '../auth/principal.js';
import { SLUG_RE, UUID_RE, uuidv7 } from '../ids.js';
import { appendAudit } from '../audit/trail.js';
import { person } from '../audit/subjects.js';
import { problems } from '../http/problem.js';
import { accounts } from '../accounts/table.js';
import { maySignIn } from '../accounts/lifecycle.js';
import { accountCredentials, accountIdentities } from '../accounts/sso-table.js';
import { createAccount } from '../accounts/service.js';
import { oidcClients, oidcModels, upstreamProviders } from './table.js';
import type { Sso } from './index.js';
import type { InteractionHooks } from './interactions.js';
import { errorPage } from './interactions.js';
import type { UpstreamRefusalReason } from './sign-on-text.js';
import { OIDC_PREFIX } from './provider.js';
import { outboundFor } from '../net/outbound.js';
import { Authz } from '../authz/authz.js';
import { findCoop } from '../coops/service.js';
import type { PrincipalFacts } from '../../policies/evaluator.js';
import { PeerKeyRefused, verifyPeerIdToken } from './peer-id-token.js';
import { chooseAuthMethod, clientSecretBasic, newClientKey, privateKeyJwt, upstreamErrorForLog, type AuthMethod } from './upstream-auth.js';

type Env = AppEnv & { Bindings: HttpBindings };
type UpstreamRow = typeof upstreamProviders.$inferSelect;
export type Upstream = Omit<UpstreamRow, 'secretSealed' | 'clientKeySealed' | 'clientPublicJwk'>;

function publicPart({ secretSealed: _s, clientKeySealed: _k, clientPublicJwk: _j, ...rest }: UpstreamRow): Upstream {
  return rest;
}

export const secretLabel = (id: string) => `upstream-secret:${id}`;

/** The federation does not (or no longer) trust the instance an upstream names. */
class PeerNotTrusted extends Error {}
const STATE_TTL_MS = 10 * 60_000;

export async function createUpstream(
  db: Db,
  box: SecretBox,
  actor: Principal,
  input: { coopId: string; displayName: string; issuer: string; clientId: string; clientSecret: string; authMethod?: AuthMethod | null; federationEntity?: string | null },
): Promise<Upstream> {
  const id = uuidv7();
  // Every upstream gets its own key for private_key_jwt, published before anyone asks for the method.
  const key = await newClientKey(box, id);
  try {
    return await db.transaction(async (tx) => {
      const [row] = await tx
        .insert(upstreamProviders)
        .values({
          id,
          coopId: input.coopId,
          displayName: input.displayName,
          issuer: input.issuer,
          clientId: input.clientId,
          secretSealed: box.seal(input.clientSecret, secretLabel(id)),
          authMethod: input.authMethod ?? null,
          clientKeySealed: key.sealed,
          clientPublicJwk: key.publicJwk as Record<string, unknown>,
          federationEntity: input.federationEntity ?? null,
        })
        .returning();
      await appendAudit(tx, {
        actor,
        action: 'upstream.create',
        subject: { type: 'upstream', id },
        after: {
          coop: input.coopId,
          issuer: input.issuer,
          clientId: input.clientId,
          displayName: input.displayName,
          authMethod: input.authMethod ?? null,
          ...(input.federationEntity ? { federationEntity: input.federationEntity } : {}),
        },
      });
      return publicPart(row!);
    });
  } catch (e) {
    if ((e as { cause?: { code?: string }; code?: string }).cause?.code === '23505' || (e as { code?: string }).code === '23505')
      throw problems.conflict('upstream-exists', 'this co-op has an upstream provider already; delete it first');
    throw e;
  }
}

export async function listUpstreams(db: Db, coopId?: string | null): Promise<Upstream[]> {
  const rows = await db
    .select()
    .from(upstreamProviders)
    .where(coopId === undefined ? undefined : coopId === null ? eq(upstreamProviders.id, '00000000-0000-0000-0000-000000000000') : eq(upstreamProviders.coopId, coopId))
    .orderBy(asc(upstreamProviders.id));
  return rows.map(publicPart);
}

export async function deleteUpstream(db: Db, actor: Principal, id: string): Promise<void> {
  await db.transaction(async (tx) => {
    const gone = await tx.delete(upstreamProviders).where(eq(upstreamProviders.id, id)).returning({ id: upstreamProviders.id });
    if (gone.length === 0) throw problems.notFound('upstream provider');
    await appendAudit(tx, { actor, action: 'upstream.delete', subject: { type: 'upstream', id }, before: {}, after: null });
  });
}

/** Finds or creates the account for an upstream identity; throws a message for the user when refused. */
export async function resolveUpstreamAccount(
  db: Db,
  authz: Authz,
  upstream: Upstream,
  claims: { sub: string; email?: unknown; email_verified?: unknown; name?: unknown },
): Promise<string> {
  const [linked] = await db
    .select({ accountId: accountIdentities.accountId, coopId: accounts.coopId })
    .from(accountIdentities)
    .innerJoin(accounts, eq(accounts.id, accountIdentities.accountId))
    .where(and(eq(accountIdentities.issuer, upstream.issuer), eq(accountIdentities.subject, claims.sub)));
  if (linked) {
    // The link was made for this co-op; an account that moved or gained roles since is out of its reach
    // (and so is an issuer re-registered by another co-op).
    await requireLink(authz, upstream, { id: linked.accountId, coopId: linked.coopId }, 'linkGone', 'This account cannot be used through this co-op any more. Log in with your password.');
    return linked.accountId;
  }
  const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : '';
  const verified = claims.email_verified === true;
  if (!email) throw new UpstreamRefusal('noEmail', 'Your co-op did not share an e-mail address, so no account can be created.');
  const [existing] = await db.select().from(accounts).where(eq(accounts.email, email));
  let accountId: string;
  let action: 'link' | 'create';
  if (existing) {
    if (!verified) throw new UpstreamRefusal('unverified', 'An account with this e-mail address exists, but your co-op did not confirm the address is verified.');
    await requireLink(authz, upstream, existing, 'cannotLink', 'An account with this e-mail address exists and cannot be used through this co-op. Log in with your password.');
    accountId = existing.id;
    action = 'link';
  } else {
    const name = typeof claims.name === 'string' && claims.name.trim() ? claims.name.trim().slice(0, 200) : email.split('@')[0]!;
    const self: Principal = { accountId: uuidv7(), coopId: upstream.coopId, platformAdmin: false, via: 'oidc', tokenId: null };
    // The account creates itself through its co-op's provider.
    const created = await createAccount(db, self, { email, name, coopId: upstream.coopId });
    accountId = created.id;
    action = 'create';
  }
  await db.transaction(async (tx) => {
    await tx.insert(accountIdentities).values({ issuer: upstream.issuer, subject: claims.sub, accountId }).onConflictDoNothing();
    if (verified)
      await tx
        .insert(accountCredentials)
        .values({ accountId, emailVerifiedAt: new Date() })
        .onConflictDoUpdate({ target: accountCredentials.accountId, set: { emailVerifiedAt: new Date() } });
    await appendAudit(tx, {
      actor: { accountId, coopId: upstream.coopId, platformAdmin: false, via: 'oidc', tokenId: null },
      action: 'account.link-identity',
      subject: { type: 'account', id: person(accountId) },
      details: { upstream: upstream.id, issuer: upstream.issuer, firstLogin: action },
    });
  });
  return accountId;
}

/** A refusal the person reads on the error page: `reason` picks its words in their language (./sign-on-text.ts); the message is the English one. */
export class UpstreamRefusal extends Error {
  constructor(
    readonly reason: UpstreamRefusalReason,
    message: string,
  ) {
    super(message);
  }
}

/** The co-op an OIDC client belongs to (meetplane's own pages belong to none). */
async function clientCoop(db: Db, clientId: string) {
  const [row] = await db.select({ coopId: oidcClients.coopId }).from(oidcClients).where(eq(oidcClients.clientId, clientId));
  return row ? findCoop(db, row.coopId) : undefined;
}

/** The upstream as the policies see it: a delegable, transfer-approving coop_admin of its co-op. */
function upstreamStandIn(upstream: Upstream): PrincipalFacts {
  const scope = { type: 'coop' as const, id: upstream.coopId };
  return { accountId: upstream.id, coopId: upstream.coopId, grants: [{ id: `upstream:${upstream.id}`, role: 'coop_admin', scope, delegable: true, approvesTransfers: true }], memberOf: [] };
}

/** Refuses (audited, naming the rule) to log into an account the upstream may not link. */
async function requireLink(authz: Authz, upstream: Upstream, account: { id: string; coopId: string | null }, reason: UpstreamRefusalReason, message: string): Promise<void> {
  const target = { type: 'Account' as const, id: account.id, coopId: account.coopId };
  const d = await authz.decideFor(upstreamStandIn(upstream), 'account.link', target);
  if (d.decision === 'allow') return;
  // The one asking is whoever the upstream vouches for: recorded as the account via oidc, with the upstream named.
  await authz.db.transaction((tx) =>
    appendAudit(tx, {
      actor: { accountId: account.id, coopId: upstream.coopId, platformAdmin: false, via: 'oidc', tokenId: null },
      action: 'account.link-identity',
      subject: { type: 'account', id: person(account.id) },
      outcome: 'denied',
      decision: { decision: 'deny', policyIds: d.policyIds, policySetHash: d.policySetHash },
      details: { upstream: upstream.id, issuer: upstream.issuer },
    }),
  );
  throw new UpstreamRefusal(reason, message);
}

export function upstreamRoutes(sso: Sso): { hooks: InteractionHooks & { finish(c: Context<Env>, uid: string, token: string): Promise<string | null> }; routes: Hono<Env> } {
  const { db, box, config, log } = sso.deps;
  const authz = new Authz(db);
  const redirectUri = config.publicUrl + OIDC_PREFIX + '/upstream/callback';
  const configs = new Map<string, { at: number; config: Promise<oidc.Configuration> }>();

  async function upstreamById(id: string): Promise<UpstreamRow | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    const [row] = await db.select().from(upstreamProviders).where(and(eq(upstreamProviders.id, id), eq(upstreamProviders.enabled, true)));
    return row;
  }

  /** meetplane's key for this upstream; made now for an upstream registered before keys existed. */
  async function clientKey(row: UpstreamRow): Promise<{ sealed: string; publicJwk: Record<string, unknown> }> {
    if (row.clientKeySealed && row.clientPublicJwk) return { sealed: row.clientKeySealed, publicJwk: row.clientPublicJwk };
    const key = await newClientKey(box, row.id);
    await db
      .update(upstreamProviders)
      .set({ clientKeySealed: key.sealed, clientPublicJwk: key.publicJwk as Record<string, unknown> })
      .where(and(eq(upstreamProviders.id, row.id), isNull(upstreamProviders.clientKeySealed)));
    // Another request may have won the race: the stored key is the one.
    const [now] = await db.select().from(upstreamProviders).where(eq(upstreamProviders.id, row.id));
    return { sealed: now!.clientKeySealed!, publicJwk: now!.clientPublicJwk! };
  }

  /** The upstream's configuration with the client authentication chosen from its discovery (or set for it). */
  async function configure(row: UpstreamRow): Promise<{ cfg: oidc.Configuration; method: AuthMethod }> {
    if (row.federationEntity) return configurePeer(row, row.federationEntity);
    const issuer = new URL(row.issuer);
    const insecure = issuer.protocol === 'http:';
    const fetch = outboundFor(config).fetch; // discovery, JWKS, token and userinfo calls: the outbound policy
    const found = await oidc.discovery(issuer, row.clientId, undefined, oidc.None(), {
      ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
      [oidc.customFetch]: fetch,
      timeout: 10,
    });
    const server = found.serverMetadata();
    const supported = server.token_endpoint_auth_methods_supported;
    const method = chooseAuthMethod(row.authMethod, supported);
    if (row.authMethod && Array.isArray(supported) && !supported.includes(row.authMethod))
      log.warn({ upstream: row.id, authMethod: row.authMethod, supported }, 'upstream does not list the configured client authentication method; trying it anyway');
    const secret = () => box.open(row.secretSealed, secretLabel(row.id));
    const auth =
      method === 'private_key_jwt'
        ? await privateKeyJwt(box, row.id, (await clientKey(row)).sealed)
        : method === 'client_secret_post'
          ? oidc.ClientSecretPost(secret())
          : clientSecretBasic(secret());
    const cfg = new oidc.Configuration(server, row.clientId, { token_endpoint_auth_method: method }, auth);
    if (insecure) oidc.allowInsecureRequests(cfg);
    cfg[oidc.customFetch] = fetch;
    cfg.timeout = 10;
    return { cfg, method };
  }

  /**
   * Another meetplane instance: its provider metadata as the federation resolved it (checked at every
   * log-in, so a peer no longer trusted is refused at once), our entity id as client_id, our key.
   */
  async function configurePeer(row: UpstreamRow, entityId: string): Promise<{ cfg: oidc.Configuration; method: AuthMethod }> {
    if (!sso.peers.metadata) throw new PeerNotTrusted(`${entityId}: this instance has no federation`);
    let metadata: Record<string, unknown>;
    try {
      metadata = await sso.peers.metadata(entityId);
    } catch (err) {
      throw new PeerNotTrusted(`${entityId}: ${(err as Error).message}`);
    }
    const server = metadata.openid_provider as oidc.ServerMetadata | undefined;
    if (!server?.issuer || server.issuer !== row.issuer) throw new PeerNotTrusted(`${entityId} names no provider, or another issuer than the one registered`);
    const insecure = new URL(server.issuer).protocol === 'http:';
    const auth = await privateKeyJwt(box, row.id, (await clientKey(row)).sealed);
    const cfg = new oidc.Configuration(server, row.clientId, { token_endpoint_auth_method: 'private_key_jwt' }, auth);
    if (insecure) oidc.allowInsecureRequests(cfg);
    // Keys in the signed metadata are checked by peerIdTokenSigned; without them, those at its jwks_uri.
    if (server.jwks === undefined) oidc.enableNonRepudiationChecks(cfg);
    cfg[oidc.customFetch] = outboundFor(config).fetch;
    cfg.timeout = 10;
    return { cfg, method: 'private_key_jwt' };
  }

  /** A peer instance's ID token must be signed by a key its resolved metadata names. */
  async function peerIdTokenSigned(row: UpstreamRow, entityId: string, idToken: string | undefined): Promise<void> {
    if (!idToken) throw new PeerKeyRefused(`${entityId} returned no ID token`);
    try {
      await verifyPeerIdToken({ metadata: sso.peers.metadata! }, entityId, idToken);
    } catch (err) {
      if (err instanceof PeerKeyRefused) {
        log.warn({ upstream: row.id, reason: err.message.slice(0, 300) }, 'upstream instance ID token refused');
        throw new UpstreamRefusal('untrustedKey', err.message);
      }
      throw new PeerNotTrusted(`${entityId}: ${(err as Error).message}`);
    }
  }

  function clientConfig(row: UpstreamRow): Promise<oidc.Configuration> {
    // Trust in a peer instance is looked up at every log-in (the resolver caches chains until they expire).
    if (row.federationEntity) return configure(row).then(({ cfg }) => cfg);
    const cached = configs.get(row.id);
    if (cached && Date.now() - cached.at < 5 * 60_000) return cached.config;
    const promise = configure(row).then(({ cfg, method }) => {
      log.info({ upstream: row.id, authMethod: method }, 'upstream configured');
      return cfg;
    });
    promise.catch(() => configs.delete(row.id));
    configs.set(row.id, { at: Date.now(), config: promise });
    return promise;
  }

  async function putState(kind: string, id: string, payload: Record<string, unknown>) {
    await db.insert(oidcModels).values({ model: kind, id, payload, expiresAt: new Date(Date.now() + STATE_TTL_MS) });
  }
  async function takeState(kind: string, id: string): Promise<Record<string, unknown> | undefined> {
    const [row] = await db
      .delete(oidcModels)
      .where(and(eq(oidcModels.model, kind), eq(oidcModels.id, id)))
      .returning({ payload: oidcModels.payload, expiresAt: oidcModels.expiresAt });
    if (!row || (row.expiresAt && row.expiresAt < new Date())) return undefined;
    return row.payload;
  }

  const hooks = {
    async upstreams(named: { coop?: string; loginHint?: string; clientId: string }) {
      // Every co-op's provider to everyone would tell a stranger who the co-ops are and invite
      // picking another co-op's button: only the co-op the log-in names is offered.
      const hinted = named.loginHint?.startsWith('coop:') ? named.loginHint.slice(5) : undefined;
      const asked = named.coop ?? hinted;
      if (asked !== undefined && !SLUG_RE.test(asked) && !UUID_RE.test(asked)) return [];
      const coop = asked ? await findCoop(db, asked) : await clientCoop(db, named.clientId);
      if (!coop) return [];
      const rows = await db
        .select({ id: upstreamProviders.id, label: upstreamProviders.displayName })
        .from(upstreamProviders)
        .where(and(eq(upstreamProviders.enabled, true), eq(upstreamProviders.coopId, coop.id)))
        .orderBy(asc(upstreamProviders.displayName));
      return rows.map((r) => ({ id: r.id, label: `${r.label} (${coop.name})` }));
    },
    async startUpstream(c: Context<Env>, uid: string, upstreamId: string) {
      const row = await upstreamById(upstreamId);
      if (!row) return errorPage(c, 400, (T) => T.unknownUpstream);
      let cfg: oidc.Configuration;
      try {
        cfg = await clientConfig(row);
      } catch (err) {
        if (err instanceof PeerNotTrusted) {
          log.warn({ upstream: row.id, reason: err.message.slice(0, 300) }, 'upstream instance not trusted');
          return errorPage(c, 403, (T) => T.upstreamNotTrusted(row.displayName));
        }
        log.warn({ err: upstreamErrorForLog(err), upstream: row.id }, 'upstream discovery failed');
        return errorPage(c, 502, (T) => T.upstreamUnreachable(row.displayName));
      }
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const verifier = oidc.randomPKCECodeVerifier();
      await putState('UpstreamLogin', state, { uid, upstreamId: row.id, nonce, verifier });
      const url = oidc.buildAuthorizationUrl(cfg, {
        redirect_uri: redirectUri,
        scope: 'openid email profile',
        state,
        nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      return c.redirect(url.href, 303);
    },
    /** The account the upstream log-in resolved to, once, for this interaction. */
    async finish(_c: Context<Env>, uid: string, token: string) {
      const done = await takeState('UpstreamDone', token);
      return done && done.uid === uid ? String(done.accountId) : null;
    },
  };

  const routes = new Hono<Env>();
  // meetplane's public key for private_key_jwt at this upstream: its administrator registers this URL.
  routes.get('/:id/jwks', async (c) => {
    const row = await upstreamById(c.req.param('id'));
    if (!row) throw problems.notFound('upstream provider');
    const { publicJwk } = await clientKey(row);
    c.header('Cache-Control', 'public, max-age=300');
    return c.json({ keys: [publicJwk] });
  });
  routes.get('/callback', async (c) => {
    const state = c.req.query('state');
    const pending = state ? await takeState('UpstreamLogin', state) : undefined;
    if (!pending) return errorPage(c, 400, (T) => T.upstreamExpired);
    const uid = String(pending.uid);
    const row = await upstreamById(String(pending.upstreamId));
    if (!row) return errorPage(c, 400, (T) => T.upstreamGone);
    const upstream = publicPart(row);
    let accountId: string;
    try {
      const cfg = await clientConfig(row);
      const current = new URL(redirectUri);
      current.search = new URL(c.req.url).search;
      const tokens = await oidc.authorizationCodeGrant(cfg, current, {
        pkceCodeVerifier: String(pending.verifier),
        expectedState: state,
        expectedNonce: String(pending.nonce),
        idTokenExpected: true,
      });
      if (row.federationEntity) await peerIdTokenSigned(row, row.federationEntity, tokens.id_token);
      const idClaims = tokens.claims()!;
      const info = await oidc.fetchUserInfo(cfg, tokens.access_token, idClaims.sub).catch(() => ({}) as Record<string, unknown>);
      accountId = await resolveUpstreamAccount(db, authz, upstream, { ...info, ...idClaims, sub: idClaims.sub });
      if (!(await maySignIn(db, accountId))) throw new UpstreamRefusal('suspended', 'This account is suspended: it cannot sign in. Ask the people who run your co-op.');
    } catch (err) {
      if (err instanceof UpstreamRefusal) return errorPage(c, 403, (T) => T.upstreamRefused(T.upstreamRefusals[err.reason]));
      // Trust in the peer ended (unenrolled, chain expired) between the start of the log-in and its return.
      if (err instanceof PeerNotTrusted) {
        log.warn({ upstream: row.id, reason: err.message.slice(0, 300) }, 'upstream instance not trusted');
        return errorPage(c, 403, (T) => T.upstreamNotTrusted(row.displayName));
      }
      // The upstream's own words (error, error_description), so its administrator can act on them.
      log.warn({ err: upstreamErrorForLog(err), upstream: row.id, issuer: row.issuer }, 'upstream log-in failed');
      return errorPage(c, 400, (T) => T.upstreamFailed(row.displayName));
    }
    const token = randomBytes(24).toString('base64url');
    await putState('UpstreamDone', token, { uid, accountId });
    // Back under the interaction's path, where its cookie is sent.
    return c.redirect(`${OIDC_PREFIX}/interaction/${uid}/upstream-done?t=${token}`, 303);
  });
  return { hooks, routes };
}
