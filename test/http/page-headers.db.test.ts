// Every kind of HTML page this server renders carries the same security
// headers (one policy, never two): the auditor pages, the members' pages, the
// sign-on pages (ours and oidc-provider's own, including its auto-submitting
// form), error pages. HSTS goes on every answer when PUBLIC_URL is https. A
// real browser shows the pages still work under the policy: no violation
// reported, the device link's auto-submit still runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import * as oidc from 'openid-client';
import { launchBrowser } from '../support/browser.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { discover, memberWithPassword, registerClient, startSsoServer } from '../oidc/helpers.js';
import { Jar, follow, formAction, hiddenFields, submit } from './browserless.js';

const OWN_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
// Sign-on pages: their forms end in a redirect to the client application, which form-action would block.
const SIGN_ON_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'";

let s: Awaited<ReturnType<typeof startSsoServer>>;
let member: Awaited<ReturnType<typeof memberWithPassword>>;
let memberJar: Jar;
let auditJar: Jar;

beforeAll(async () => {
  s = await startSsoServer();
  member = await memberWithPassword(s);
  memberJar = new Jar();
  const login = await follow(memberJar, s.url, '/me/login');
  const done = await submit(memberJar, s.url, formAction(login.html), { ...hiddenFields(login.html), email: member.email, password: member.password });
  expect(done.url).toBe(`${s.url}/me`);
  auditJar = new Jar();
  await submit(auditJar, s.url, '/audit/login', { token: s.adminToken });
}, 60_000);
afterAll(async () => {
  await s?.stop();
});

/** The page at `path` as a browser with `jar` gets it (no redirects followed). */
async function page(path: string, jar = new Jar()) {
  const res = await fetch(new URL(path, s.url), { headers: jar.cookies.size ? { cookie: jar.header() } : {}, redirect: 'manual' });
  return { status: res.status, headers: res.headers, html: await res.text() };
}

function expectPageHeaders(what: string, p: { status: number; headers: Headers }, policy: string) {
  expect(p.headers.get('content-type'), what).toMatch(/^text\/html/);
  // Exactly one policy: a second header would be joined in with ", ".
  expect(p.headers.get('content-security-policy'), what).toBe(policy);
  expect(p.headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(p.headers.get('x-frame-options'), what).toBe('DENY');
  expect(p.headers.get('referrer-policy'), what).toBe('same-origin');
  expect(p.headers.get('cache-control'), what).toBe('no-store');
  expect(p.headers.get('strict-transport-security'), what).toBeNull(); // PUBLIC_URL is http here
}

describe('headers of every HTML page', () => {
  it('the auditor pages', async () => {
    const entries = await page('/audit', auditJar);
    expect(entries.html).toContain('Audit log');
    const index = /href="\/audit\/entries\/(\d+)"/.exec(entries.html)![1];
    const subject = /href="(\/audit\/subjects\/[^"]+)"/.exec(entries.html)![1]!;
    for (const [what, path, jar, status] of [
      ['audit sign-in', '/audit/login', new Jar(), 200],
      ['audit entries', '/audit', auditJar, 200],
      ['audit entry', `/audit/entries/${index}`, auditJar, 200],
      ['audit subject', subject, auditJar, 200],
      ['audit missing entry', '/audit/entries/999999', auditJar, 404],
      ['audit sign-out page', '/audit/logout', auditJar, 200],
    ] as const) {
      const p = await page(path, jar);
      expect(p.status, what).toBe(status);
      expectPageHeaders(what, p, OWN_POLICY);
    }
  });

  it("the members' pages", async () => {
    for (const [what, path, jar, status] of [
      ['member page', '/me', memberJar, 200],
      ['member exports', '/me/exports', memberJar, 200],
      ['unknown transfer page', '/me/transfers/00000000-0000-4000-8000-000000000000', memberJar, 404],
      ['logged out', '/me/logged-out', new Jar(), 200],
      ['sign-in problem', '/me/callback?code=x&state=y', new Jar(), 400],
    ] as const) {
      const p = await page(path, jar);
      expect(p.status, what).toBe(status);
      expectPageHeaders(what, p, OWN_POLICY);
    }
  });

  it('the sign-on pages, ours and the provider\'s', async () => {
    const coop = member.coop;
    const web = await registerClient(s, { name: 'Greenlight', coop, kind: 'web', redirectUris: ['http://127.0.0.1:9/cb'] });
    const config = await discover(s, web.clientId, web.clientSecret!);
    const authorize = oidc.buildAuthorizationUrl(config, { redirect_uri: 'http://127.0.0.1:9/cb', scope: 'openid', state: 'x', prompt: 'login' });
    const jar = new Jar();
    const login = await follow(jar, s.url, authorize.href);
    expect(login.html).toContain('name="password"');
    expectPageHeaders('login page', { status: login.res.status, headers: login.res.headers }, SIGN_ON_POLICY);
    const refused = await submit(jar, s.url, formAction(login.html), { ...hiddenFields(login.html), email: member.email, password: 'not the password at all' });
    expect(refused.res.status).toBe(401);
    expectPageHeaders('login page, wrong password', { status: 401, headers: refused.res.headers }, SIGN_ON_POLICY);

    const invitation = await s.api('POST', `/api/v1/accounts/${(await memberWithPassword(s, { coop })).accountId}/invitations`, { body: {} });
    for (const [what, path, status] of [
      ['invitation page', new URL(invitation.json.url).pathname, 200],
      ['invalid invitation', '/oidc/invitation/mp_inv_nope', 404],
      ['expired interaction', '/oidc/interaction/nope', 400],
      ['upstream callback without state', '/oidc/upstream/callback', 400],
      ['device code entry (provider)', '/oidc/device', 200],
      ['provider error page', '/oidc/auth?client_id=nobody&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fx.example%2Fcb', 400],
    ] as const) {
      const p = await page(path);
      expect(p.status, what).toBe(status);
      expectPageHeaders(what, p, SIGN_ON_POLICY);
    }

    // The provider's auto-submitting forms (the device link, a log-out without a session): the policy allows their one script by hash, nothing else.
    const device = await oidc.initiateDeviceAuthorization(await discover(s, 'meetplane-cli'), { scope: 'openid' });
    const withScript = new RegExp(`^${SIGN_ON_POLICY.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; script-src 'sha256-[A-Za-z0-9+/=]+'$`);
    for (const [what, path] of [
      ['device link', device.verification_uri_complete!],
      ['log-out without a session', '/oidc/session/end'],
    ] as const) {
      const auto = await page(path);
      expect(auto.html, what).toContain('document.forms[0].submit()');
      expect(auto.headers.get('content-security-policy'), what).toMatch(withScript);
      for (const [k, v] of Object.entries({ 'cache-control': 'no-store', 'x-frame-options': 'DENY', 'x-content-type-options': 'nosniff', 'referrer-policy': 'same-origin' }))
        expect(auto.headers.get(k), `${what}: ${k}`).toBe(v);
    }

    // Not a page: no page policy on the provider's JSON.
    const discovery = await page('/oidc/.well-known/openid-configuration');
    expect(discovery.headers.get('content-security-policy')).toBeNull();
  });
});

