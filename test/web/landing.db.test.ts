// GET / is a page saying what this instance is and where to go (it answered a
// JSON 404); the header link of every page leads there. In Debian's chromium.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/server.js';
import { launchBrowser } from '../support/browser.js';

let s: TestServer;
let browser: Browser;
beforeAll(async () => {
  s = await startTestServer();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await s?.stop();
});

describe('the start page', () => {
  it('says what the instance is, offers sign-in and links that work, and every page header leads back to it', async () => {
    const res = await fetch(`${s.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");

    const page = await browser.newPage();
    await page.goto(`${s.url}/`);
    // Named by its PUBLIC_URL (the test server's is the default, localhost:PORT).
    const host = 'localhost:0';
    expect(await page.title()).toBe(`meetplane at ${host} · meetplane`);
    expect(await page.locator('h1').textContent()).toBe(`meetplane at ${host}`);
    expect(await page.locator('main p').first().textContent()).toMatch(/co-operatives that host BigBlueButton/);
    // The test server has its platform admin: no setup notice.
    expect(await page.getByText('no platform admin yet').count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Sign in' }).getAttribute('href')).toBe('/me/login?next=%2Fme');
    const links = page.locator('main a');
    const hrefs: string[] = [];
    for (let i = 0; i < (await links.count()); i++) hrefs.push((await links.nth(i).getAttribute('href'))!);
    expect(hrefs).toEqual(expect.arrayContaining(['/me', '/audit', '/api/v1/openapi.json', '/oidc/.well-known/openid-configuration']));
    // No dead link: each answers, or sends a stranger to sign in.
    for (const href of hrefs) {
      const r = await fetch(s.url + href, { redirect: 'manual' });
      expect([200, 302, 303], href).toContain(r.status);
    }

    // From the auditors' sign-in page, the header's name leads back.
    await page.getByRole('link', { name: 'The audit log' }).click();
    await page.waitForURL(`${s.url}/audit/login`);
    await page.getByRole('banner').getByRole('link', { name: 'meetplane' }).click();
    await page.waitForURL(`${s.url}/`);
    expect(await page.locator('h1').textContent()).toBe(`meetplane at ${host}`);
    await page.close();
  }, 60_000);
});
