// Identity brokering as a member lives it: a co-op registers its own OpenID
// provider through the REST API; a real browser logs in to a meetplane client
// with "Log in with <co-op>". The first log-in links to an existing account of
// that co-op only when the upstream vouches for the e-mail address, otherwise
// creates one; later log-ins go by the upstream (issuer, sub) alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import * as oidc from 'openid-client';
import { launchBrowser } from '../support/browser.js';
import { createCoop } from '../support/fixtures.js';
import { codeRequest, discover, freePort, makePlatformAdmin, registerClient, startCallbackPage, startSsoServer, uniq } from './helpers.js';
import { startUpstreamIdp, type UpstreamIdp } from './upstream-idp.js';

let s: Awaited<ReturnType<typeof startSsoServer>>;
let idp: UpstreamIdp;
let browser: Browser;
let rp: Awaited<ReturnType<typeof startCallbackPage>>;
let rpUrl: string;
let coop: { id: string; slug: string };
let web: { clientId: string; clientSecret: string | null };
let config: oidc.Configuration;

beforeAll(async () => {
  s = await startSsoServer();
  idp = await startUpstreamIdp(`${s.url}/oidc/upstream/callback`);
  rp = await startCallbackPage();
  rpUrl = rp.url;
  browser = await launchBrowser();
  coop = await createCoop(s, { name: 'North Co-op' });
  const registered = await s.api('POST', '/api/v1/upstreams', {
    body: { coop: coop.slug, displayName: 'North SSO', issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret },
  });
  expect(registered.status).toBe(201);
  expect(registered.text).not.toContain(idp.clientSecret);
  web = await registerClient(s, { name: 'North Greenlight', coop: coop.id, kind: 'web', redirectUris: [`${rpUrl}/cb`] });
  config = await discover(s, web.clientId, web.clientSecret!);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await rp?.close();
  await idp?.stop();
  await s?.stop();
});

async function account(email: string, coopId: string | null = coop.id): Promise<string> {
  const res = await s.api('POST', '/api/v1/accounts', { body: { email, name: 'Existing Person', ...(coopId ? { coop: coopId } : {}) } });
  if (res.status !== 201) throw new Error(`account: ${res.status} ${res.text}`);
  return res.json.id;
}

