// Sign-on across meetplane instances through a trust anchor, as a member and the operators live it.
// Three instances on loopback, each on its own database: an anchor T, and co-op instances A and B,
// both enrolled at T and trusting it, NOT pinned to each other. B names A as the provider of its
// "Visitors" co-op; A knows B's relying party from B's metadata as the chain through T resolves it.
// A member of A logs in at a front end of B through A's log-in page in a real browser.
// Refused: an ID token signed by a key the resolved metadata does not name; log-in through A once T
// unenrolled A (and at A, B once T unenrolled B), within T's statement lifetime, because instances
// cache a chain until its earliest exp; log-in once the chain expired and T cannot vouch afresh.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import * as oidc from 'openid-client';
import { and, eq } from 'drizzle-orm';
import { launchBrowser } from '../support/browser.js';
import { createCoop } from '../support/fixtures.js';
import { codeRequest, discover, memberWithPassword, registerClient, startCallbackPage, startSsoServer } from '../oidc/helpers.js';
import { accountIdentities } from '../../server/accounts/sso-table.js';
import { rotateKeys } from '../../server/oidc/keys.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { decodeMasterKey } from '../../server/crypto/master-key.js';

type Sso = Awaited<ReturnType<typeof startSsoServer>>;
type Entity = { entityId: string; thumbprint: string };
/** T's subordinate statements live this long (FEDERATION_STATEMENT_LIFETIME): the chains' earliest exp. */
const LIFETIME_S = 20;

let t: Sso, a: Sso, b: Sso;
let T: Entity, A: Entity, B: Entity;
let browser: Browser;
let rp: Awaited<ReturnType<typeof startCallbackPage>>;
let config: oidc.Configuration;

