// The target co-op's admin follows a hand-over on its page, signed in through
// the shared sign-on: the waves, each tenancy's answer and state, a tenancy
// that failed and why, and the task that blocks the cut-over. Someone of
// neither co-op sees no such hand-over. A tenancy's owner answers on their own
// page (the link in their mail): accepting approves their tenancy's transfer,
// which starts its notice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { coopAdminWithToken, createCluster, createCoop, createTenancy } from '../support/fixtures.js';
import { memberWithPassword, startSsoServer } from '../oidc/helpers.js';
import { startBbbPair, type BbbPair } from '../support/bbb/pair.js';
import { pollClusters } from '../../server/clusters/health.js';
import { SecretBox } from '../../server/crypto/secretbox.js';

let s: Awaited<ReturnType<typeof startSsoServer>>;
let browser: Browser;
let viewer: Awaited<ReturnType<typeof memberWithPassword>>;
let outsider: Awaited<ReturnType<typeof memberWithPassword>>;
let id: string;
let peers: BbbPair;
let owner: Awaited<ReturnType<typeof memberWithPassword>>;
let ownerPage: string;
let ownedTransfer: string;

const iso = (ms: number) => new Date(Date.now() + ms).toISOString();

async function act(path: string, token: string, body?: unknown) {
  const etag = (await s.api('GET', `/api/v1/handovers/${id}`)).headers.get('etag')!;
  return s.api('POST', `/api/v1/handovers/${id}/${path}`, { token, body, headers: { 'if-match': etag } });
}

beforeAll(async () => {
  s = await startSsoServer({ TRANSFER_MIN_NOTICE_DAYS: '0', WORKER: 'off' });
  browser = await launchBrowser();
  const old = await createCoop(s, { name: 'Old Co-op' });
  const neu = await createCoop(s, { name: 'Harbour Co-op' });
  const s1 = await createCluster(s, old.id);
  // Never polled: the data-protection rules refuse a move to a cluster not known to be online.
  await createCluster(s, neu.id);
  await createTenancy(s, old.id, s1.id, { name: 'Riverside School' });
  const src = await coopAdminWithToken(s, old.id);
  const dst = await coopAdminWithToken(s, neu.id);
  viewer = await memberWithPassword(s, { coop: neu.id });
  outsider = await memberWithPassword(s);
  const [root] = (await s.api('GET', '/api/v1/grants?active=true')).json.items;
  const granted = await s.api('POST', '/api/v1/grants', {
    body: { from: root.id, account: viewer.accountId, role: 'coop_admin', scope: { type: 'coop', id: neu.id }, expiresAt: iso(86_400_000), reason: 'runs the new co-op' },
  });
  expect(granted.status, granted.text).toBe(201);
  const created = await s.api('POST', '/api/v1/handovers', {
    token: src.token,
    body: {
      name: 'Old Co-op joins Harbour',
      sourceCoop: old.id,
      targetCoop: neu.id,
      noticeDays: 0,
      announceAt: iso(0),
      waves: [{ freezeFrom: iso(3_600_000), freezeUntil: iso(7_200_000), concurrency: 3 }],
      cutoverAt: iso(7_200_000),
      decommissionAt: iso(20 * 3_600_000),
    },
  });
  expect(created.status, created.text).toBe(201);
  id = created.json.id;
  await act('approve', src.token, { as: 'source_admin' });
  expect((await act('approve', dst.token, { as: 'target_admin' })).json.state).toBe('approved');
  await s.api('POST', `/api/v1/handovers/${id}/tasks`, { token: dst.token, body: { title: 'DNS and TLS for the gateway host', blocking: true } });

  // A second plan, to a cluster that answers its health polls: its tenancy's transfer waits for the owner.
  peers = await startBbbPair({ source: 'src-secret-0123456789', target: 'dst-secret-0123456789' });
  const s2 = await createCluster(s, old.id);
  const t2 = await createCluster(s, neu.id, { apiUrl: peers.target.url, secret: 'dst-secret-0123456789' });
  await pollClusters(s.database.db, new SecretBox(Buffer.from(s.masterKey, 'base64')), { outbound: s.outbound });
  const hillside = await createTenancy(s, old.id, s2.id, { name: 'Hillside School' });
  owner = await memberWithPassword(s, { coop: old.id });
  await s.api('PUT', `/api/v1/tenancies/${hillside.id}/members/${owner.accountId}`, { body: { role: 'owner' } });
  const second = await s.api('POST', '/api/v1/handovers', {
    token: src.token,
    body: {
      name: 'Hillside too',
      sourceCoop: old.id,
      targetCoop: neu.id,
      clusters: [{ cluster: s2.id, mode: 'data-move', targetCluster: t2.id }],
      noticeDays: 0,
      announceAt: iso(0),
      waves: [{ freezeFrom: iso(3_600_000), freezeUntil: iso(7_200_000), concurrency: 1 }, { freezeFrom: iso(7_200_000), freezeUntil: iso(9_000_000), concurrency: 1 }],
      cutoverAt: iso(9_000_000),
      decommissionAt: iso(20 * 3_600_000),
      agreement: { documentSha256: 'c'.repeat(64), signedOn: '2026-01-01' },
    },
  });
  expect(second.status, second.text).toBe(201);
  const approve = async (who: { token: string }, as: string) => {
    const etag = (await s.api('GET', `/api/v1/handovers/${second.json.id}`)).headers.get('etag')!;
    return s.api('POST', `/api/v1/handovers/${second.json.id}/approve`, { token: who.token, body: { as }, headers: { 'if-match': etag } });
  };
  await approve(src, 'source_admin');
  expect((await approve(dst, 'target_admin')).json.state).toBe('approved');
  ownedTransfer = (await s.api('GET', `/api/v1/handovers/${second.json.id}/status`)).json.tenancies[0].transferId;
  expect((await s.api('GET', `/api/v1/transfers/${ownedTransfer}`)).json.state).toBe('checked');
  ownerPage = `/me/handovers/${second.json.id}/tenancies/${hillside.id}`;
}, 120_000);

