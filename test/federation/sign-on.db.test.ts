// Sign-on across meetplane instances, as a member lives it: instance B names
// instance A (a pinned peer) as the provider for its "Visitors" co-op; A knows
// B's relying party from B's federation metadata alone (no client registered
// by a person, no secret: private_key_jwt with the key B publishes). A member
// of A logs in to a front end of B in a real browser, through A's own log-in
// page; B links the account by (A's issuer, sub). Refused: at A, a relying
// party A does not trust; at B, log-in through A once B unpinned it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import * as oidc from 'openid-client';
import { eq } from 'drizzle-orm';
import { launchBrowser } from '../support/browser.js';
import { runCli } from '../support/cli.js';
import { createCoop } from '../support/fixtures.js';
import { codeRequest, discover, freePort, memberWithPassword, registerClient, startCallbackPage, startSsoServer } from '../oidc/helpers.js';
import { accountIdentities } from '../../server/accounts/sso-table.js';

type Sso = Awaited<ReturnType<typeof startSsoServer>>;
let a: Sso;
let b: Sso;
let browser: Browser;
let rp: Awaited<ReturnType<typeof startCallbackPage>>;
let rpUrl: string;
let visitors: { id: string; slug: string };
let config: oidc.Configuration;
let A: { entityId: string; thumbprint: string };
let B: { entityId: string; thumbprint: string };

const self = async (s: Sso) => (await s.api('GET', '/api/v1/federation')).json.self as { entityId: string; thumbprint: string };

beforeAll(async () => {
  a = await startSsoServer();
  b = await startSsoServer();
  A = await self(a);
  B = await self(b);
  rp = await startCallbackPage();
  rpUrl = rp.url;
  browser = await launchBrowser();
  // B trusts A, and names it as the provider of its Visitors co-op; then A trusts B (and reads its relying party).
  expect((await b.api('POST', '/api/v1/federation/peers', { body: A })).status).toBe(201);
  visitors = await createCoop(b, { name: 'Visitors' });
  const upstream = await b.api('POST', '/api/v1/upstreams', { body: { coop: visitors.slug, displayName: 'North instance', federationEntity: A.entityId } });
  expect(upstream.status, upstream.text).toBe(201);
  expect(upstream.json).toMatchObject({ issuer: a.issuer, clientId: B.entityId, authMethod: 'private_key_jwt', federationEntity: A.entityId });
  expect((await a.api('POST', '/api/v1/federation/peers', { body: B })).status).toBe(201);
  const web = await registerClient(b, { name: 'Visitors Greenlight', coop: visitors.id, kind: 'web', redirectUris: [`${rpUrl}/cb`] });
  config = await discover(b, web.clientId, web.clientSecret!);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await rp?.close();
  await b?.stop();
  await a?.stop();
});

/** Logs in to B's front end through A as `who`; the tokens' claims, or the page it stopped on. */
async function loginThroughA(who: { email: string; password: string }) {
  const { url, verifier, state, nonce } = await codeRequest(config, `${rpUrl}/cb`, 'openid email profile');
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(url.href);
    await page.getByRole('button', { name: 'Log in with North instance (Visitors)' }).click();
    await page.waitForLoadState();
    if (new URL(page.url()).origin !== a.url) return { text: (await page.textContent('body')) ?? '', status: 'stopped at B' as const };
    // A's own log-in page.
    await page.getByLabel('E-mail address').fill(who.email);
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    for (let i = 0; i < 3 && !page.url().startsWith(`${rpUrl}/cb`); i++) {
      await page.waitForURL((u) => u.href.startsWith(`${rpUrl}/cb`) || (u.pathname.includes('/interaction/') && u.origin !== rpUrl), { timeout: 15_000 });
      const allow = page.getByRole('button', { name: 'Allow' });
      if (!page.url().startsWith(`${rpUrl}/cb`) && (await allow.count()) === 1) await allow.click();
    }
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    const info = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    return { status: 'signed in' as const, sub: tokens.claims()!.sub, email: info.email };
  } finally {
    await context.close();
  }
}

describe('sign-on across instances', () => {
  it("publishes B's relying party in its federation metadata: its callback and keys, no secret", async () => {
    const jwt = await (await fetch(`${b.url}/.well-known/openid-federation`)).text();
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());
    expect(payload.metadata.openid_relying_party).toMatchObject({
      redirect_uris: [`${b.url}/oidc/upstream/callback`],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [expect.objectContaining({ kty: 'RSA' })] },
    });
    expect(JSON.stringify(payload.metadata.openid_relying_party)).not.toMatch(/"d"|secret/);
  });

  it('lets a member of A log in at B through A, linked at B by (A\'s issuer, sub)', async () => {
    const member = await memberWithPassword(a);
    const result = await loginThroughA(member);
    expect(result).toMatchObject({ status: 'signed in', email: member.email });
    const ids = await b.database.db.select().from(accountIdentities).where(eq(accountIdentities.issuer, a.issuer));
    expect(ids.map((i) => i.subject)).toContain(member.accountId);
    // B's account is in the co-op the upstream belongs to, and holds no role A could have given it.
    const account = (await b.api('GET', `/api/v1/accounts/${(result as { sub: string }).sub}`)).json;
    expect(account).toMatchObject({ coopId: visitors.id, platformAdmin: false });
  }, 120_000);

  it('A treats a relying party it does not trust as an unknown client', async () => {
    const ask = (clientId: string) =>
      fetch(`${a.issuer}/auth?${new URLSearchParams({ client_id: clientId, redirect_uri: `${b.url}/oidc/upstream/callback`, response_type: 'code', scope: 'openid', state: 'x', code_challenge: 'E9Melhoa2OwvFrEMTJguCQaoeL3qM3m3qY3zX7yQbEo', code_challenge_method: 'S256' })}`, { redirect: 'manual' });
    // Trusted: A starts its log-in interaction.
    expect((await ask(B.entityId)).status).toBe(303);
    const stranger = `http://127.0.0.1:${await freePort()}`;
    const refused = await ask(stranger);
    expect(refused.status).toBe(400);
    expect((await refused.text()).replace(/<[^>]+>/g, ' ')).toMatch(/cannot accept \(client is invalid\)/);
  });

  it('B refuses log-in through A once it no longer trusts A, and says so', async () => {
    const member = await memberWithPassword(a);
    const unpinned = await runCli(['peers', 'remove', A.entityId], { MEETPLANE_URL: b.url, MEETPLANE_TOKEN: b.adminToken });
    expect(unpinned.stdout, unpinned.stderr).toBe(`unpinned peer ${A.entityId}\n`);
    const result = await loginThroughA(member);
    expect(result.status).toBe('stopped at B');
    expect((result as { text: string }).text).toContain('does not trust North instance');
    const audit = (await b.api('GET', '/api/v1/audit/entries?action=federation.peer.remove')).json.items;
    expect(audit).toHaveLength(1);
  }, 120_000);
});