const self = async (s: Sso) => (await s.api('GET', '/api/v1/federation')).json.self as Entity;
const resolveAt = (s: Sso, sub: string) => s.api('GET', `/api/v1/federation/resolve?sub=${encodeURIComponent(sub)}`);
const enrol = async (body: Record<string, unknown>) => {
  const r = await t.api('POST', '/api/v1/federation/subordinates', { body });
  expect(r.status, r.text).toBe(201);
};
const unenrol = async (e: Entity) => expect((await t.api('DELETE', `/api/v1/federation/subordinates?entityId=${encodeURIComponent(e.entityId)}`)).status).toBe(204);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits until `iso` (a chain's expiry) is past, by a margin for the second-granular exp. */
const waitPast = async (iso: string) => sleep(Math.max(0, new Date(iso).getTime() - Date.now() + 1100));

/** B's chain for A, with at least `ms` left: the cached one, or (waiting out an older one) a fresh one. */
async function chainAtB(ms: number): Promise<{ expiresAt: string; metadata: { openid_provider: { jwks: { keys: Array<{ kid: string }> } } } }> {
  let r = await resolveAt(b, A.entityId);
  expect(r.status, r.text).toBe(200);
  if (new Date(r.json.expiresAt).getTime() - Date.now() < ms) {
    await waitPast(r.json.expiresAt);
    r = await resolveAt(b, A.entityId);
    expect(r.status, r.text).toBe(200);
  }
  return r.json;
}

/** A rotates its sign-on keys (as `meetplane keys rotate` does), and its provider takes them up. */
async function rotateSignOnKeys(s: Sso) {
  const { added } = await rotateKeys(s.database.db, new SecretBox(decodeMasterKey(s.masterKey)));
  expect(await s.sso.reloadKeys()).toBe(true);
  return added;
}

beforeAll(async () => {
  t = await startSsoServer({ FEDERATION_STATEMENT_LIFETIME: String(LIFETIME_S) });
  a = await startSsoServer();
  b = await startSsoServer();
  [T, A, B] = [await self(t), await self(a), await self(b)];
  rp = await startCallbackPage();
  browser = await launchBrowser();
  // A and B trust T (so each names it as authority), and T vouches for both; neither pins the other.
  for (const s of [a, b]) expect((await s.api('POST', '/api/v1/federation/anchors', { body: T })).status).toBe(201);
  await enrol(A);
  await enrol(B);
  const visitors = await createCoop(b, { name: 'Visitors' });
  const upstream = await b.api('POST', '/api/v1/upstreams', { body: { coop: visitors.slug, displayName: 'North instance', federationEntity: A.entityId } });
  expect(upstream.status, upstream.text).toBe(201);
  expect(upstream.json).toMatchObject({ issuer: a.issuer, clientId: B.entityId, authMethod: 'private_key_jwt', federationEntity: A.entityId });
  const web = await registerClient(b, { name: 'Visitors Greenlight', coop: visitors.id, kind: 'web', redirectUris: [`${rp.url}/cb`] });
  config = await discover(b, web.clientId, web.clientSecret!);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await rp?.close();
  for (const s of [b, a, t]) await s?.stop();
});

type Outcome = { status: 'signed in'; sub: string; email: string } | { status: 'stopped at B' | 'stopped at A'; text: string };

/**
 * Logs in to B's front end through A as `who`: the signed-in subject, or the page it stopped on.
 * `onA` runs while the member is on A's log-in page (B has started the log-in, A has not answered).
 */
async function loginThroughA(who: { email: string; password: string }, onA?: () => Promise<void>): Promise<Outcome> {
  const { url, verifier, state, nonce } = await codeRequest(config, `${rp.url}/cb`, 'openid email profile');
  const context = await browser.newContext();
  const page = await context.newPage();
  const body = async () => ((await page.textContent('body')) ?? '').replace(/\s+/g, ' ');
  try {
    await page.goto(url.href);
    await page.getByRole('button', { name: 'Log in with North instance (Visitors)' }).click();
    await page.waitForLoadState();
    if (new URL(page.url()).origin !== a.url) return { status: 'stopped at B', text: await body() };
    if ((await page.getByLabel('E-mail address').count()) === 0) return { status: 'stopped at A', text: await body() };
    // A's own log-in page.
    await onA?.();
    await page.getByLabel('E-mail address').fill(who.email);
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    for (let i = 0; i < 3 && !page.url().startsWith(`${rp.url}/cb`); i++) {
      await page.waitForURL((u) => u.href.startsWith(`${rp.url}/cb`) || (u.pathname.includes('/interaction/') && u.origin !== rp.url) || u.pathname.includes('/upstream/callback'), { timeout: 15_000 });
      await page.waitForLoadState();
      if (new URL(page.url()).pathname.includes('/upstream/callback')) return { status: 'stopped at B', text: await body() };
      const allow = page.getByRole('button', { name: 'Allow' });
      if (!page.url().startsWith(`${rp.url}/cb`) && (await allow.count()) === 1) await allow.click();
    }
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    const info = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    return { status: 'signed in', sub: tokens.claims()!.sub, email: String(info.email) };
  } finally {
    await context.close();
  }
}

/** A's provider, asked to start a log-in for `clientId` back to B's callback. */
const askA = (clientId: string) =>
  fetch(
    `${a.issuer}/auth?${new URLSearchParams({ client_id: clientId, redirect_uri: `${b.url}/oidc/upstream/callback`, response_type: 'code', scope: 'openid', state: 'x', code_challenge: 'E9Melhoa2OwvFrEMTJguCQaoeL3qM3m3qY3zX7yQbEo', code_challenge_method: 'S256' })}`,
    { redirect: 'manual' },
  );

describe('sign-on across instances through a trust anchor', () => {
  it('B trusts A through T alone: the chain, its expiry at T\'s statement, and A\'s sign-on keys in the signed metadata', async () => {
    const trust = (await b.api('GET', '/api/v1/federation')).json;
    expect(trust.peers).toEqual([]);
    const before = Date.now();
    const chain = (await resolveAt(b, A.entityId)).json;
    expect(chain).toMatchObject({ via: 'trust_anchor', trustAnchor: T.entityId });
    expect(chain.chain.map((s: { iss: string; sub: string }) => [s.iss, s.sub])).toEqual([
      [A.entityId, A.entityId],
      [T.entityId, A.entityId],
      [T.entityId, T.entityId],
    ]);
    // The chain expires with its earliest statement: T's statement about A.
    const tAboutA = chain.chain[1] as { exp: string };
    expect(chain.expiresAt).toBe(tAboutA.exp);
    expect(new Date(chain.expiresAt).getTime()).toBeLessThanOrEqual(before + LIFETIME_S * 1000 + 1000);
    // The keys A's provider signs with are in the metadata T's chain vouches for.
    const published = (await (await fetch(`${a.issuer}/jwks`)).json()) as { keys: Array<{ kid: string }> };
    expect(chain.metadata.openid_provider.jwks.keys.map((k: { kid: string }) => k.kid).sort()).toEqual(published.keys.map((k) => k.kid).sort());
    // Likewise A resolves B's relying party through T.
    const rpAtA = await resolveAt(a, B.entityId);
    expect(rpAtA.json).toMatchObject({ via: 'trust_anchor', trustAnchor: T.entityId, metadata: { openid_relying_party: { redirect_uris: [`${b.url}/oidc/upstream/callback`] } } });
  });

  it("lets a member of A log in at B through A, linked at B by (A's issuer, sub)", async () => {
    const member = await memberWithPassword(a);
    const result = await loginThroughA(member);
    expect(result).toMatchObject({ status: 'signed in', email: member.email });
    const ids = await b.database.db.select().from(accountIdentities).where(and(eq(accountIdentities.issuer, a.issuer), eq(accountIdentities.subject, member.accountId)));
    expect(ids).toHaveLength(1);
    const account = (await b.api('GET', `/api/v1/accounts/${(result as { sub: string }).sub}`)).json;
    expect(account).toMatchObject({ platformAdmin: false });
  }, 120_000);

  it('A rotates its sign-on keys: B, holding a chain with the old keys, resolves A afresh and the log-in goes on', async () => {
    const member = await memberWithPassword(a);
    const held = await chainAtB(12_000);
    const added = await rotateSignOnKeys(a);
    expect(held.metadata.openid_provider.jwks.keys.map((k) => k.kid)).not.toEqual(expect.arrayContaining([added[0]]));
    expect(await loginThroughA(member)).toMatchObject({ status: 'signed in', email: member.email });
    // Before the held chain expired, B replaced it with one naming the new keys.
    expect(Date.now()).toBeLessThan(new Date(held.expiresAt).getTime());
    const now = (await resolveAt(b, A.entityId)).json;
    expect(new Date(now.expiresAt).getTime()).toBeGreaterThan(new Date(held.expiresAt).getTime());
    expect(now.metadata.openid_provider.jwks.keys.map((k: { kid: string }) => k.kid)).toEqual(expect.arrayContaining(added.filter((k) => !k.startsWith('cookie'))));
  }, 120_000);

  it('refuses an ID token signed by a key the resolved metadata does not name (T pins A\'s keys; A rotates)', async () => {
    const member = await memberWithPassword(a);
    // T vouches for A's sign-on keys as they are now: its policy fixes openid_provider.jwks.
    const jwks = await (await fetch(`${a.issuer}/jwks`)).json();
    await enrol({ ...A, metadataPolicy: [{ entityType: 'openid_provider', parameter: 'jwks', operators: { value: jwks } }] });
    await rotateSignOnKeys(a);
    // A publishes its new keys in its own configuration, but the chain's metadata names the old ones only.
    const result = await loginThroughA(member);
    expect(result.status).toBe('stopped at B');
    expect((result as { text: string }).text).toContain('not signed with a key the federation vouches for');
    expect(b.logs()).toContain('upstream instance ID token refused');
    const linked = await b.database.db.select().from(accountIdentities).where(and(eq(accountIdentities.issuer, a.issuer), eq(accountIdentities.subject, member.accountId)));
    expect(linked).toHaveLength(0);
    // T vouches for whatever A publishes again: B picks up the new keys at the next log-in.
    await enrol(A);
    expect(await loginThroughA(member)).toMatchObject({ status: 'signed in', email: member.email });
  }, 120_000);

  it("B refuses log-in through A once T unenrols A, within T's statement lifetime, and says so", async () => {
    const member = await memberWithPassword(a);
    const held = await chainAtB(0);
    const unenrolledAt = Date.now();
    await unenrol(A);
    // B keeps the chain it holds until its earliest exp, at most T's statement lifetime from now.
    expect(new Date(held.expiresAt).getTime()).toBeLessThanOrEqual(unenrolledAt + LIFETIME_S * 1000 + 1000);
    await waitPast(held.expiresAt);
    const result = await loginThroughA(member);
    expect(result.status).toBe('stopped at B');
    expect((result as { text: string }).text).toContain('does not trust North instance');
    const refused = await resolveAt(b, A.entityId);
    expect(refused.status).toBe(400);
    expect(refused.json.detail).toMatch(/answered 404/);
    // Enrolled again, A is trusted at B's next log-in (a refusal is not cached at B).
    await enrol(A);
    expect(await loginThroughA(member)).toMatchObject({ status: 'signed in', email: member.email });
  }, 120_000);

  it("A refuses B's relying party once T unenrols B, within T's statement lifetime", async () => {
    expect((await askA(B.entityId)).status).toBe(303);
    const held = (await resolveAt(a, B.entityId)).json as { expiresAt: string };
    const unenrolledAt = Date.now();
    await unenrol(B);
    expect(new Date(held.expiresAt).getTime()).toBeLessThanOrEqual(unenrolledAt + LIFETIME_S * 1000 + 1000);
    await waitPast(held.expiresAt);
    const refused = await askA(B.entityId);
    expect(refused.status).toBe(400);
    expect((await refused.text()).replace(/<[^>]+>/g, ' ')).toMatch(/cannot accept \(client is invalid\)/);
    // The member sees A's refusal on A's page, not a log-in form.
    const result = await loginThroughA(await memberWithPassword(a));
    expect(result.status).toBe('stopped at A');
    expect((result as { text: string }).text).toMatch(/cannot accept \(client is invalid\)/);
    await enrol(B);
  }, 120_000);

  it('refuses log-in once the chain expired and T cannot vouch afresh, also for a log-in under way', async () => {
    const member = await memberWithPassword(a);
    // A pins B too, so A keeps accepting B without T: what is tested here is B's side. A remembers
    // the refusal of B's relying party (previous test) for 30 s: wait until it accepts B again.
    expect((await a.api('POST', '/api/v1/federation/peers', { body: B })).status).toBe(201);
    for (let i = 0; i < 40 && (await askA(B.entityId)).status !== 303; i++) await sleep(1000);
    expect((await askA(B.entityId)).status).toBe(303);
    // B starts the log-in with a valid chain; while the member is on A's page, T goes away and the chain expires.
    const underWay = await loginThroughA(member, async () => {
      const held = await chainAtB(0);
      await t.stop();
      await waitPast(held.expiresAt);
    });
    expect(underWay.status).toBe('stopped at B');
    expect((underWay as { text: string }).text).toContain('does not trust North instance');
    // A new log-in is refused when it starts.
    const result = await loginThroughA(member);
    expect(result.status).toBe('stopped at B');
    expect((result as { text: string }).text).toContain('does not trust North instance');
    const refused = await resolveAt(b, A.entityId);
    expect(refused.status).toBe(400);
    expect(refused.json.detail).toMatch(/could not fetch/);
    const linked = await b.database.db.select().from(accountIdentities).where(and(eq(accountIdentities.issuer, a.issuer), eq(accountIdentities.subject, member.accountId)));
    expect(linked).toHaveLength(0);
  }, 120_000);
});
