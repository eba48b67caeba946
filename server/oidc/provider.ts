// The oidc-provider configuration: which flows, which lifetimes, how accounts
// and clients are found, how tokens for the REST API look (RFC 9068 JWTs for
// the API resource), and which pages render the user-facing screens.
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Db } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { adapterFor } from './adapter.js';
import { deviceLimits } from './device-limits.js';
import { signOnClaims } from './claims.js';
import { maySignIn } from '../accounts/lifecycle.js';
import { clientMetadata } from './clients.js';
import { peerClient, type PeerTrust } from './federated-clients.js';
import { machineTokenClaims } from './machine-claims.js';
import { SIGNING_ALGS, type ProviderKeys } from './keys.js';
import { enqueueLogout } from './backchannel.js';
import { routeProviderNotices } from './provider-notices.js';
import { signOnPageHeaders } from '../http/page-headers.js';
import { DeviceCodePage, DeviceConfirmPage, DeviceDonePage, ErrorPage, LoggedOutPage, LogoutPage, render } from './pages.js';
import { SIGN_ON_TEXT } from './sign-on-text.js';
import { chooseLanguage, type Lang } from '../web/i18n.js';
import { eq } from 'drizzle-orm';
import { accounts } from '../accounts/table.js';

export const CLI_CLIENT_ID = 'meetplane-cli';
/** meetplane's own pages as a relying party of its provider (server/web/session.ts). */
export const WEB_CLIENT_ID = 'meetplane-web';
export const WEB_SCOPE = 'openid email profile meetplane';
/** The scope that lets a token act on the REST API for its subject. */
export const API_SCOPE = 'api';
export const OIDC_PREFIX = '/oidc';

export const issuerOf = (config: Config) => config.publicUrl + OIDC_PREFIX;
export const apiResourceOf = (config: Config) => config.publicUrl + '/api/v1';

export interface ProviderDeps {
  db: Db;
  box: SecretBox;
  config: Config;
  log: Logger;
  keys: ProviderKeys;
  /** Trust in other instances, for their relying parties (federated-clients.ts). */
  peers?: PeerTrust;
}

/** Seconds a signing key must keep verifying after retirement: the longest token it can have signed. */
export function verifyGraceSeconds(config: Config): number {
  return Math.max(config.sso.accessTokenTtl, config.sso.idTokenTtl) + 300;
}

/** Renders one of our pages; its headers come from ../http/page-headers.ts (installed below). */
export async function sendPage(ctx: KoaContextWithOIDC, element: unknown, status?: number): Promise<void> {
  ctx.type = 'html';
  if (status) ctx.status = status;
  ctx.body = await render(element);
}

/** The language of a provider page: the signed-in account's choice when it made one, else the browser's. */
async function pageLang(db: Db, ctx: KoaContextWithOIDC): Promise<Lang> {
  const accountId = ctx.oidc?.session?.accountId;
  const [row] = accountId ? await db.select({ language: accounts.language }).from(accounts).where(eq(accounts.id, accountId)).limit(1) : [];
  return chooseLanguage(ctx.get('accept-language'), row?.language);
}

function formField(form: string, name: string): string {
  return new RegExp(`name="${name}" value="([^"]*)"`).exec(form)?.[1] ?? '';
}

