// The login and consent steps oidc-provider hands over to us: plain HTML
// forms under /oidc/interaction/{uid}. Forms carry a CSRF token bound to the
// interaction, POSTs from another origin are refused, and the interaction
// cookie (SameSite=Lax) must match the uid in the path. Pages speak the
// signed-in account's language, else the browser's (./sign-on-text.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Hono, type Context } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import type { AppEnv } from '../http/env.js';
import type { Sso } from './index.js';
import { authenticate } from '../accounts/credentials.js';
import { throttlePolicy } from '../accounts/throttle.js';
import { peerAddress } from './device-limits.js';
import { ConsentPage, ErrorPage, LoginPage, render, type UpstreamChoice } from './pages.js';
import { findAccount } from '../accounts/service.js';
import { chooseLanguage, type Lang } from '../web/i18n.js';
import { SIGN_ON_TEXT, type Problem, type SignOnText } from './sign-on-text.js';

type Env = AppEnv & { Bindings: HttpBindings };
type C = Context<Env>;

/** Renders one of our pages; its security headers come from ../http/page-headers.ts. */
export async function page(c: C, element: unknown, status = 200, headers: Record<string, string> = {}) {
  return c.html(await render(element), status as 200, headers);
}

/** The language of a sign-on page: the account's choice when one is known, else the browser's. */
export function pageLang(c: Context, preference?: string | null): Lang {
  return chooseLanguage(c.req.header('accept-language'), preference);
}

/** An error page in the reader's language: `problem` picks its title and message from the words. */
export function errorPage(c: C, status: number, problem: (T: SignOnText) => Problem, preference?: string | null) {
  const lang = pageLang(c, preference);
  const { title, message } = problem(SIGN_ON_TEXT[lang]);
  return page(c, ErrorPage({ lang, title, message, requestId: c.get('requestId') }), status);
}

/** The client IP: the socket peer, or behind a trusted proxy the address it appended last. */
export function clientIp(c: C, trustProxy: boolean): string {
  return peerAddress(c.env.incoming, trustProxy);
}

/** Same-origin check for form posts: browsers send Origin on POST. */
export function sameOrigin(c: C, publicUrl: string): boolean {
  const origin = c.req.header('origin');
  if (!origin || origin === 'null') return origin === undefined; // absent: old browser or non-browser client
  return origin === new URL(publicUrl).origin || origin === new URL(c.req.url).origin;
}

const SCOPE_CLAIMS: Record<string, string[]> = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: ['name', 'given_name', 'family_name', 'preferred_username'],
  meetplane: ['coop', 'roles', 'groups', 'meetplane'],
};

export interface InteractionHooks {
  /**
   * Upstream providers offered on the login page: those of the co-op the log-in
   * names (a `coop` parameter, a `coop:<slug>` login_hint, or the client's co-op), none otherwise.
   */
  upstreams(named: { coop?: string; loginHint?: string; clientId: string }): Promise<UpstreamChoice[]>;
  /** Starts a log-in at an upstream provider; answers the redirect. */
  startUpstream(c: C, uid: string, upstreamId: string): Promise<Response>;
  /** The account an upstream log-in resolved to for this interaction, or null. */
  finish(c: C, uid: string, token: string): Promise<string | null>;
}

