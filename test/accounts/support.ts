// Shared by the account lifecycle tests: a second meetplane process on the same
// PostgreSQL database (what every other process sees), and every credential a
// member can hold (a personal access token, a JWT access token with its refresh
// token from the code flow, a /me session), obtained as clients do.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'vitest';
import * as oidc from 'openid-client';
import { loadConfig } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import { startServer } from '../../server/main.js';
import { openPostgres } from '../../server/db/index.js';
import { backend } from '../support/db.js';
import { TEST_OUTBOUND_ALLOW, type TestServer } from '../support/server.js';
import { discover, freePort, registerClient } from '../oidc/helpers.js';
import { Jar, follow, formAction, hiddenFields, submit } from '../http/browserless.js';

export type SsoServer = TestServer & { issuer: string; apiResource: string };

/**
 * Another meetplane process serving the same database, as a second replica
 * would: same PUBLIC_URL (so the same issuer and API audience) and master key,
 * its own port. PGlite allows one process per database: there the "other
 * process" is the server itself.
 */
export async function otherProcess(s: SsoServer): Promise<{ url: string; stop: () => Promise<void> }> {
  if (backend() === 'pglite') return { url: s.url, stop: async () => {} };
  const database = await openPostgres(s.database.url!, 5);
  const config = loadConfig({
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'meetplane-other-')),
    MASTER_KEY: s.masterKey,
    PUBLIC_URL: s.issuer.replace(/\/oidc$/, ''),
    PASSWORD_SCRYPT_LN: '14',
    OUTBOUND_ALLOW: TEST_OUTBOUND_ALLOW,
    LOG_LEVEL: 'warn',
    // Far longer than the 1 s these tests allow: only the change notices can retire its cached entries in time.
    CACHE_MAX_AGE_MS: '30000',
  });
  const running = await startServer(config, createLogger('warn', new Writable({ write: (_c, _e, done) => done() })), database);
  return { url: running.url, stop: running.stop };
}

/** Logs in on the interaction page the flow is at, and allows consent when asked. */
export async function signIn(s: TestServer, jar: Jar, at: Awaited<ReturnType<typeof follow>>, email: string, password: string) {
  let step = at;
  if (step.html.includes('name="password"')) step = await submit(jar, s.url, formAction(step.html), { ...hiddenFields(step.html), email, password });
  if (step.html.includes('value="allow"')) step = await submit(jar, s.url, formAction(step.html), { ...hiddenFields(step.html), decision: 'allow' });
  return step;
}

const RP = 'http://127.0.0.1:9/cb'; // never contacted: the code is read from the Location

/** Every credential of a member with a password: a PAT, a JWT access token and refresh token, a /me session. */
export async function credentialsOf(s: SsoServer, who: { email: string; password: string; coop: string }) {
  // A personal access token, made with an access token as a client would.
  const web = await registerClient(s, { name: 'Greenlight', coop: who.coop, kind: 'web', redirectUris: [RP] });
  const config = await discover(s, web.clientId, web.clientSecret!);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP,
    scope: 'openid email offline_access api',
    resource: s.apiResource,
    prompt: 'consent',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const jar = new Jar();
  const back = await signIn(s, jar, await follow(jar, s.url, url.href), who.email, who.password);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(back.res.headers.get('location')!), { pkceCodeVerifier: verifier, expectedState: state });
  const pat = await s.api('POST', '/api/v1/tokens', { token: tokens.access_token, body: { name: 'laptop' } });
  expect(pat.status).toBe(201);
  // meetplane's own pages: the jar then holds the /me session.
  const me = await follow(jar, s.url, '/me/login?next=%2Fme');
  expect(me.res.status).toBe(200);
  expect(jar.cookies.has('mp_web')).toBe(true);
  return { config, accessToken: tokens.access_token, refreshToken: tokens.refresh_token!, pat: pat.json.token as string, jar };
}

/** A fresh password log-in through the code flow: the page it ends on (the client's redirect, or the refusal). */
export async function passwordLogin(s: SsoServer, config: oidc.Configuration, who: { email: string; password: string }) {
  const url = oidc.buildAuthorizationUrl(config, { redirect_uri: RP, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256', state: 'x' });
  const jar = new Jar();
  const page = await follow(jar, s.url, url.href);
  return submit(jar, s.url, formAction(page.html), { ...hiddenFields(page.html), email: who.email, password: who.password });
}

/** What a bearer token gets from the API on `base` (a process URL). */
export async function apiStatus(base: string, token: string, p = '/api/v1/tokens'): Promise<number> {
  return (await fetch(base + p, { headers: { authorization: `Bearer ${token}` } })).status;
}

/** What the /me page answers the jar on `base`: 200 while the session holds, 303 to sign in once it is over. */
export async function meStatus(base: string, jar: Jar): Promise<number> {
  return (await fetch(base + '/me', { redirect: 'manual', headers: { cookie: jar.header() } })).status;
}