afterAll(async () => {
  await peers?.close();
  await browser?.close();
  await s?.stop();
});

async function visit(who: { email: string; password: string }, path = `/me/handovers/${id}`): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${s.url}${path}`);
  await page.getByLabel('E-mail address').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.waitForURL(`${s.url}${path}`);
  return page;
}

describe('the hand-over page', () => {
  it("shows the target co-op's admin the waves, the tenancies, a failure with its reason and the task blocking the cut-over", async () => {
    const page = await visit(viewer);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Old Co-op joins Harbour');
    const main = (await page.locator('main').textContent())!;
    expect(main).toContain('Harbour Co-op');
    expect(main).toContain('approved');
    const failures = page.locator('h2:has-text("Failures") + ul li');
    expect(await failures.count()).toBe(1);
    expect(await failures.first().textContent()).toMatch(/^Riverside School: the data-protection rules refused it/);
    expect(await page.locator('h2:has-text("Open tasks") + ul li').first().textContent()).toBe('Blocks the cut-over: DNS and TLS for the gateway host (open)');
    const row = page.locator('h2:has-text("Tenancies") + table tbody tr').first();
    expect((await row.locator('td').allTextContents())).toEqual(['Riverside School', '1', 'pending', 'failed', 'rejected']);
    expect(await page.getByRole('progressbar', { name: 'wave 1 copied' }).count()).toBe(1);
  });

  it('gives the operations guide as a page, with what people typed shown as text', async () => {
    const added = await s.api('POST', `/api/v1/handovers/${id}/tasks`, { body: { title: 'Move <b>monitoring</b> & alerts' } });
    expect(added.status, added.text).toBe(201);
    const page = await visit(viewer);
    await page.getByRole('link', { name: "The platform's operations guide" }).click();
    await page.waitForURL(`${s.url}/me/handovers/${id}/guide`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Operations guide: Old Co-op joins Harbour');
    for (const section of ['Contacts', 'Clusters', 'Waves', 'Where secrets live, and how to rotate them', 'Checklist'])
      expect(await page.getByRole('heading', { level: 2, name: section }).count(), section).toBe(1);
    expect(await page.locator('h2:has-text("Clusters") + table th').first().textContent()).toBe('cluster');
    const checklist = page.locator('h2:has-text("Checklist") + ul li');
    expect(await checklist.allTextContents()).toContainEqual(expect.stringContaining('Move <b>monitoring</b> & alerts'));
    expect(await page.locator('main b').count()).toBe(0);
    expect(await (await visit(outsider, `/me/handovers/${id}/guide`)).getByRole('heading', { level: 1 }).textContent()).toBe('No such hand-over');
  });

  it('answers someone of neither co-op as if there were no such hand-over', async () => {
    const page = await visit(outsider);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('No such hand-over');
    expect(await page.locator('main').textContent()).not.toContain('Riverside School');
  });

  it("shows the owner's page in their browser's language, and in the tenancy's when the browser asks for none of ours", async () => {
    const page = await visit(owner, ownerPage);
    await page.setExtraHTTPHeaders({ 'accept-language': 'fr-CA,fr;q=0.9,en;q=0.5' });
    await page.reload();
    expect(await page.locator('html').getAttribute('lang')).toBe('fr');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Hillside School dans le transfert de plateforme vers Harbour Co-op');
    expect(await page.getByRole('button', { name: 'Accepter le déménagement' }).count()).toBe(1);
    // A browser that asks only for Italian: the tenancy's own language (German here), not English.
    const hillside = (await s.api('GET', `/api/v1/tenancies/${ownerPage.split('/').at(-1)}`));
    expect((await s.api('PATCH', `/api/v1/tenancies/${hillside.json.id}`, { body: { language: 'de' }, headers: { 'if-match': hillside.headers.get('etag')! } })).status).toBe(200);
    await page.setExtraHTTPHeaders({ 'accept-language': 'it' });
    await page.reload();
    expect(await page.locator('html').getAttribute('lang')).toBe('de');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Hillside School in der Plattformübergabe an Harbour Co-op');
    expect(await page.locator('main').textContent()).toContain('Ihre Antwort');
    await page.context().close();
  });

  it("lets the tenancy's owner accept the move on their page: their approval starts the notice", async () => {
    expect((await (await visit(outsider, ownerPage)).getByRole('heading', { level: 1 }).textContent())).toBe('No such tenancy in a hand-over');
    const page = await visit(owner, ownerPage);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Hillside School in the hand-over to Harbour Co-op');
    await page.getByRole('button', { name: 'Accept the move' }).click();
    await page.waitForURL(/done=accept/);
    expect(await page.getByRole('status').textContent()).toBe('Your answer is recorded.');
    expect(await page.locator('main').textContent()).toContain('There is nothing to answer now');
    const t = (await s.api('GET', `/api/v1/transfers/${ownedTransfer}`)).json;
    expect(t.state).toBe('notice');
    expect(t.approvals.map((a: { role: string; accountId: string }) => [a.role, a.accountId]).find((a: string[]) => a[0] === 'owner')).toEqual(['owner', owner.accountId]);
  });
});