export function interactionRoutes(sso: Sso, hooks: InteractionHooks) {
  const app = new Hono<Env>();
  const { config, db } = sso.deps;
  const raw = (c: C): [IncomingMessage, ServerResponse] => [c.env.incoming, c.env.outgoing];

  /** The interaction for this request, checked against the uid in the path. */
  async function interaction(c: C) {
    const uid = c.req.param('uid');
    try {
      const d = await sso.provider.interactionDetails(...raw(c));
      return d.uid === uid ? d : undefined;
    } catch {
      return undefined;
    }
  }
  const expired = (c: C) => errorPage(c, 400, (T) => T.expired);

  async function clientName(clientId: string): Promise<string> {
    const client = await sso.provider.Client.find(clientId);
    return client?.clientName ?? clientId;
  }

  async function loginPage(c: C, uid: string, params: Record<string, unknown>, extra: { email?: string; error?: (T: SignOnText) => string }, status = 200, headers = {}) {
    const clientId = String(params.client_id);
    const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const lang = pageLang(c);
    return page(
      c,
      LoginPage({
        lang,
        action: `/oidc/interaction/${uid}/login`,
        upstreamAction: `/oidc/interaction/${uid}/upstream`,
        csrf: sso.csrfFor(uid),
        clientName: await clientName(clientId),
        upstreams: await hooks.upstreams({ coop: text(params.coop), loginHint: text(params.login_hint), clientId }),
        email: extra.email,
        error: extra.error?.(SIGN_ON_TEXT[lang]),
      }),
      status,
      headers,
    );
  }

  app.get('/:uid', async (c) => {
    const d = await interaction(c);
    if (!d) return expired(c);
    const clientId = String(d.params.client_id);
    if (d.prompt.name === 'login') return loginPage(c, d.uid, d.params, {});
    if (d.prompt.name === 'consent') {
      const account = d.session?.accountId ? await findAccount(db, d.session.accountId) : undefined;
      if (!account) return expired(c);
      const details = d.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
      const lang = pageLang(c, account.language);
      const T = SIGN_ON_TEXT[lang];
      const scopes = (details.missingOIDCScope ?? []).map((name) => ({ name, description: T.scopes[name] ?? name }));
      const claims = [
        ...new Set([...(details.missingOIDCScope ?? []).flatMap((s) => SCOPE_CLAIMS[s] ?? []), ...(details.missingOIDCClaims ?? [])]),
      ].map((cl) => T.claims[cl] ?? cl);
      const client = await sso.provider.Client.find(clientId);
      return page(
        c,
        ConsentPage({
          lang,
          action: `/oidc/interaction/${d.uid}/consent`,
          csrf: sso.csrfFor(d.uid),
          clientName: client?.clientName ?? clientId,
          clientUri: client?.redirectUris?.[0] ? new URL(client.redirectUris[0]).origin : undefined,
          account: account.email,
          scopes,
          claims,
          resources: Object.entries(details.missingResourceScopes ?? {}).map(([resource, s]) => ({ resource, scopes: s })),
        }),
      );
    }
    return errorPage(c, 400, (T) => T.unsupported);
  });

  app.post('/:uid/login', async (c) => {
    const d = await interaction(c);
    if (!d || d.prompt.name !== 'login') return expired(c);
    const form = await c.req.parseBody();
    if (!sameOrigin(c, config.publicUrl) || !sso.checkCsrf(d.uid, form.csrf))
      return errorPage(c, 403, (T) => T.refusedLogin);
    const email = typeof form.email === 'string' ? form.email.trim().slice(0, 320) : '';
    const password = typeof form.password === 'string' ? form.password : '';
    if (!email || !password)
      return loginPage(c, d.uid, d.params, { email, error: (T) => T.enterBoth }, 400);
    const result = await authenticate(
      db,
      {
        throttle: throttlePolicy(config.sso),
        scrypt: { ln: config.sso.scryptLn, r: 8, p: 1 },
      },
      email,
      password,
      clientIp(c, config.sso.trustProxy),
    );
    if (result.kind === 'locked') {
      const seconds = Math.max(1, Math.ceil((result.until.getTime() - Date.now()) / 1000));
      return loginPage(
        c,
        d.uid,
        d.params,
        { email, error: (T) => T.locked(Math.ceil(seconds / 60)) },
        429,
        { 'Retry-After': String(seconds) },
      );
    }
    if (result.kind === 'invalid') return loginPage(c, d.uid, d.params, { email, error: (T) => T.wrong }, 401);
    if (result.kind === 'suspended')
      return loginPage(c, d.uid, d.params, { email, error: (T) => T.suspended }, 403);
    c.var.log.info({ account: result.accountId }, 'login succeeded');
    const to = await sso.provider.interactionResult(...raw(c), { login: { accountId: result.accountId, amr: ['pwd'] } }, { mergeWithLastSubmission: false });
    return c.redirect(to, 303);
  });

  app.post('/:uid/consent', async (c) => {
    const d = await interaction(c);
    if (!d || d.prompt.name !== 'consent' || !d.session?.accountId) return expired(c);
    const form = await c.req.parseBody();
    if (!sameOrigin(c, config.publicUrl) || !sso.checkCsrf(d.uid, form.csrf))
      return errorPage(c, 403, (T) => T.refused);
    if (form.decision !== 'allow') {
      const to = await sso.provider.interactionResult(...raw(c), { error: 'access_denied', error_description: 'the user refused access' }, { mergeWithLastSubmission: false });
      return c.redirect(to, 303);
    }
    const { Grant } = sso.provider;
    const grant = d.grantId ? await Grant.find(d.grantId) : new Grant({ accountId: d.session.accountId, clientId: String(d.params.client_id) });
    if (!grant) return expired(c);
    const details = d.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    const to = await sso.provider.interactionResult(...raw(c), { consent: d.grantId ? {} : { grantId } }, { mergeWithLastSubmission: true });
    return c.redirect(to, 303);
  });

  app.post('/:uid/upstream', async (c) => {
    const d = await interaction(c);
    if (!d || d.prompt.name !== 'login') return expired(c);
    const form = await c.req.parseBody();
    if (!sameOrigin(c, config.publicUrl) || !sso.checkCsrf(d.uid, form.csrf) || typeof form.upstream !== 'string')
      return errorPage(c, 403, (T) => T.refusedLogin);
    return hooks.startUpstream(c, d.uid, form.upstream);
  });

  app.get('/:uid/upstream-done', async (c) => {
    const d = await interaction(c);
    if (!d || d.prompt.name !== 'login') return expired(c);
    const accountId = await hooks.finish(c, d.uid, c.req.query('t') ?? '');
    if (!accountId) return expired(c);
    const to = await sso.provider.interactionResult(...raw(c), { login: { accountId, amr: ['fed'] } }, { mergeWithLastSubmission: false });
    return c.redirect(to, 303);
  });

  return app;
}
