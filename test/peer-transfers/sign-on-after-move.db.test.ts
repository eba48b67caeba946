// Signing on after a tenancy moved between instances, as its members live it: "members who consented
// are created at the target; they sign in there with their existing login through cross-instance
// sign-on (the source as their provider)". A (a UK co-op) and B (a Québec co-op) on loopback, each on
// its own database, pinned to each other with witnessing on (as receipt.db.test.ts). At A a tenancy
// has an owner, a member and a third member who objects; the owner and the member have passwords at
// A. The transfer runs to its end (completed at A, the receipt back at B). B made accounts for the
// owner and the member by their addresses, in its Québec co-op, with their memberships; B's operator
// then names A as that co-op's provider. In a real browser, the member and the owner each log in to
// a front end of B through A's own log-in page with their A password: B signs each into THE account
// the arrival made (linked by A's issuer and A's account id), which is still a member of the moved
// tenancy with the role it had, and B holds one account per address. The negative: the objector, whom
// the arrival did not create, signing in through A the same way gets a new account of the co-op that
// is no member of the moved tenancy (sign-on links by address; it never grants the tenancy).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import type { Browser } from 'playwright-core';
import * as oidc from 'openid-client';
import { and, eq } from 'drizzle-orm';
import { launchBrowser } from '../support/browser.js';
import { codeRequest, discover, memberWithPassword, registerClient, startCallbackPage, startSsoServer } from '../oidc/helpers.js';
import { startBbbPair, type BbbPair } from '../support/bbb/pair.js';
import { writeRecording } from '../support/bbb/recordings.js';
import { coopAdminWithToken, createTenancy } from '../support/fixtures.js';
import { deliverAllMail, entityOf as self, peerDepsOf as peerDeps, pinEachOther, sourceRunner, ukAndQuebec, type Entity, type Person } from '../support/peer-pair.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';
import { issueToken } from '../../server/accounts/service.js';
import { LOCAL_OPERATOR } from '../../server/auth/principal.js';
import { accounts, memberships } from '../../server/accounts/table.js';
import { accountIdentities } from '../../server/accounts/sso-table.js';
import { advanceTransfer, type ExecutionDeps } from '../../server/transfers/execute.js';
import { tenancies } from '../../server/tenancies/table.js';
import { deliverDueMessages } from '../../server/peer-transfers/due.js';

type Sso = Awaited<ReturnType<typeof startSsoServer>>;
/** An account of A's UK co-op with a password at A (to log in with) and a token (to approve or object). */
type Member = Person & { email: string; password: string };
type Outcome = { status: 'signed in'; sub: string; email: string } | { status: 'stopped at B' | 'stopped at A'; text: string };

let a: Sso, b: Sso;
let A: Entity, B: Entity;
let bbb: BbbPair;
let smtp: SmtpSink;
let browser: Browser;
let rp: Awaited<ReturnType<typeof startCallbackPage>>;
let config: oidc.Configuration;
let uk: { id: string };
let ukCluster: { id: string };
let quebec: { id: string; slug: string };
let montreal: { id: string; slug: string };
let aAdmin: Person, bAdmin: Person;
let execA: ExecutionDeps;
const agreement = createHash('sha256').update('processing agreement, signed').digest('hex');
const GRACE_MS = 3_600_000;
const PROVIDER = 'Harbour instance';


/** POST /transfers/{id}/{action} at A with the ETag it has now. */
async function act(id: string, action: string, token: string, body?: unknown) {
  const etag = (await a.api('GET', `/api/v1/transfers/${id}`)).headers.get('etag');
  return a.api('POST', `/api/v1/transfers/${id}/${action}`, { token, body, headers: etag ? { 'If-Match': etag } : {} });
}

/** A member of the UK co-op with a password at A and an access token there. */
async function ukMember(): Promise<Member> {
  const m = await memberWithPassword(a, { coop: uk.id });
  const { token } = await issueToken(a.database.db, LOCAL_OPERATOR, m.accountId, 'test', null);
  return { accountId: m.accountId, email: m.email, password: m.password, token };
}