describe('in a real browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('renders the pages without a policy violation and runs the device link\'s auto-submit', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content[- ]Security[- ]Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });
    const device = await oidc.initiateDeviceAuthorization(await discover(s, 'meetplane-cli'), { scope: 'openid' });
    await page.goto(device.verification_uri_complete!);
    // The auto-submitted form took the browser to the confirmation, showing the code.
    await page.getByRole('button', { name: 'Continue' }).waitFor();
    expect(await page.textContent('main')).toContain(device.user_code);
    // Styles apply under the policy (the inline style sheet is allowed).
    expect(await page.evaluate('getComputedStyle(document.body).fontFamily')).toContain('system-ui');
    await page.goto(`${s.url}/audit/login`);
    await page.getByLabel('Access token').fill(s.adminToken);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(`${s.url}/audit`);
    expect(await page.evaluate("getComputedStyle(document.querySelector('header')).display")).toBe('flex');
    expect(violations).toEqual([]);
    await context.close();
  });
});

describe('Strict-Transport-Security', () => {
  let https: TestServer;
  beforeAll(async () => {
    // Behind a TLS-terminating proxy, as https deployments run (the provider refuses to set secure cookies over plain http).
    https = await startTestServer({ PUBLIC_URL: 'https://meetplane.example', TRUST_PROXY: 'true' });
  }, 60_000);
  afterAll(async () => {
    await https?.stop();
  });

  it('is on every answer when PUBLIC_URL is https', async () => {
    for (const path of ['/healthz', '/api/v1/coops', '/api/v1/nowhere', '/audit/login', '/oidc/.well-known/openid-configuration', '/oidc/device']) {
      const res = await https.api('GET', path, { token: null, headers: { 'x-forwarded-proto': 'https' } });
      expect(res.status, path).toBeLessThan(500);
      expect(res.headers.get('strict-transport-security'), path).toBe('max-age=31536000');
    }
    expect((await https.api('GET', '/audit/login', { token: null })).headers.get('content-security-policy')).toBe(OWN_POLICY);
  });
});