/** Logs in to the meetplane client through the co-op's provider as `sub`; the page it ends on. */
async function brokeredLogin(
  sub: string,
  via: { config: oidc.Configuration; label: string; idp: UpstreamIdp } = { config, label: 'Log in with North SSO (North Co-op)', idp },
  locale?: string,
): Promise<{ page: Page; done: () => Promise<void>; claims?: oidc.IDToken }> {
  const { config, idp } = via;
  const { url, verifier, state, nonce } = await codeRequest(config, `${rpUrl}/cb`, 'openid email profile meetplane');
  const context = await browser.newContext(locale ? { locale } : {});
  const page = await context.newPage();
  const done = () => context.close();
  await page.goto(url.href);
  await page.getByRole('button', { name: via.label }).click();
  // The co-op's own (development) log-in page.
  await page.waitForURL(`${idp.issuer}/**`);
  await page.locator('input[name=login]').fill(sub);
  await page.locator('input[name=password]').fill('anything');
  await page.locator('button[type=submit]').click();
  await page.waitForURL((u) => u.origin === s.url || u.origin === rpUrl);
  if (new URL(page.url()).origin === s.url && (await page.getByRole('button', { name: 'Allow' }).count()) === 1) {
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${rpUrl}/cb?**`);
  }
  if (!page.url().startsWith(`${rpUrl}/cb`)) return { page, done };
  const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
  // The ID token carries sub only (conformIdTokenClaims); the rest is userinfo, as a front end reads it.
  const sub2 = tokens.claims()!.sub;
  const info = await oidc.fetchUserInfo(config, tokens.access_token, sub2);
  return { page, done, claims: { ...tokens.claims()!, ...info } as oidc.IDToken };
}

async function identitiesOf(accountId: string): Promise<Array<{ issuer: string; subject: string }>> {
  const { eq } = await import('drizzle-orm');
  const { accountIdentities } = await import('../../server/accounts/sso-table.js');
  return s.database.db.select({ issuer: accountIdentities.issuer, subject: accountIdentities.subject }).from(accountIdentities).where(eq(accountIdentities.accountId, accountId));
}

describe('log in with a co-op\'s own provider', () => {
  it('lists the upstream without its secret, and offers it on the login page', async () => {
    const list = await s.api('GET', '/api/v1/upstreams');
    expect(list.status).toBe(200);
    expect(list.json.items).toEqual([expect.objectContaining({ coopId: coop.id, displayName: 'North SSO', issuer: idp.issuer, clientId: idp.clientId, enabled: true })]);
    expect(list.text).not.toContain(idp.clientSecret);
    expect(s.logs()).not.toContain(idp.clientSecret);
    const dup = await s.api('POST', '/api/v1/upstreams', { body: { coop: coop.id, displayName: 'Again', issuer: idp.issuer, clientId: 'x', clientSecret: 'y' } });
    expect(dup.status).toBe(409);
    expect(dup.headers.get('content-type')).toContain('application/problem+json');
    const plain = await s.api('POST', '/api/v1/upstreams', { body: { coop: coop.id, displayName: 'Plain', issuer: 'http://idp.example.org', clientId: 'x', clientSecret: 'y' } });
    expect(plain.status).toBe(400);
  });

  it('links the first log-in to the existing account when the co-op vouches for the e-mail address; later log-ins go by (issuer, sub)', async () => {
    const email = `ada-${uniq()}@north.example`;
    const existing = await account(email);
    const sub = `ada-${uniq()}`;
    idp.people.set(sub, { email, email_verified: true, name: 'Ada Upstream' });
    const first = await brokeredLogin(sub);
    await first.done();
    expect(first.claims?.sub).toBe(existing);
    expect(first.claims?.email).toBe(email);
    expect(first.claims?.email_verified).toBe(true);
    expect(await identitiesOf(existing)).toEqual([{ issuer: idp.issuer, subject: sub }]);

    // The co-op changes the address: the (issuer, sub) pair still names the same account.
    idp.people.set(sub, { email: `ada-renamed-${uniq()}@north.example`, email_verified: true });
    const later = await brokeredLogin(sub);
    await later.done();
    expect(later.claims?.sub).toBe(existing);
    expect(later.claims?.email).toBe(email);
  });

  it('creates an account in the co-op for a person meetplane does not know yet', async () => {
    const email = `bo-${uniq()}@north.example`;
    const sub = `bo-${uniq()}`;
    idp.people.set(sub, { email, email_verified: false, name: 'Bo Newcomer' });
    const { claims, done } = await brokeredLogin(sub);
    await done();
    expect(claims?.email).toBe(email);
    expect(claims?.email_verified).toBe(false);
    expect(claims?.name).toBe('Bo Newcomer');
    expect(claims?.coop).toMatchObject({ id: coop.id });
    const acc = await s.api('GET', `/api/v1/accounts/${claims!.sub}`);
    expect(acc.status).toBe(200);
    expect(acc.json).toMatchObject({ email, coopId: coop.id, platformAdmin: false });
    // A second log-in finds it again instead of creating another.
    const again = await brokeredLogin(sub);
    await again.done();
    expect(again.claims?.sub).toBe(claims!.sub);
  });

  it('never links an unverified e-mail address to an existing account', async () => {
    const email = `cy-${uniq()}@north.example`;
    const existing = await account(email);
    const sub = `cy-${uniq()}`;
    idp.people.set(sub, { email, email_verified: false });
    const { page, claims, done } = await brokeredLogin(sub);
    expect(claims).toBeUndefined();
    expect(await page.getByRole('heading', { name: 'Log-in refused' }).count()).toBe(1);
    expect(await page.textContent('main')).toContain('did not confirm the address is verified');
    await done();
    expect(await identitiesOf(existing)).toEqual([]);
    // Even once the co-op verifies it later, the refused attempt left nothing behind to reuse.
    idp.people.set(sub, { email, email_verified: true });
    const second = await brokeredLogin(sub);
    await second.done();
    expect(second.claims?.sub).toBe(existing);
  });

  it("tells the refusal in the browser's language (a Québec browser: French)", async () => {
    const email = `cz-${uniq()}@north.example`;
    await account(email);
    const sub = `cz-${uniq()}`;
    idp.people.set(sub, { email, email_verified: false });
    const { page, done } = await brokeredLogin(sub, { config, label: 'Se connecter avec North SSO (North Co-op)', idp }, 'fr-CA');
    expect(await page.locator('html').getAttribute('lang')).toBe('fr');
    expect(await page.getByRole('heading', { name: 'Connexion refusée' }).count()).toBe(1);
    expect(await page.textContent('main')).toContain("votre coopérative n'a pas confirmé que l'adresse est vérifiée");
    await done();
  });

  it('never logs into a platform admin or an account of another co-op, even with a verified address', async () => {
    const other = await createCoop(s, { name: 'South Co-op' });
    const southEmail = `dee-${uniq()}@south.example`;
    const southAccount = await account(southEmail, other.id);
    for (const email of ['root@platform.test', southEmail]) {
      const sub = `x-${uniq()}`;
      idp.people.set(sub, { email, email_verified: true });
      const { page, claims, done } = await brokeredLogin(sub);
      expect(claims).toBeUndefined();
      expect(await page.getByRole('heading', { name: 'Log-in refused' }).count()).toBe(1);
      await done();
    }
    expect(await identitiesOf(southAccount)).toEqual([]);
  });

  it('never logs into an account of its co-op that holds a role outside it, and audits the refusal', async () => {
    // An account of North that is also co-op admin of South, an auditor, or owner of a South tenancy:
    // North's provider vouching for its address must not hand those roles to whoever North says it is.
    const south = await createCoop(s, { name: 'South Co-op' });
    const [root] = (await s.api('GET', '/api/v1/grants?active=true')).json.items;
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const roles = [
      { role: 'coop_admin', scope: { type: 'coop', id: south.id } },
      { role: 'auditor', scope: { type: 'global' } },
    ];
    for (const r of roles) {
      const email = `fay-${uniq()}@north.example`;
      const victim = await account(email);
      const g = await s.api('POST', '/api/v1/grants', { body: { from: root.id, account: victim, ...r, delegable: false, reason: 'test', expiresAt } });
      expect(g.status, g.text).toBe(201);
      const sub = `fay-${uniq()}`;
      idp.people.set(sub, { email, email_verified: true });
      const { page, claims, done } = await brokeredLogin(sub);
      expect(claims, r.role).toBeUndefined();
      expect(await page.getByRole('heading', { name: 'Log-in refused' }).count()).toBe(1);
      await done();
      expect(await identitiesOf(victim)).toEqual([]);
    }
    const denied = (await s.api('GET', '/api/v1/audit/entries?action=account.link-identity&limit=1000')).json.items
      .map((i: { json: Record<string, any> }) => i.json)
      .filter((e: Record<string, any>) => e.outcome === 'denied');
    expect(denied.length).toBeGreaterThanOrEqual(roles.length);
    expect(denied.at(-1)).toMatchObject({ decision: { policyIds: ['account-takeover-needs-every-role'] }, details: { issuer: idp.issuer } });
  });

  it('offers a co-op\'s provider only when the log-in names that co-op', async () => {
    const south = await createCoop(s, { name: 'South Co-op' });
    const southClient = await registerClient(s, { name: 'South Greenlight', coop: south.id, kind: 'web', redirectUris: [`${rpUrl}/cb`] });
    const southConfig = await discover(s, southClient.clientId, southClient.clientSecret!);
    const buttons = async (cfg: oidc.Configuration, extra: Record<string, string>) => {
      const url = oidc.buildAuthorizationUrl(cfg, {
        redirect_uri: `${rpUrl}/cb`,
        scope: 'openid',
        code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
        ...extra,
      });
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(url.href);
      await page.getByRole('heading', { name: 'Log in' }).waitFor();
      const names = await page.getByRole('button', { name: /^Log in with / }).allTextContents();
      await context.close();
      return names;
    };
    expect(await buttons(config, {})).toEqual(['Log in with North SSO (North Co-op)']); // the client's co-op
    expect(await buttons(southConfig, {})).toEqual([]); // South has none; North's is not shown
    expect(await buttons(southConfig, { coop: coop.slug })).toEqual(['Log in with North SSO (North Co-op)']);
    expect(await buttons(southConfig, { login_hint: `coop:${coop.slug}` })).toEqual(['Log in with North SSO (North Co-op)']);
    expect(await buttons(southConfig, { coop: 'no-such-coop' })).toEqual([]);
  });

  it('authenticates with private_key_jwt where the co-op\'s provider knows only the key meetplane publishes for it', async () => {
    const keyCoop = await createCoop(s, { name: 'Key Co-op' });
    const port = await freePort();
    const body = { coop: keyCoop.id, displayName: 'Key SSO', issuer: `http://127.0.0.1:${port}`, clientId: 'meetplane-key', authMethod: 'private_key_jwt' };
    // A secret is needed only for the secret-based methods.
    expect((await s.api('POST', '/api/v1/upstreams', { body: { ...body, authMethod: null } })).status).toBe(400);
    const reg = await s.api('POST', '/api/v1/upstreams', { body });
    expect(reg.status, reg.text).toBe(201);
    expect(reg.json).toMatchObject({ authMethod: 'private_key_jwt', jwksUri: `${s.url}/oidc/upstream/${reg.json.id}/jwks` });
    const keyIdp = await startUpstreamIdp(`${s.url}/oidc/upstream/callback`, {
      port,
      clientId: 'meetplane-key',
      client: { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: reg.json.jwksUri },
    });
    try {
      const client = await registerClient(s, { name: 'Key Greenlight', coop: keyCoop.id, kind: 'web', redirectUris: [`${rpUrl}/cb`] });
      const keyConfig = await discover(s, client.clientId, client.clientSecret!);
      const email = `kit-${uniq()}@key.example`;
      const sub = `kit-${uniq()}`;
      keyIdp.people.set(sub, { email, email_verified: true, name: 'Kit Key' });
      const { claims, done } = await brokeredLogin(sub, { config: keyConfig, label: 'Log in with Key SSO (Key Co-op)', idp: keyIdp });
      await done();
      expect(claims?.email, s.logs().split('\n').filter((l) => l.includes('"msg":"upstream')).join('\n')).toBe(email);
      expect(claims?.coop).toMatchObject({ id: keyCoop.id });
      const configured = s.logs().split('\n').filter((l) => l.includes('upstream configured') && l.includes(reg.json.id));
      expect(configured.map((l) => JSON.parse(l).authMethod)).toEqual(['private_key_jwt']);
    } finally {
      await keyIdp.stop();
    }
  });

  it('refuses a linked identity once its account left the co-op or became a platform admin', async () => {
    const email = `eve-${uniq()}@north.example`;
    const existing = await account(email);
    const sub = `eve-${uniq()}`;
    idp.people.set(sub, { email, email_verified: true });
    const first = await brokeredLogin(sub);
    await first.done();
    expect(first.claims?.sub).toBe(existing);
    await makePlatformAdmin(s, existing);
    const later = await brokeredLogin(sub);
    expect(later.claims).toBeUndefined();
    expect(await later.page.getByRole('heading', { name: 'Log-in refused' }).count()).toBe(1);
    await later.done();
  });
});