/** B's accounts with this address (the address as B stores it: lower case). */
const accountsAtB = (email: string) => b.database.db.select().from(accounts).where(eq(accounts.email, email.toLowerCase()));
/** The account B linked to A's identity `sub` (A's account id), if any. */
const linkedAtB = async (sub: string) =>
  (await b.database.db.select().from(accountIdentities).where(and(eq(accountIdentities.issuer, a.issuer), eq(accountIdentities.subject, sub))))[0]?.accountId;
/** The members of the tenancy at B, as B's co-op admin reads them. */
async function membersAtB(tenancyId: string) {
  const res = await b.api('GET', `/api/v1/tenancies/${tenancyId}/members`, { token: bAdmin.token });
  expect(res.status, res.text).toBe(200);
  return res.json.items as Array<{ accountId: string; email: string; role: string }>;
}

/**
 * Logs in to B's front end (the Québec co-op's web client) through A as `who`, in a fresh browser
 * context: the subject and address B's tokens and userinfo name, or the page it stopped on.
 * (sign-on-anchor.db.test.ts's loginThroughA, with this co-op's button.)
 */
async function loginThroughA(who: { email: string; password: string }): Promise<Outcome> {
  const { url, verifier, state, nonce } = await codeRequest(config, `${rp.url}/cb`, 'openid email profile');
  const context = await browser.newContext();
  const page = await context.newPage();
  const body = async () => ((await page.textContent('body')) ?? '').replace(/\s+/g, ' ');
  try {
    await page.goto(url.href);
    await page.getByRole('button', { name: `Log in with ${PROVIDER} (Coop Érable)` }).click();
    await page.waitForLoadState();
    if (new URL(page.url()).origin !== a.url) return { status: 'stopped at B', text: await body() };
    if ((await page.getByLabel('E-mail address').count()) === 0) return { status: 'stopped at A', text: await body() };
    // A's own log-in page: the member's existing login.
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
    // The front end redeems the code at B and asks B who signed in.
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    const info = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    return { status: 'signed in', sub: tokens.claims()!.sub, email: String(info.email) };
  } finally {
    await context.close();
  }
}

beforeAll(async () => {
  [a, b] = [await startSsoServer({ WORKER: 'off', TRANSFER_MIN_NOTICE_DAYS: '0' }), await startSsoServer({ WORKER: 'off' })];
  [A, B] = [await self(a), await self(b)];
  bbb = await startBbbPair({ source: 'src-secret-21', target: 'dst-secret-21' });
  smtp = await startSmtpSink();
  rp = await startCallbackPage();
  browser = await launchBrowser();
  ({ uk, ukCluster, quebec, montreal, bAdmin } = await ukAndQuebec(a, b, bbb, { source: 'src-secret-21', target: 'dst-secret-21' }, { contactEmail: 'bonjour@erable.example' }));
  aAdmin = await coopAdminWithToken(a, uk.id);
  // Pinned with witnessing on: each witnesses the other's log and asks the other's witness to cosign its own.
  await pinEachOther(a, b);
  execA = await sourceRunner(a, GRACE_MS);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await rp?.close();
  await bbb?.close();
  await smtp?.close();
  for (const s of [b, a]) await s?.stop();
});

