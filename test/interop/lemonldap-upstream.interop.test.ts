// A co-op's own identity provider that meetplane did not write: Debian's
// LemonLDAP::NG, registered as the upstream of three co-ops with client ids
// containing `-` (which RFC 6749's form-encoding would send as `%2D`), its
// issuer kept with LL::NG's trailing slash. In chromium, members log in to a
// meetplane client through LL::NG: North lets meetplane choose the client
// authentication from LL::NG's discovery (client_secret_post), South sets
// client_secret_basic. The first log-in links to the existing account or
// creates one; an identity linked through one co-op is refused through
// another; a wrong secret is refused by LL::NG, and meetplane's log says what
// LL::NG said, never the secret.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import * as oidc from 'openid-client';
import { launchBrowser } from '../support/browser.js';
import { createCoop } from '../support/fixtures.js';
import { startLemonldap, type Lemonldap } from '../support/lemonldap.js';
import { discover, freePort, registerClient, startSsoServer } from '../oidc/helpers.js';

let s: Awaited<ReturnType<typeof startSsoServer>>;
let llng: Lemonldap;
let browser: Browser;
let rp: Server;
let rpUrl: string;

interface CoopSetup {
  coop: { id: string; slug: string; name: string };
  upstream: { id: string; issuer: string; authMethod: string | null; jwksUri: string };
  label: string;
  config: oidc.Configuration;
}
const coops: Record<'north' | 'south' | 'west', CoopSetup> = {} as never;
const WRONG_SECRET = 'not-the-secret-llng-knows-4242';

beforeAll(async () => {
  s = await startSsoServer();
  const callback = `${s.url}/oidc/upstream/callback`;
  const secrets = { north: 'north-secret-0123456789abcdef', south: 'south-secret-0123456789abcdef', west: 'west-secret-0123456789abcdef' };
  llng = await startLemonldap([
    { clientId: 'meetplane-north', clientSecret: secrets.north, redirectUri: callback },
    { clientId: 'meetplane-south', clientSecret: secrets.south, redirectUri: callback },
    { clientId: 'meetplane-west', clientSecret: secrets.west, redirectUri: callback },
  ]);
  const port = await freePort();
  rpUrl = `http://127.0.0.1:${port}`;
  rp = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>rp</title><p>callback</p>');
  });
  await new Promise<void>((r) => rp.listen(port, '127.0.0.1', () => r()));
  const plan = [
    ['north', 'North Co-op', null, secrets.north],
    ['south', 'South Co-op', 'client_secret_basic', secrets.south],
    ['west', 'West Co-op', null, WRONG_SECRET],
  ] as const;
  for (const [key, name, authMethod, secret] of plan) {
    const coop = await createCoop(s, { name });
    const res = await s.api('POST', '/api/v1/upstreams', {
      body: { coop: coop.id, displayName: 'Lemon SSO', issuer: llng.issuer, clientId: `meetplane-${key}`, clientSecret: secret, ...(authMethod ? { authMethod } : {}) },
    });
    if (res.status !== 201) throw new Error(`upstream: ${res.status} ${res.text}`);
    const client = await registerClient(s, { name: `${name} Greenlight`, coop: coop.id, kind: 'web', redirectUris: [`${rpUrl}/cb`] });
    coops[key] = { coop: { ...coop, name }, upstream: res.json, label: `Log in with Lemon SSO (${name})`, config: await discover(s, client.clientId, client.clientSecret!) };
  }
  browser = await launchBrowser();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => rp?.close(r));
  await llng?.stop();
  await s?.stop();
});

