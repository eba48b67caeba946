// The auditor's pages in a real browser: sign in, browse and filter entries,
// follow a subject, read an entry's proof status and download its bundle,
// which then verifies offline with the pinned key; sign out by the page's
// form only (a GET or a cross-site post ends nothing). All of it under the
// pages' Content-Security-Policy, with no violation reported.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { launchBrowser } from '../support/browser.js';
import { verifyBundle, type Bundle } from '../../cli/audit/verifier.js';

let s: TestServer;
let browser: Browser;
let page: Page;
let tenancyId: string;
const violations: string[] = [];

beforeAll(async () => {
  s = await startTestServer();
  const coop = await createCoop(s);
  const cluster = await createCluster(s, coop.id);
  const t = await createTenancy(s, coop.id, cluster.id);
  tenancyId = t.id;
  const etag = (await s.api('GET', `/api/v1/tenancies/${t.id}`)).headers.get('etag')!;
  await s.api('PATCH', `/api/v1/tenancies/${t.id}`, { body: { retentionDays: 30 }, headers: { 'if-match': etag } });
  browser = await launchBrowser();
  page = await (await browser.newContext({ acceptDownloads: true })).newPage();
  page.on('console', (m) => {
    if (/Content[- ]Security[- ]Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
});

afterAll(async () => {
  await browser?.close();
  await s?.stop();
});

describe('auditor pages', () => {
  it('asks for sign-in, refuses a non-auditor token, and accepts an auditor', async () => {
    await page.goto(`${s.url}/audit`);
    expect(new URL(page.url()).pathname).toBe('/audit/login');
    const member = await memberWithToken(s, (await createCoop(s)).id);
    await page.getByLabel('Access token').fill(member.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('not valid for auditors');

    await page.getByLabel('Access token').fill(s.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${s.url}/audit`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Audit log');
    expect(await page.locator('tbody tr').count()).toBeGreaterThanOrEqual(5);
  });

  it('filters by action', async () => {
    await page.getByLabel('Action').fill('tenancy.update');
    await page.getByRole('button', { name: 'Show' }).click();
    const rows = page.locator('tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('tenancy.update');
  });

  it('shows every entry about one subject together', async () => {
    await page.getByRole('link', { name: /^tenancy / }).first().click();
    expect(decodeURIComponent(new URL(page.url()).pathname)).toBe(`/audit/subjects/tenancy/${tenancyId}`);
    const actions = await page.locator('tbody tr td:nth-child(3)').allTextContents();
    expect(actions).toEqual(['tenancy.create', 'tenancy.update']);
  });

  it('shows an entry as included in the signed tree and downloads a bundle that verifies offline', async () => {
    await page.getByRole('link', { name: /^\d+$/ }).last().click();
    expect(await page.getByRole('status').textContent()).toMatch(/^Included in the signed tree of size \d+\.$/);
    await page.screenshot({ path: '/tmp/meetplane-audit-entry.png', fullPage: true });
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download the offline bundle' }).click()]);
    const bundle = JSON.parse(readFileSync((await download.path())!, 'utf8')) as Bundle;
    const vkey = (await s.api('GET', '/api/v1/audit/key')).text.trim();
    const cp = verifyBundle(bundle, vkey);
    expect(cp.size).toBe(bundle.proof.treeSize);
    expect(JSON.parse(Buffer.from(bundle.entry, 'base64').toString()).action).toBe('tenancy.update');
  });

  it('does not sign out on a GET of the old sign-out link', async () => {
    await page.goto(`${s.url}/audit/logout`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign out of the audit pages?');
    await page.goto(`${s.url}/audit`);
    expect(new URL(page.url()).pathname).toBe('/audit');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Audit log');
  });

  it('refuses a sign-out posted from another site or without the form token', async () => {
    const cookie = (await page.context().cookies(`${s.url}/audit`)).find((c) => c.name === 'mp_audit')!;
    const csrf = (await page.locator('nav input[name=csrf]').getAttribute('value'))!;
    expect(csrf).toBeTruthy();
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${s.url}/audit/logout`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: `mp_audit=${cookie.value}`, 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body,
      });
    const attempts: Array<[string, Response]> = [
      ['another site, with the right token', await post({ origin: 'https://evil.example' }, `csrf=${csrf}`)],
      ['an opaque origin', await post({ origin: 'null' }, `csrf=${csrf}`)],
      ['no token', await post({ origin: new URL(s.url).origin }, '')],
      ['no origin and no token', await post({}, '')],
      ['a wrong token', await post({ origin: new URL(s.url).origin }, `csrf=${'A'.repeat(csrf.length)}`)],
    ];
    for (const [what, res] of attempts) {
      expect(res.status, what).toBe(403);
      expect(res.headers.getSetCookie().join('\n'), what).not.toContain('mp_audit=');
    }
    await page.goto(`${s.url}/audit`);
    expect(new URL(page.url()).pathname).toBe('/audit');
  });

  it('signs out with its own form', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${s.url}/audit/login`);
    await page.goto(`${s.url}/audit`);
    expect(new URL(page.url()).pathname).toBe('/audit/login');
    expect(violations).toEqual([]);
  });
});