describe('signing on at B after the tenancy moved there from A', () => {
  let id: string;
  let tenancyId: string;
  let owner: Member, member: Member, objector: Member;
  /** The accounts B's arrival made, by who they are at A. */
  const arrived = { owner: '', member: '' };

  it('moves the tenancy to B: the owner and the member who did not object get accounts of the Québec co-op with their memberships; the objector none', async () => {
    const t = await createTenancy(a, uk.id, ukCluster.id, { name: 'Harbour Library', retentionDays: 3650 });
    tenancyId = t.id;
    [owner, member, objector] = [await ukMember(), await ukMember(), await ukMember()];
    for (const [who, role] of [[owner, 'owner'], [member, 'member'], [objector, 'member']] as const) {
      const put = await a.api('PUT', `/api/v1/tenancies/${t.id}/members/${who.accountId}`, { body: { role } });
      expect(put.status, put.text).toBe(204);
    }
    // None of them has an account at B yet.
    for (const who of [owner, member, objector]) expect(await accountsAtB(who.email)).toEqual([]);
    await writeRecording(bbb.dirs.source, { meetingId: `${t.slug}-room`, name: 'Reading', host: bbb.source.origin, meta: { 'meetplane-tenancy': t.id }, format: 'presentation', files: { 'shapes.svg': `<svg id="${t.slug}"/>` } });
    const offered = await a.api('POST', '/api/v1/peer-transfers', { body: { tenancy: t.id, peer: B.entityId, targetCoop: quebec.slug, targetCluster: montreal.slug, processingAgreement: agreement, noticeDays: 0 } });
    expect(offered.status, offered.text).toBe(201);
    id = offered.json.id;
    expect((await act(id, 'approve', aAdmin.token, { as: 'source_admin' })).status).toBe(200);
    const byOwner = await act(id, 'approve', owner.token, { as: 'owner' });
    expect(byOwner.status, byOwner.text).toBe(200);
    expect((await b.api('POST', `/api/v1/peer-transfers/${id}/answer`, { token: bAdmin.token, body: { decision: 'accepted' } })).status).toBe(200);
    // The members' notice: the mail server takes it; the objector objects before the freeze.
    await deliverAllMail(a, smtp);
    const objected = await act(id, 'object', objector.token);
    expect(objected.status, objected.text).toBe(200);
    expect(await advanceTransfer(execA, id)).toMatchObject({ state: 'copying', waiting: 'peer' });
    await deliverDueMessages(peerDeps(b)); // B pulls, verifies and creates the tenancy with its members
    expect(await advanceTransfer(execA, id)).toMatchObject({ state: 'verifying', waiting: 'peer' });
    await deliverDueMessages(peerDeps(b)); // B signs the receipt; A countersigns and stores it
    expect((await advanceTransfer(execA, id)).state).toBe('completed');
    await deliverDueMessages(peerDeps(a)); // the receipt signed by both, back to B
    expect((await a.api('GET', `/api/v1/peer-transfers/${id}/receipt`)).status).toBe(200);
    expect((await b.api('GET', `/api/v1/peer-transfers/${id}`, { token: bAdmin.token })).json.state).toBe('completed');
    expect((await b.api('GET', `/api/v1/peer-transfers/${id}/receipt`, { token: bAdmin.token })).status).toBe(200);
    const [atA] = await a.database.db.select({ state: tenancies.state }).from(tenancies).where(eq(tenancies.id, t.id));
    expect(atA!.state).toBe('moved');
    const [atB] = await b.database.db.select({ state: tenancies.state, coopId: tenancies.coopId }).from(tenancies).where(eq(tenancies.id, t.id));
    expect(atB).toEqual({ state: 'active', coopId: quebec.id });
    // The accounts B made, by address: one each, in the Québec co-op, no platform admin, with the membership.
    for (const [who, role, key] of [[owner, 'owner', 'owner'], [member, 'member', 'member']] as const) {
      const found = await accountsAtB(who.email);
      expect(found, who.email).toHaveLength(1);
      expect(found[0]).toMatchObject({ coopId: quebec.id, platformAdmin: false, suspendedAt: null });
      expect(found[0]!.id).not.toBe(who.accountId); // B's own account, not A's id
      const held = await b.database.db.select().from(memberships).where(eq(memberships.accountId, found[0]!.id));
      expect(held.map((m) => [m.tenancyId, m.role])).toEqual([[t.id, role]]);
      arrived[key] = found[0]!.id;
    }
    // Nobody has signed in through A yet: B links no identity of A's.
    expect(await b.database.db.select().from(accountIdentities).where(eq(accountIdentities.issuer, a.issuer))).toEqual([]);
    // The objector was left out: no account at B, not among the tenancy's members there.
    expect(await accountsAtB(objector.email)).toEqual([]);
    expect((await membersAtB(t.id)).map((m) => m.email).sort()).toEqual([owner.email, member.email].map((e) => e.toLowerCase()).sort());
  }, 120_000);

  it("B names A as the provider of its Québec co-op, and a front end of that co-op offers it", async () => {
    const upstream = await b.api('POST', '/api/v1/upstreams', { body: { coop: quebec.slug, displayName: PROVIDER, federationEntity: A.entityId } });
    expect(upstream.status, upstream.text).toBe(201);
    expect(upstream.json).toMatchObject({ issuer: a.issuer, clientId: B.entityId, authMethod: 'private_key_jwt', federationEntity: A.entityId });
    const web = await registerClient(b, { name: 'Érable Greenlight', coop: quebec.id, kind: 'web', redirectUris: [`${rp.url}/cb`] });
    config = await discover(b, web.clientId, web.clientSecret!);
  });

  it('the member signs in at B with their A login and lands in the account the arrival made, still a member of the moved tenancy', async () => {
    const result = await loginThroughA(member);
    expect(result).toEqual({ status: 'signed in', sub: arrived.member, email: member.email.toLowerCase() });
    // B linked A's identity of the member (A's issuer, A's account id) to that account, and to no other.
    expect(await linkedAtB(member.accountId)).toBe(arrived.member);
    // One account with the address at B: none was made at the log-in.
    expect((await accountsAtB(member.email)).map((x) => x.id)).toEqual([arrived.member]);
    const mine = (await membersAtB(tenancyId)).find((m) => m.email === member.email.toLowerCase());
    expect(mine).toMatchObject({ accountId: arrived.member, role: 'member' });
    // Signing in again is recognised by the link: the same account.
    expect(await loginThroughA(member)).toMatchObject({ status: 'signed in', sub: arrived.member });
  }, 120_000);

  it('so does the owner: the arrival account, owner of the moved tenancy at B', async () => {
    const result = await loginThroughA(owner);
    expect(result).toEqual({ status: 'signed in', sub: arrived.owner, email: owner.email.toLowerCase() });
    expect(await linkedAtB(owner.accountId)).toBe(arrived.owner);
    expect((await accountsAtB(owner.email)).map((x) => x.id)).toEqual([arrived.owner]);
    const mine = (await membersAtB(tenancyId)).find((m) => m.email === owner.email.toLowerCase());
    expect(mine).toMatchObject({ accountId: arrived.owner, role: 'owner' });
  }, 120_000);

  it('the objector, whom the arrival did not create, signs in through A to a new account of the co-op that is no member of the moved tenancy', async () => {
    const result = await loginThroughA(objector);
    expect(result).toMatchObject({ status: 'signed in', email: objector.email.toLowerCase() });
    const sub = (result as { sub: string }).sub;
    expect([arrived.owner, arrived.member]).not.toContain(sub);
    expect(await linkedAtB(objector.accountId)).toBe(sub);
    const made = await accountsAtB(objector.email);
    expect(made.map((x) => x.id)).toEqual([sub]);
    expect(made[0]).toMatchObject({ coopId: quebec.id, platformAdmin: false });
    expect(await b.database.db.select().from(memberships).where(eq(memberships.accountId, sub))).toEqual([]);
    const members = await membersAtB(tenancyId);
    expect(members.map((m) => m.accountId).sort()).toEqual([arrived.owner, arrived.member].sort());
    expect(members.map((m) => m.email)).not.toContain(objector.email.toLowerCase());
  }, 120_000);
});
