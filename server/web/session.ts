// Sessions for meetplane's own pages. The pages are a relying party of
// meetplane's provider (client `meetplane-web`, code + PKCE): /me/login sends
// the member to /oidc/auth with state, nonce and PKCE verifier kept in a
// short-lived encrypted cookie; /me/callback trades the code over loopback
// HTTP, verifies the ID token and sets the session cookie: an encrypted JWT
// (dir + A256GCM) under a key derived from the provider's cookie keys (sealed
// under the master key), HttpOnly, SameSite=Lax, Secure on https, living
// SESSION_TTL. `requireMember()` guards pages with it.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { HttpBindings } from '@hono/node-server';
import { EncryptJWT, jwtDecrypt, decodeProtectedHeader } from 'jose';
import * as oidc from 'openid-client';
import type { AppEnv, Deps } from '../http/env.js';
import type { Sso } from '../oidc/index.js';
import { OIDC_PREFIX, WEB_CLIENT_ID, WEB_SCOPE, issuerOf } from '../oidc/provider.js';
import { findAccount } from '../accounts/service.js';
import { Authz, forbidden } from '../authz/authz.js';
import { sessionBegunInTime } from '../accounts/sessions.js';
import { accountClaims } from '../oidc/claims.js';
import { LoggedOutPage, MePage, SignInProblemPage, render } from './me.js';
import { openInvitationsFor } from '../memberships/invitations.js';
import { memberInvitationPages } from '../memberships/pages.js';
import { myDataPages } from './my-data.js';
import { meOverview } from './me-overview.js';
import { languagePages } from './language.js';
import { memberLang } from './page-language.js';

export const SESSION_COOKIE = 'mp_web';
const LOGIN_COOKIE = 'mp_web_login';
const LOGIN_TTL_S = 600;

export type MemberEnv = AppEnv & { Bindings: HttpBindings; Variables: { memberId: string; memberSid: string } };
type C = Context<MemberEnv>;

/** Kept for the pages that send a non-HTML private answer (a member's export); HTML pages get them from ../http/page-headers.ts. */
export { PAGE_HEADERS } from '../http/page-headers.js';

/**
 * Where to go after signing in: `next` only when it is a place on this
 * instance. It is resolved the way a browser would resolve it (the WHATWG URL
 * parser drops tabs and newlines and reads `\` as `/`, so `/\t/evil.test` and
 * `/\\evil.test` are other hosts) against PUBLIC_URL; another origin, or
 * anything unparsable, goes to /me. Only the path and query are kept.
 */
export function safeNext(next: string | undefined, publicUrl: string): string {
  if (!next || next.length > 2000) return '/me';
  const home = new URL(publicUrl);
  let url: URL;
  try {
    url = new URL(next, home);
  } catch {
    return '/me';
  }
  if (url.origin !== home.origin) return '/me';
  const target = url.pathname + url.search;
  // What we answer is resolved again by the browser: it must land on the same place.
  return new URL(target, home).origin === home.origin && target.startsWith('/') && !target.startsWith('//') ? target : '/me';
}

/** Seals and opens the page cookies under the sign-on's web session keys. */
export class WebSessions {
  readonly secure: boolean;

  constructor(
    readonly sso: Sso,
    readonly publicUrl: string,
    readonly ttlSeconds: number,
  ) {
    this.secure = new URL(publicUrl).protocol === 'https:';
  }