/** Logs in to the co-op's meetplane client through LL::NG as a Demo user; where it ended and, on success, the ID token's sub. */
async function viaLemon(key: keyof typeof coops, user: string): Promise<{ page: Page; sub?: string; done(): Promise<void> }> {
  const { config, label } = coops[key];
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: `${rpUrl}/cb`,
    scope: 'openid email profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url.href);
  await page.getByRole('button', { name: label }).click();
  // LL::NG's own log-in form (Demo users' password is their login).
  await page.waitForURL(`${llng.issuer}**`);
  await page.locator('input[name=user]').fill(user);
  await page.locator('input[name=password]').fill(user);
  await page.locator('form.login button[type=submit]').first().click();
  await page.waitForURL((u) => u.origin === s.url || u.origin === rpUrl);
  if (new URL(page.url()).origin === s.url && (await page.getByRole('button', { name: 'Allow' }).count()) === 1) {
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${rpUrl}/cb?**`);
  }
  const done = () => context.close();
  if (!page.url().startsWith(`${rpUrl}/cb`)) return { page, done };
  const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state });
  return { page, done, sub: tokens.claims()!.sub };
}

/** The JSON log lines mentioning `text`. */
function logLines(text: string): Array<Record<string, unknown>> {
  return s
    .logs()
    .split('\n')
    .filter((l) => l.includes(text))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function accountByEmail(email: string) {
  const { eq } = await import('drizzle-orm');
  const { accounts } = await import('../../server/accounts/table.js');
  const { accountIdentities } = await import('../../server/accounts/sso-table.js');
  const [acc] = await s.database.db.select().from(accounts).where(eq(accounts.email, email));
  const ids = acc ? await s.database.db.select().from(accountIdentities).where(eq(accountIdentities.accountId, acc.id)) : [];
  return { account: acc, identities: ids.map((i) => ({ issuer: i.issuer, subject: i.subject })) };
}

describe('LemonLDAP::NG as a co-op\'s upstream identity provider', () => {
  it('keeps the issuer exactly as given and publishes meetplane\'s key for private_key_jwt', async () => {
    expect(llng.issuer.endsWith('/')).toBe(true);
    const list = await s.api('GET', '/api/v1/upstreams');
    const north = list.json.items.find((u: { id: string }) => u.id === coops.north.upstream.id);
    expect(north).toMatchObject({ issuer: llng.issuer, clientId: 'meetplane-north', authMethod: null });
    expect(list.json.items.find((u: { id: string }) => u.id === coops.south.upstream.id)).toMatchObject({ authMethod: 'client_secret_basic' });
    const jwks = await fetch(north.jwksUri);
    expect(jwks.status).toBe(200);
    const { keys } = (await jwks.json()) as { keys: Array<Record<string, unknown>> };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(keys[0]).not.toHaveProperty('d');
  });

  it('North (method from LL::NG\'s discovery: client_secret_post): the first log-in links to the existing account whose address LL::NG vouches for', async () => {
    const existing = await s.api('POST', '/api/v1/accounts', { body: { email: 'dwho@badwolf.org', name: 'The Doctor', coop: coops.north.coop.id } });
    expect(existing.status).toBe(201);
    const login = await viaLemon('north', 'dwho');
    await login.done();
    expect(login.sub, llng.log()).toBe(existing.json.id);
    expect((await accountByEmail('dwho@badwolf.org')).identities).toEqual([{ issuer: llng.issuer, subject: 'dwho' }]);
    expect(logLines('upstream configured').filter((l) => l.upstream === coops.north.upstream.id).map((l) => l.authMethod)).toEqual(['client_secret_post']);
  });

  it('South (client_secret_basic set for it, id sent as typed): the first log-in creates the account in South', async () => {
    const login = await viaLemon('south', 'rtyler');
    await login.done();
    expect(login.sub, `${s.logs().split('\n').filter((l) => l.includes('upstream')).join('\n')}`).toBeTruthy();
    const { account, identities } = await accountByEmail('rtyler@badwolf.org');
    expect(account).toMatchObject({ id: login.sub, coopId: coops.south.coop.id });
    expect(identities).toEqual([{ issuer: llng.issuer, subject: 'rtyler' }]);
    expect(logLines('upstream configured').filter((l) => l.upstream === coops.south.upstream.id).map((l) => l.authMethod)).toEqual(['client_secret_basic']);
  });

  it('refuses an identity linked through North when it comes through South', async () => {
    const login = await viaLemon('south', 'dwho');
    expect(login.sub).toBeUndefined();
    expect(await login.page.getByRole('heading', { name: 'Log-in refused' }).count()).toBe(1);
    expect(await login.page.textContent('body')).toContain('cannot be used through this co-op');
    await login.done();
    // Still linked to North's account only.
    expect((await accountByEmail('dwho@badwolf.org')).identities).toEqual([{ issuer: llng.issuer, subject: 'dwho' }]);
  });

  it('a secret LL::NG does not know: the log says what LL::NG answered, never the secret', async () => {
    const login = await viaLemon('west', 'msmith');
    expect(login.sub).toBeUndefined();
    expect(await login.page.getByRole('heading', { name: 'Co-op log-in failed' }).count()).toBe(1);
    await login.done();
    const failed = logLines('upstream log-in failed').filter((l) => l.upstream === coops.west.upstream.id);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.err).toMatchObject({ error: 'invalid_client' });
    expect(s.logs()).not.toContain(WRONG_SECRET);
    expect((await accountByEmail('msmith@badwolf.org')).account).toBeUndefined();
  });
});
