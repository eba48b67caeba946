// The auditor's pages in a real browser: sign in, browse and filter entries,
// follow a subject, read an entry's proof status and download its bundle,
// which then verifies offline with the pinned key.
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

  it('signs out', async () => {
    await page.getByRole('link', { name: 'Sign out' }).click();
    await page.goto(`${s.url}/audit`);
    expect(new URL(page.url()).pathname).toBe('/audit/login');
  });
});