export function buildProvider({ db, box, config, log, keys, peers }: ProviderDeps): Provider {
  const issuer = issuerOf(config);
  const apiResource = apiResourceOf(config);
  const https = new URL(config.publicUrl).protocol === 'https:';
  const sso = config.sso;

  const configuration: Configuration = {
    // Registered clients first; then another instance's relying party, when the federation trusts it.
    adapter: adapterFor(db, async (id) => (await clientMetadata(db, box, id)) ?? ((peers ? await peerClient(peers, id) : undefined) as never)),
    clients: [
      {
        // The meetplane command: a public native client using the device flow.
        client_id: CLI_CLIENT_ID,
        client_name: 'meetplane command line',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
        response_types: [],
        redirect_uris: [],
        scope: 'openid email profile meetplane offline_access api',
        id_token_signed_response_alg: 'ES256',
      },
      {
        // meetplane's own pages: a public client (code + PKCE), part of the
        // configuration so every process has it without a row to create.
        client_id: WEB_CLIENT_ID,
        client_name: 'meetplane',
        application_type: 'web',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [`${config.publicUrl}/me/callback`],
        post_logout_redirect_uris: [`${config.publicUrl}/me/logged-out`],
        scope: WEB_SCOPE,
        id_token_signed_response_alg: 'ES256',
      },
    ],
    async loadExistingGrant(ctx) {
      const client = ctx.oidc.client!;
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session!.grantIdFor(client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      // meetplane's own pages need no consent: the member is using meetplane itself.
      if (client.clientId !== WEB_CLIENT_ID || !ctx.oidc.session?.accountId) return undefined;
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope(WEB_SCOPE);
      await grant.save();
      return grant;
    },
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
    },
    jwks: keys.jwks as Configuration['jwks'],
    // ID tokens only with the keys every RP can read; each client's own choice is in its metadata.
    enabledJWA: { idTokenSigningAlgValues: [...SIGNING_ALGS], userinfoSigningAlgValues: [...SIGNING_ALGS] },
    cookies: {
      keys: keys.cookieKeys,
      names: { session: 'mp_session', interaction: 'mp_interaction', resume: 'mp_resume' },
      long: { signed: true, httpOnly: true, sameSite: 'lax', secure: https },
      short: { signed: true, httpOnly: true, sameSite: 'lax', secure: https },
    },
    scopes: ['openid', 'offline_access', 'email', 'profile', 'meetplane', API_SCOPE],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      // Flat strings front ends map with stock settings; the structured form under `meetplane`.
      meetplane: ['coop', 'roles', 'groups', 'meetplane'],
    },
    responseTypes: ['code'],
    // `coop` (slug or id) names the member's co-op, so the login page offers its upstream provider.
    extraParams: ['coop'],
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
    rotateRefreshToken: true,
    acceptQueryParamAccessTokens: false,
    conformIdTokenClaims: true,
    ttl: {
      AccessToken: sso.accessTokenTtl,
      AuthorizationCode: 60,
      BackchannelAuthenticationRequest: 600,
      ClientCredentials: sso.accessTokenTtl,
      DeviceCode: 600,
      Grant: sso.refreshTokenTtl,
      IdToken: sso.idTokenTtl,
      Interaction: 900,
      PreAuthorizedCode: 300,
      RefreshToken: sso.refreshTokenTtl,
      Session: sso.sessionTtl,
    },
    interactions: { url: (_ctx, interaction) => `${OIDC_PREFIX}/interaction/${interaction.uid}` },
    async findAccount(_ctx, sub) {
      const claims = await signOnClaims(db, sub);
      // A suspended account is no account to sign in as: logins, refresh and device codes fail.
      if (!claims || !(await maySignIn(db, sub))) return undefined;
      return { accountId: sub, claims: async () => claims as unknown as { sub: string } };
    },
    async extraTokenClaims(_ctx, token) {
      // A machine client's token carries its grants as a person's ID token does (server/oidc/machine-claims.ts).
      if (token.kind !== 'ClientCredentials') return undefined;
      return (await machineTokenClaims(db, (token as { clientId: string }).clientId)) as unknown as Record<string, unknown> | undefined;
    },
    clientBasedCORS(_ctx, origin, client) {
      // Browsers may call the token endpoints only from a registered redirect URI's origin.
      return (client.redirectUris ?? []).some((u) => new URL(u).origin === origin);
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // A client may introspect and revoke only the tokens issued to it.
      introspection: {
        enabled: true,
        async allowedPolicy(_ctx, client, token) {
          return token.clientId === client.clientId;
        },
      },
      revocation: {
        enabled: true,
        async allowedPolicy(_ctx, client, token) {
          if (token.clientId === client.clientId) return true;
          // RFC 7009: a public client learns nothing about others' tokens; a confidential one is told no.
          if (client.clientAuthMethod === 'none') return false;
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        },
      },
      // Logout tokens for clients with a backchannel_logout_uri (sent by ./backchannel.ts, not by the provider).
      backchannelLogout: { enabled: true },
      userinfo: { enabled: true },
      registration: { enabled: false },
      deviceFlow: {
        enabled: true,
        charset: 'base-20',
        mask: '****-****',
        async userCodeInputSource(ctx, form, _out, err) {
          const lang = await pageLang(db, ctx);
          const T = SIGN_ON_TEXT[lang];
          const error = err
            ? (err as { userCode?: string }).userCode || err.name === 'NoCodeError'
              ? T.codeInvalid
              : err.name === 'AbortedError'
                ? T.codeCancelled
                : T.codeFailed
            : undefined;
          const action = /action="([^"]*)"/.exec(form)?.[1] ?? '';
          await sendPage(ctx, DeviceCodePage({ lang, action, xsrf: formField(form, 'xsrf'), error }), err ? 400 : undefined);
        },
        async userCodeConfirmSource(ctx, form, client, _info, userCode) {
          await sendPage(ctx, DeviceConfirmPage({ lang: await pageLang(db, ctx), form, clientName: client.clientName ?? client.clientId, userCode }));
        },
        async successSource(ctx) {
          const lang = await pageLang(db, ctx);
          await sendPage(ctx, DeviceDonePage({ lang, clientName: ctx.oidc.client?.clientName ?? SIGN_ON_TEXT[lang].yourDevice }));
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          await sendPage(ctx, LogoutPage({ lang: await pageLang(db, ctx), form, host: ctx.host }));
        },
        async postLogoutSuccessSource(ctx) {
          await sendPage(ctx, LoggedOutPage({ lang: await pageLang(db, ctx), clientName: ctx.oidc.client?.clientName }));
        },
      },
      resourceIndicators: {
        enabled: true,
        async defaultResource(ctx, client, oneOf) {
          if (oneOf) return oneOf;
          // Machine clients and the command line act on the API; web front ends
          // (e.g. Greenlight) get userinfo tokens unless they ask for the API.
          if (ctx.oidc.params?.grant_type === 'client_credentials' || client.clientId === CLI_CLIENT_ID) return apiResource;
          return undefined;
        },
        async useGrantedResource() {
          return true;
        },
        async getResourceServerInfo(_ctx, indicator) {
          if (indicator !== apiResource) throw new errors.InvalidTarget('unknown resource indicator');
          return {
            scope: API_SCOPE,
            audience: apiResource,
            accessTokenTTL: sso.accessTokenTtl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    async renderError(ctx, out, error) {
      const status = ctx.status >= 400 ? ctx.status : 400;
      if (!(error instanceof errors.OIDCProviderError)) log.error({ err: error }, 'sign-on error');
      // The browser's language only: an error page must not depend on a session that may be the problem.
      const lang = chooseLanguage(ctx.get('accept-language'));
      const T = SIGN_ON_TEXT[lang];
      const message =
        out.error === 'invalid_request' || out.error === 'invalid_client' || out.error === 'invalid_redirect_uri'
          ? T.badRequest(out.error_description ?? out.error)
          : out.error === 'session_not_found' || out.error === 'invalid_session'
            ? T.sessionGone
            : T.couldNotComplete(out.error_description ?? out.error);
      await sendPage(ctx, ErrorPage({ lang, title: T.signOnProblem, message, requestId: String(ctx.response.get('X-Request-Id')) || undefined }), status);
    },
  };

  routeProviderNotices(log);
  const provider = new Provider(issuer, configuration);
  // RP-initiated logout: the provider would POST the logout token itself, once, with its own
  // HTTP client. Queued instead: sent through the outbound policy, retried, audited (./backchannel.ts).
  provider.Client.prototype.backchannelLogout = async function (this: { clientId: string }, sub: string, sid: string) {
    await enqueueLogout(db, { clientId: this.clientId, sub, ...(sid ? { sid } : {}) });
  };
  provider.proxy = sso.trustProxy;
  provider.use(signOnPageHeaders(config.publicUrl));
  // Wrong user codes per address and polls faster than the interval: limited here (the provider has neither).
  provider.use(deviceLimits(db, { maxWrongCodes: sso.deviceCodeMaxFailures, windowSeconds: sso.loginLockoutSeconds, trustProxy: sso.trustProxy }));
  // Koa prints unhandled errors to stderr by itself: through the logger instead (it keeps secrets out).
  (provider as unknown as NodeJS.EventEmitter).on('error', (err: unknown) => log.error({ err }, 'sign-on error'));
  provider.on('server_error', (_ctx, err) => log.error({ err }, 'oidc-provider server error'));
  provider.on('grant.error', (_ctx, err) => log.debug({ error: (err as { error?: string }).error }, 'token request refused'));
  return provider;
}