  async seal(payload: Record<string, unknown>, ttlSeconds: number, purpose: string): Promise<string> {
    const { kid, key } = this.sso.webSessionKeys()[0]!;
    return new EncryptJWT({ ...payload, use: purpose })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid })
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .encrypt(key);
  }

  /** The payload, or null when the cookie is missing, altered, expired, for another purpose or under an unknown key. */
  async open(value: string | undefined, purpose: string): Promise<Record<string, unknown> | null> {
    if (!value || value.length > 4096) return null;
    try {
      const { kid } = decodeProtectedHeader(value);
      const entry = this.sso.webSessionKeys().find((k) => k.kid === kid);
      if (!entry) return null;
      const { payload } = await jwtDecrypt(value, entry.key, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
      return payload.use === purpose ? (payload as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }

  /** The signed-in member's account id and session id, if the session cookie is valid. */
  async member(c: Context): Promise<{ accountId: string; sid: string } | null> {
    const p = await this.open(getCookie(c, SESSION_COOKIE), 'session');
    if (!p || typeof p.sub !== 'string' || typeof p.sid !== 'string') return null;
    // Over once the password, a grant or the account changed after it began (server/accounts/sessions.ts).
    const account = await findAccount(this.sso.deps.db, p.sub);
    const begunAt = typeof p.at === 'number' ? p.at : Number(p.iat) * 1000;
    return account && sessionBegunInTime(account, begunAt) ? { accountId: p.sub, sid: p.sid } : null;
  }

  /** A CSRF token bound to one session (for its forms, e.g. log out). */
  csrf(sid: string): string {
    return createHmac('sha256', this.sso.webSessionKeys()[0]!.key).update('csrf:' + sid).digest('base64url');
  }

  checkCsrf(sid: string, offered: unknown): boolean {
    if (typeof offered !== 'string') return false;
    return this.sso.webSessionKeys().some(({ key }) => {
      const expected = Buffer.from(createHmac('sha256', key).update('csrf:' + sid).digest('base64url'));
      const got = Buffer.from(offered);
      return got.length === expected.length && timingSafeEqual(got, expected);
    });
  }
}

/** Pages behind it see `memberId`; others are sent to sign in and brought back. */
export function requireMember(sessions: WebSessions, deps: Pick<Deps, 'db'>): MiddlewareHandler<MemberEnv> {
  return async (c, next) => {
    const m = await sessions.member(c);
    // An account deleted since the session began is signed out.
    if (!m || !(await findAccount(deps.db, m.accountId))) {
      const url = new URL(c.req.url);
      return c.redirect(`/me/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
    }
    c.set('memberId', m.accountId);
    c.set('memberSid', m.sid);
    await next();
  };
}

/**
 * Same-origin check for form posts: browsers send Origin on POST. A missing
 * Origin (a non-browser client) passes here and is left to the CSRF token; a
 * foreign or opaque (`null`) one does not.
 */
export function sameOrigin(c: Context, publicUrl: string): boolean {
  const origin = c.req.header('origin');
  if (origin === undefined) return true;
  return origin === new URL(publicUrl).origin || origin === new URL(c.req.url).origin;
}

/** The provider as this process reaches it over loopback: the address and port this request came in on. */
function loopbackConfig(c: C, issuer: string): oidc.Configuration {
  const { localAddress, localPort } = c.env.incoming.socket;
  const host = !localAddress ? '127.0.0.1' : localAddress.includes(':') && !localAddress.startsWith('::ffff:') ? `[${localAddress}]` : localAddress.replace(/^::ffff:/, '');
  const base = `http://${host}:${localPort}${OIDC_PREFIX}`;
  const cfg = new oidc.Configuration(
    { issuer, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${base}/token`, jwks_uri: `${base}/jwks` },
    WEB_CLIENT_ID,
    { id_token_signed_response_alg: 'ES256' },
    oidc.None(),
  );
  oidc.allowInsecureRequests(cfg); // loopback only: the URLs above never leave this host
  return cfg;
}

export function webSessionRoutes(deps: Deps, sso: Sso): { routes: Hono<MemberEnv>; sessions: WebSessions } {
  const { db, config } = deps;
  const sessions = new WebSessions(sso, config.publicUrl, config.sso.sessionTtl);
  const issuer = issuerOf(config);
  const redirectUri = `${config.publicUrl}/me/callback`;
  const cookieBase = { httpOnly: true, sameSite: 'Lax' as const, secure: sessions.secure };
  const html = async (c: C, element: unknown, status = 200) => c.html(await render(element), status as 200);
  const routes = new Hono<MemberEnv>();
  const authz = new Authz(db);

  // A person's pages are theirs alone: a machine client's bearer token is refused
  // by the policies (machine-client-not-a-person) with 403 naming the rule, rather
  // than sent to a sign-in it could never complete. Other requests go on as before.
  routes.use('*', async (c, next) => {
    const token = c.req.header('authorization')?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    const p = token ? await sso.verifier.principal(token) : null;
    if (p?.machine) {
      const d = await authz.decide(p, 'me.pages', { type: 'Account', id: p.accountId, coopId: p.coopId });
      if (d.decision !== 'allow') throw forbidden('me.pages', d);
    }
    await next();
  });

  routes.get('/login', async (c) => {
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const verifier = oidc.randomPKCECodeVerifier();
    const sealed = await sessions.seal({ state, nonce, verifier, next: safeNext(c.req.query('next'), config.publicUrl) }, LOGIN_TTL_S, 'login');
    setCookie(c, LOGIN_COOKIE, sealed, { ...cookieBase, path: '/me', maxAge: LOGIN_TTL_S });
    const url = new URL(`${issuer}/auth`);
    for (const [k, v] of Object.entries({
      client_id: WEB_CLIENT_ID,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: WEB_SCOPE,
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }))
      url.searchParams.set(k, v);
    return c.redirect(url.pathname + url.search, 303);
  });

  routes.get('/callback', async (c) => {
    const pending = await sessions.open(getCookie(c, LOGIN_COOKIE), 'login');
    deleteCookie(c, LOGIN_COOKIE, { path: '/me', secure: sessions.secure });
    if (!pending) return html(c, SignInProblemPage({ lang: await memberLang(c, db), message: (T) => T.signInTooLong }), 400);
    const current = new URL(redirectUri);
    current.search = new URL(c.req.url).search;
    let sub: string;
    try {
      const tokens = await oidc.authorizationCodeGrant(loopbackConfig(c, issuer), current, {
        pkceCodeVerifier: String(pending.verifier),
        expectedState: String(pending.state),
        expectedNonce: String(pending.nonce),
        idTokenExpected: true,
      });
      sub = tokens.claims()!.sub;
    } catch (err) {
      const e = err as { error?: string; name?: string };
      // Never the code or tokens: the error's name and OAuth error code only.
      c.var.log.info({ error: e.error ?? e.name }, 'web sign-in failed');
      return html(c, SignInProblemPage({ lang: await memberLang(c, db), message: (T) => (e.error === 'access_denied' ? T.signInCancelled : T.signInFailed) }), 400);
    }
    const sid = randomBytes(16).toString('base64url');
    setCookie(c, SESSION_COOKIE, await sessions.seal({ sub, sid, at: Date.now() }, sessions.ttlSeconds, 'session'), { ...cookieBase, path: '/', maxAge: sessions.ttlSeconds });
    return c.redirect(safeNext(String(pending.next), config.publicUrl), 303);
  });

  routes.post('/logout', async (c) => {
    const m = await sessions.member(c);
    const form = await c.req.parseBody();
    if (!m || !sameOrigin(c, config.publicUrl) || !sessions.checkCsrf(m.sid, form.csrf))
      return html(c, SignInProblemPage({ lang: await memberLang(c, db, m ? ((await findAccount(db, m.accountId))?.language ?? null) : null), message: (T) => T.logOutNotYours }), 403);
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: sessions.secure });
    // Also end the sign-on session, so the next sign-in asks for the password again.
    const end = new URLSearchParams({ client_id: WEB_CLIENT_ID, post_logout_redirect_uri: `${config.publicUrl}/me/logged-out` });
    return c.redirect(`${OIDC_PREFIX}/session/end?${end}`, 303);
  });

  routes.get('/logged-out', async (c) => html(c, LoggedOutPage({ lang: await memberLang(c, db) })));

  routes.get('/', requireMember(sessions, deps), async (c) => {
    const claims = await accountClaims(db, c.get('memberId'));
    const account = await findAccount(db, c.get('memberId'));
    if (!claims || !account) return c.redirect('/me/login', 303);
    const overview = await meOverview(db, deps.guard, { accountId: account.id, coopId: account.coopId, platformAdmin: account.platformAdmin, via: 'oidc', tokenId: null });
    return html(c, MePage({ claims, overview, language: account.language, lang: await memberLang(c, db, account.language), csrf: sessions.csrf(c.get('memberSid')), invitations: await openInvitationsFor(db, claims.sub) }));
  });

  languagePages(routes, { requireMember: requireMember(sessions, deps), checkCsrf: (sid, offered) => sessions.checkCsrf(sid, offered), sameOrigin: (c) => sameOrigin(c, config.publicUrl) }, deps);
  memberInvitationPages(routes, { requireMember: requireMember(sessions, deps), checkCsrf: (sid, offered) => sessions.checkCsrf(sid, offered), html }, deps);
  myDataPages(
    routes,
    {
      requireMember: requireMember(sessions, deps),
      csrf: (sid) => sessions.csrf(sid),
      checkCsrf: (sid, offered) => sessions.checkCsrf(sid, offered),
      sameOrigin: (c) => sameOrigin(c, config.publicUrl),
      signOut: (c) => deleteCookie(c, SESSION_COOKIE, { path: '/', secure: sessions.secure }),
      html,
    },
    deps,
  );
  return { routes, sessions };
}
