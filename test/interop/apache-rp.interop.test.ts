// meetplane as the provider of a real, certified relying party: Debian's
// Apache with mod_auth_openidc in front of an application, driven in Debian's
// chromium. A member logs in through Apache, the application sees the claims
// as Apache hands them over (OIDC_CLAIM_* headers, roles and groups as
// strings), Apache refreshes the tokens through meetplane's rotation, an
// RP-initiated logout ends both sessions, and a back-channel logout (the
// member's grant revoked) ends Apache's session.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { apachePorts, startApacheRp, type ApacheRp } from '../support/apache.js';
import { memberWithPassword, registerClient, startSsoServer } from '../oidc/helpers.js';

let s: Awaited<ReturnType<typeof startSsoServer>>;
let apache: ApacheRp;
let browser: Browser;
let member: Awaited<ReturnType<typeof memberWithPassword>>;
let coopSlug: string;
let grantId: string;

beforeAll(async () => {
  s = await startSsoServer();
  member = await memberWithPassword(s);
  coopSlug = (await s.api('GET', `/api/v1/coops/${member.coop}`)).json.slug;
  const root = (await s.api('GET', '/api/v1/grants?active=true')).json.items[0].id as string;
  const given = await s.api('POST', '/api/v1/grants', {
    body: { from: root, account: member.accountId, role: 'coop_admin', scope: { type: 'coop', id: member.coop }, reason: 'runs it', expiresAt: new Date(Date.now() + 86_400_000).toISOString() },
  });
  if (given.status !== 201) throw new Error(`grant: ${given.status} ${given.text}`);
  grantId = given.json.id;
  const ports = await apachePorts();
  const client = await registerClient(s, {
    name: 'Apache front end',
    coop: member.coop,
    kind: 'web',
    redirectUris: [ports.redirectUri],
    postLogoutRedirectUris: [ports.loggedOutUrl],
    // mod_auth_openidc's back-channel logout endpoint.
    backchannelLogoutUri: ports.backchannelUri,
    // Left at its default (false): the logout token then names the person, as the ID tokens carry no sid.
    backchannelLogoutSessionRequired: false,
  });
  apache = await startApacheRp(ports, {
    metadataUrl: `${s.issuer}/.well-known/openid-configuration`,
    clientId: client.clientId,
    clientSecret: client.clientSecret!,
    scope: 'openid email profile meetplane offline_access',
  });
  browser = await launchBrowser();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await apache?.stop();
  await s?.stop();
});

/** What the application behind Apache received, as JSON the echo application wrote. */
async function logIn(page: Page) {
  await page.goto(`${apache.url}/app/hello`);
  // Apache sent the browser to meetplane's log-in page.
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  expect(page.url().startsWith(s.issuer)).toBe(true);
  await page.getByLabel('E-mail address').fill(member.email);
  await page.getByLabel('Password').fill(member.password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(`${apache.url}/app/hello`);
}

async function seen(page: Page): Promise<{ path: string; headers: Record<string, string> }> {
  return JSON.parse((await page.locator('body').textContent())!);
}

describe('Apache mod_auth_openidc as a relying party of meetplane', () => {
  it('logs in, passes the claims to the application, refreshes through rotation and logs out', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await logIn(page);
    const first = await seen(page).catch((e) => {
      throw new Error(`no echo: ${e}\n${apache.errorLog()}`);
    });
    expect(first.path).toBe('/hello');
    const h = first.headers;
    expect(h['oidc_claim_sub']).toBe(member.accountId);
    expect(h['oidc_claim_email']).toBe(member.email);
    expect(h['oidc_claim_email_verified']).toBe('1');
    expect(h['oidc_claim_name']).toBe('Mira Member');
    expect(h['oidc_claim_iss']).toBe(s.issuer);
    // Roles and groups as strings Apache keeps (an array of strings becomes a comma-separated header).
    expect(h['oidc_claim_roles']).toBe(`coop_admin:${coopSlug}`);
    expect(h['oidc_claim_groups']).toBe(`coop:${coopSlug}`);
    expect(h['oidc_claim_given_name']).toBe('Mira');
    const firstToken = h['oidc_access_token'];
    expect(firstToken).toBeTruthy();
    // Apache could read meetplane's signing keys: no JWK it failed to parse.
    expect(apache.errorLog()).not.toMatch(/JWK parsing failed|unhandled in-array/);

    // Refresh: mod_auth_openidc's refresh hook redeems its refresh token; meetplane rotates it.
    const back = `${apache.url}/app/again`;
    await page.goto(`${apache.redirectUri}?refresh=${encodeURIComponent(back)}&access_token=${encodeURIComponent(firstToken!)}`);
    await page.waitForURL(back);
    const second = await seen(page);
    expect(second.headers['oidc_claim_sub']).toBe(member.accountId);
    expect(second.headers['oidc_access_token']).toBeTruthy();
    expect(second.headers['oidc_access_token']).not.toBe(firstToken);
    // Again: Apache must present the rotated refresh token (the first one is spent; reusing it would revoke the grant).
    const third = `${apache.url}/app/third`;
    await page.goto(`${apache.redirectUri}?refresh=${encodeURIComponent(third)}&access_token=${encodeURIComponent(second.headers['oidc_access_token']!)}`);
    await page.waitForURL(third);
    const thirdSeen = await seen(page);
    expect(thirdSeen.headers['oidc_access_token']).not.toBe(second.headers['oidc_access_token']);
    expect(apache.errorLog()).not.toMatch(/invalid_grant/);
    const info = await fetch(`${s.issuer}/me`, { headers: { authorization: `Bearer ${thirdSeen.headers['oidc_access_token']}` } });
    expect(info.status).toBe(200);
    expect(((await info.json()) as { sub: string }).sub).toBe(member.accountId);

    // RP-initiated logout: Apache sends the browser to meetplane's end_session_endpoint, which asks.
    await page.goto(`${apache.redirectUri}?logout=${encodeURIComponent(apache.loggedOutUrl)}`);
    await page.getByRole('button', { name: 'Yes, log me out' }).click();
    await page.waitForURL(apache.loggedOutUrl);
    expect(await page.textContent('body')).toContain('You are signed out.');
    // Both sessions are gone: the application asks for the password again.
    await page.goto(`${apache.url}/app/hello`);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    expect(page.url().startsWith(s.issuer)).toBe(true);
    await context.close();
  });

  it('ends the Apache session when meetplane ends the member\'s sessions (back-channel logout)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await logIn(page);
    expect((await seen(page)).headers['oidc_claim_sub']).toBe(member.accountId);
    // Revoking a grant ends the member's sessions; meetplane POSTs a logout token to Apache.
    const grant = await s.api('GET', `/api/v1/grants/${grantId}`);
    const revoked = await s.api('POST', `/api/v1/grants/${grantId}/revoke`, { body: { reason: 'stepped down' }, headers: { 'if-match': grant.headers.get('etag') ?? '' } });
    expect(revoked.status, revoked.text).toBe(200);
    // Apache's session is gone once the token arrived: it sends the browser back to meetplane.
    let url = '';
    for (let i = 0; i < 40; i++) {
      await page.goto(`${apache.url}/app/hello`);
      url = page.url();
      if (!url.startsWith(apache.url)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(url.startsWith(s.issuer), `${apache.errorLog()}\n${s.logs().split('\n').filter((l) => /backchannel|logout/i.test(l)).join('\n')}`).toBe(true);
    await context.close();
  });
});
