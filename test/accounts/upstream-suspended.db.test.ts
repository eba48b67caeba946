// A suspended account cannot sign in through its co-op's own provider either:
// the upstream log-in ends on a refusal page that says so, and the client gets
// no code. Reinstated, the same upstream log-in works again.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import * as oidc from 'openid-client';
import { launchBrowser } from '../support/browser.js';
import { createCoop } from '../support/fixtures.js';
import { discover, freePort, registerClient, startSsoServer, uniq } from '../oidc/helpers.js';
import { startUpstreamIdp, type UpstreamIdp } from '../oidc/upstream-idp.js';

let s: Awaited<ReturnType<typeof startSsoServer>>;
let idp: UpstreamIdp;
let browser: Browser;
let rp: Server;
let rpUrl: string;
let config: oidc.Configuration;
let coop: { id: string; slug: string };

beforeAll(async () => {
  s = await startSsoServer();
  idp = await startUpstreamIdp(`${s.url}/oidc/upstream/callback`);
  const port = await freePort();
  rpUrl = `http://127.0.0.1:${port}`;
  rp = createServer((_req, res) => res.end('callback'));
  await new Promise<void>((r) => rp.listen(port, '127.0.0.1', () => r()));
  browser = await launchBrowser();
  coop = await createCoop(s, { name: 'North Co-op' });
  const registered = await s.api('POST', '/api/v1/upstreams', { body: { coop: coop.slug, displayName: 'North SSO', issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret } });
  expect(registered.status).toBe(201);
  const web = await registerClient(s, { name: 'North Greenlight', coop: coop.id, kind: 'web', redirectUris: [`${rpUrl}/cb`] });
  config = await discover(s, web.clientId, web.clientSecret!);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => rp?.close(r));
  await idp?.stop();
  await s?.stop();
});

/** Logs in through the co-op's provider as `sub`: where the browser ends, and the page's text. */
async function brokeredLogin(sub: string): Promise<{ url: string; text: string }> {
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: `${rpUrl}/cb`,
    scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
    state: oidc.randomState(),
  });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(url.href);
    await page.getByRole('button', { name: 'Log in with North SSO (North Co-op)' }).click();
    await page.waitForURL(`${idp.issuer}/**`);
    await page.locator('input[name=login]').fill(sub);
    await page.locator('input[name=password]').fill('anything');
    await page.locator('button[type=submit]').click();
    await page.waitForURL((u) => u.origin === s.url || u.origin === rpUrl);
    if (new URL(page.url()).origin === s.url && (await page.getByRole('button', { name: 'Allow' }).count()) === 1) {
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL(`${rpUrl}/cb?**`);
    }
    return { url: page.url(), text: (await page.textContent('body')) ?? '' };
  } finally {
    await context.close();
  }
}

async function lifecycle(verb: 'suspend' | 'reinstate', id: string) {
  const etag = (await s.api('GET', `/api/v1/accounts/${id}`)).headers.get('etag')!;
  const res = await s.api('POST', `/api/v1/accounts/${id}/${verb}`, { body: { reason: 'test' }, headers: { 'if-match': etag } });
  expect(res.status, res.text).toBe(200);
}

describe('a suspended account and its co-op\'s provider', () => {
  it('refuses the upstream log-in while suspended, and lets it in again once reinstated', async () => {
    const email = `una-${uniq()}@north.example`;
    const sub = `una-${uniq()}`;
    idp.people.set(sub, { email, email_verified: true, name: 'Una Upstream' });
    const first = await brokeredLogin(sub); // links and creates the account
    expect(first.url.startsWith(`${rpUrl}/cb?`)).toBe(true);
    const id = (await s.api('GET', '/api/v1/accounts?limit=200')).json.items.find((a: { email: string }) => a.email === email).id as string;

    await lifecycle('suspend', id);
    const refused = await brokeredLogin(sub);
    expect(refused.url.startsWith(rpUrl)).toBe(false);
    expect(refused.text).toContain('This account is suspended');

    await lifecycle('reinstate', id);
    const again = await brokeredLogin(sub);
    expect(again.url.startsWith(`${rpUrl}/cb?`)).toBe(true);
  }, 120_000);
});
