// The authorization code flow as a member lives it: a real browser (Debian's
// chromium) fills in the login and consent pages; openid-client is the RP.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import * as oidc from 'openid-client';
import { createCluster, createTenancy } from '../support/fixtures.js';
import { discover, freePort, memberWithPassword, registerClient, startSsoServer } from './helpers.js';

let s: Awaited<ReturnType<typeof startSsoServer>>;
let browser: Browser;
let rp: Server;
let rpUrl: string;
let member: Awaited<ReturnType<typeof memberWithPassword>>;
let tenancy: { id: string; slug: string };
let web: { clientId: string; clientSecret: string | null };

beforeAll(async () => {
  s = await startSsoServer();
  const port = await freePort();
  rpUrl = `http://127.0.0.1:${port}`;
  // The relying party's pages: the callback and the post-logout landing page.
  rp = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>rp</title><p>${req.url?.startsWith('/cb') ? 'callback' : 'logged out'}</p>`);
  });
  await new Promise<void>((r) => rp.listen(port, '127.0.0.1', () => r()));
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  member = await memberWithPassword(s);
  const cluster = await createCluster(s, member.coop);
  tenancy = await createTenancy(s, member.coop, cluster.id);
  await s.api('PUT', `/api/v1/tenancies/${tenancy.id}/members/${member.accountId}`, { body: { role: 'owner' } });
  web = await registerClient(s, {
    name: 'School Greenlight',
    coop: member.coop,
    tenancy: tenancy.id,
    kind: 'web',
    redirectUris: [`${rpUrl}/cb`],
    postLogoutRedirectUris: [`${rpUrl}/bye`],
  });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => rp?.close(r));
  await s?.stop();
});

async function authorize(config: oidc.Configuration, extra: Record<string, string> = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: `${rpUrl}/cb`,
    scope: 'openid email profile meetplane offline_access api',
    resource: s.apiResource,
    prompt: 'consent',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { url, verifier, state, nonce };
}

async function logIn(page: Page, email: string, password: string) {
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
}

describe('authorization code + PKCE in a browser', () => {
  it('logs in, shows the consent page, and issues tokens with our claims; the API accepts the access token', async () => {
    const config = await discover(s, web.clientId, web.clientSecret!);
    const { url, verifier, state, nonce } = await authorize(config);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(url.href);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    expect(await page.title()).toContain('Log in');
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    // The e-mail field has focus, as the page promises.
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement?: { id: string } } }).document.activeElement?.id)).toBe('email');
    await logIn(page, member.email, member.password);
    // Consent: the client, the scopes and the claims are shown.
    await page.waitForSelector('text=Allow School Greenlight to use your account?');
    const text = await page.textContent('main');
    expect(text).toContain(member.email);
    expect(text).toContain('see your e-mail address');
    expect(text).toContain('see your co-op, your tenancies and your roles');
    expect(text).toContain('the tenancies you belong to and your role in each');
    expect(text).toContain(s.apiResource);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${rpUrl}/cb?**`);
    const callback = new URL(page.url());
    await context.close();

    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(member.accountId);
    expect(claims.email).toBe(member.email);
    expect(claims.email_verified).toBe(true);
    expect(claims.name).toBe('Mira Member');
    expect(claims.given_name).toBe('Mira');
    expect(claims.family_name).toBe('Member');
    expect(claims.preferred_username).toBe(member.email.split('@')[0]);
    expect(claims.coop).toMatchObject({ id: member.coop });
    // Flat strings for front ends (mod_auth_openidc, Keycloak mappers); the structured form under `meetplane`.
    expect(claims.roles).toEqual([`tenancy_owner:${tenancy.slug}`]);
    expect(claims.groups).toEqual([`coop:${(claims.coop as { slug: string }).slug}`, `tenancy:${tenancy.slug}`]);
    expect(claims).not.toHaveProperty('tenancies');
    expect(claims.meetplane).toEqual({
      coop: claims.coop,
      tenancies: [{ id: tenancy.id, slug: tenancy.slug, role: 'owner' }],
      roles: [{ role: 'tenancy_owner', scope: { type: 'tenancy', id: tenancy.id, slug: tenancy.slug }, via: 'membership' }],
    });
    expect(tokens.refresh_token).toBeTruthy();

    const me = await s.api('GET', `/api/v1/accounts/${member.accountId}`, { token: tokens.access_token });
    expect(me.status).toBe(200);
    expect(me.json.email).toBe(member.email);

    // Refresh with rotation: a new refresh token each time; reusing an old one revokes the grant.
    const first = tokens.refresh_token!;
    const refreshed = await oidc.refreshTokenGrant(config, first, { resource: s.apiResource });
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(first);
    expect((await s.api('GET', `/api/v1/accounts/${member.accountId}`, { token: refreshed.access_token })).status).toBe(200);
    await expect(oidc.refreshTokenGrant(config, first)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });

    // The code is single use: a replay fails.
    await expect(oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce })).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('introspects and revokes a refresh token', async () => {
    const config = await discover(s, web.clientId, web.clientSecret!);
    const { url, verifier, state, nonce } = await authorize(config);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(url.href);
    await logIn(page, member.email, member.password);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${rpUrl}/cb?**`);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    await context.close();
    const active = await oidc.tokenIntrospection(config, tokens.refresh_token!);
    expect(active.active).toBe(true);
    expect(active.sub).toBe(member.accountId);
    expect(active.client_id).toBe(web.clientId);
    await oidc.tokenRevocation(config, tokens.refresh_token!);
    expect((await oidc.tokenIntrospection(config, tokens.refresh_token!)).active).toBe(false);
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses a wrong PKCE verifier', async () => {
    const config = await discover(s, web.clientId, web.clientSecret!);
    const { url, state, nonce } = await authorize(config, { prompt: 'login consent' });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(url.href);
    await logIn(page, member.email, member.password);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${rpUrl}/cb?**`);
    const callback = new URL(page.url());
    await context.close();
    await expect(
      oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: state, expectedNonce: nonce }),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('shows an error page, and does not redirect, for a redirect_uri that is not registered', async () => {
    const config = await discover(s, web.clientId, web.clientSecret!);
    const { url } = await authorize(config, { redirect_uri: 'https://attacker.example/cb' });
    const context = await browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(url.href);
    expect(response!.status()).toBe(400);
    expect(page.url()).toContain('/oidc/auth');
    expect(await page.textContent('main')).toContain('redirect_uri');
    await context.close();
  });

  it('tells a wrong password and an unknown e-mail apart in no way', async () => {
    const config = await discover(s, web.clientId, web.clientSecret!);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto((await authorize(config)).url.href);
    await logIn(page, member.email, 'wrong password 123');
    const wrong = await page.textContent('[role=alert]');
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement?: { id: string } } }).document.activeElement?.id)).toBe('password');
    await logIn(page, 'nobody-here@example.org', 'wrong password 123');
    const unknown = await page.textContent('[role=alert]');
    expect(wrong).toBe('The e-mail address or the password is wrong.');
    expect(unknown).toBe(wrong);
    await context.close();
  });

  it('requires PKCE from public clients', async () => {
    const pub = await registerClient(s, { name: 'Room app', coop: member.coop, kind: 'public', redirectUris: [`${rpUrl}/cb`] });
    const config = await discover(s, pub.clientId);
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: `${rpUrl}/cb`, scope: 'openid', state: 'x' });
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(303);
    const back = new URL(res.headers.get('location')!);
    expect(back.origin + back.pathname).toBe(`${rpUrl}/cb`);
    expect(back.searchParams.get('error')).toBe('invalid_request');
    expect(back.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  it('logs out through RP-initiated logout: the next authorization asks for the password again', async () => {
    const config = await discover(s, web.clientId, web.clientSecret!);
    const context = await browser.newContext();
    const page = await context.newPage();
    const first = await authorize(config);
    await page.goto(first.url.href);
    await logIn(page, member.email, member.password);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${rpUrl}/cb?**`);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: first.verifier, expectedState: first.state, expectedNonce: first.nonce });
    // Still logged in: a new authorization goes straight to consent.
    await page.goto((await authorize(config)).url.href);
    await page.waitForSelector('text=Allow School Greenlight');
    const logout = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: `${rpUrl}/bye` });
    await page.goto(logout.href);
    await page.getByRole('button', { name: 'Yes, log me out' }).click();
    await page.waitForURL(`${rpUrl}/bye**`);
    await page.goto((await authorize(config)).url.href);
    await page.waitForSelector('text=Log in');
    expect(await page.getByLabel('Password').count()).toBe(1);
    await context.close();
  });
});
