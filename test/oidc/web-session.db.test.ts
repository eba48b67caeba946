// Members sign in to meetplane's own pages through meetplane's provider: a real
// browser goes to /me, is sent to the login page, logs in, and lands back on
// /me with its tenancies; log out ends the session; an altered session cookie
// is refused. Platform admins reach the auditor pages with the same session.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { createCluster, createTenancy } from '../support/fixtures.js';
import { makePlatformAdmin, memberWithPassword, startSsoServer } from './helpers.js';

let s: Awaited<ReturnType<typeof startSsoServer>>;
let browser: Browser;
let member: Awaited<ReturnType<typeof memberWithPassword>>;
let tenancies: Array<{ id: string; slug: string }>;

beforeAll(async () => {
  s = await startSsoServer();
  browser = await launchBrowser();
  member = await memberWithPassword(s);
  const cluster = await createCluster(s, member.coop);
  tenancies = [await createTenancy(s, member.coop, cluster.id), await createTenancy(s, member.coop, cluster.id)];
  await s.api('PUT', `/api/v1/tenancies/${tenancies[0]!.id}/members/${member.accountId}`, { body: { role: 'owner' } });
  await s.api('PUT', `/api/v1/tenancies/${tenancies[1]!.id}/members/${member.accountId}`, { body: { role: 'member' } });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await s?.stop();
});

async function logIn(page: Page, email: string, password: string) {
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
}

async function signedIn(who: { email: string; password: string }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(s.url + '/me');
  await logIn(page, who.email, who.password);
  await page.waitForURL(`${s.url}/me`);
  return { context, page };
}

describe('member sessions on meetplane\'s pages', () => {
  it('sends a visitor to the login page and back to /me, which lists the member\'s tenancies and roles', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const first = await page.goto(s.url + '/me');
    // Redirected to meetplane's own login page, for meetplane itself.
    expect(new URL(page.url()).pathname).toMatch(/^\/oidc\/interaction\//);
    expect(first!.status()).toBe(200);
    expect(await page.textContent('main')).toContain('to continue to meetplane');
    await logIn(page, member.email, member.password);
    // No consent screen for meetplane's own pages.
    await page.waitForURL(`${s.url}/me`);
    expect(await page.getByRole('heading', { name: 'Your account' }).count()).toBe(1);
    // One card per tenancy, by name, with its co-op, the member's role and its slug.
    const cards = await page.getByRole('region', { name: 'School' }).evaluateAll((els) => els.map((e) => `${e.textContent!.match(/your role: (\w+)/)![1]} ${e.querySelector('code')!.textContent}`));
    expect(cards.sort()).toEqual([`Owner ${tenancies[0]!.slug}`, `Member ${tenancies[1]!.slug}`].sort());
    expect(await page.textContent('main')).toContain(member.email);

    const cookies = await context.cookies(s.url);
    const session = cookies.find((c) => c.name === 'mp_web')!;
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe('Lax');
    expect(session.secure).toBe(false); // PUBLIC_URL is http here; https sets Secure
    expect(session.expires - Date.now() / 1000).toBeGreaterThan(28_800 - 120);
    expect(session.value).not.toContain(member.accountId); // encrypted, not just signed
    // The login state cookie is gone once used.
    expect(cookies.find((c) => c.name === 'mp_web_login')).toBeUndefined();
    expect(s.logs()).not.toContain(session.value);

    // Log out: the session ends, and so does the sign-on session.
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Yes, log me out' }).click();
    await page.waitForURL(`${s.url}/me/logged-out`);
    expect(await page.getByRole('heading', { name: 'You are logged out' }).count()).toBe(1);
    expect((await context.cookies(s.url)).find((c) => c.name === 'mp_web')).toBeUndefined();
    await page.goto(s.url + '/me');
    expect(await page.getByLabel('Password').count()).toBe(1);
    await context.close();
  });

  it('refuses an altered or foreign session cookie, and a log-out posted from another site', async () => {
    const { context, page } = await signedIn(member);
    const [session] = (await context.cookies(s.url)).filter((c) => c.name === 'mp_web');
    const parts = session!.value.split('.');
    const flip = (t: string) => (t[5] === 'A' ? t.slice(0, 5) + 'B' + t.slice(6) : t.slice(0, 5) + 'A' + t.slice(6));
    for (const forged of [parts.map((p, i) => (i === 3 ? flip(p) : p)).join('.'), parts.map((p, i) => (i === 4 ? flip(p) : p)).join('.'), 'garbage']) {
      const res = await fetch(s.url + '/me', { headers: { cookie: `mp_web=${forged}` }, redirect: 'manual' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/me/login?next=%2Fme');
    }
    // The genuine cookie works without the browser too.
    const ok = await fetch(s.url + '/me', { headers: { cookie: `mp_web=${session!.value}` }, redirect: 'manual' });
    expect(ok.status).toBe(200);
    const cross = await fetch(s.url + '/me/logout', {
      method: 'POST',
      headers: { cookie: `mp_web=${session!.value}`, origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'csrf=x',
      redirect: 'manual',
    });
    expect(cross.status).toBe(403);
    await page.reload();
    expect(await page.getByRole('heading', { name: 'Your account' }).count()).toBe(1);
    await context.close();
  });

  it('brings the member back to the page asked for, never to another site', async () => {
    const res = await fetch(s.url + '/me/login?next=' + encodeURIComponent('//evil.example/x'), { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^\/oidc\/auth\?/);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/mp_web_login=[^;]+; Max-Age=600; Path=\/me; HttpOnly; SameSite=Lax/);
    const callback = await fetch(s.url + '/me/callback?code=x&state=y', { redirect: 'manual' });
    expect(callback.status).toBe(400);
    expect(await callback.text()).toContain('did not start here');
  });

  it('lets a platform admin into the auditor pages with the same session; a member is not an auditor', async () => {
    const admin = await memberWithPassword(s);
    await makePlatformAdmin(s, admin.accountId);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(s.url + '/audit');
    expect(new URL(page.url()).pathname).toBe('/audit/login');
    await page.getByRole('link', { name: 'Sign in with your meetplane account' }).click();
    await logIn(page, admin.email, admin.password);
    await page.waitForURL(`${s.url}/audit`);
    expect(await page.getByRole('heading', { name: 'Audit log' }).count()).toBe(1);
    await context.close();

    const m = await signedIn(member);
    await m.page.goto(s.url + '/audit');
    expect(new URL(m.page.url()).pathname).toBe('/audit/login');
    // The token form still works beside it.
    await m.page.getByLabel('Access token').fill(s.adminToken);
    await m.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await m.page.waitForURL(`${s.url}/audit`);
    expect(await m.page.getByRole('heading', { name: 'Audit log' }).count()).toBe(1);
    await m.context.close();
  });
});
