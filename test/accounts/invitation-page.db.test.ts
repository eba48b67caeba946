// The invited person answers on their own page: a real browser (Debian's
// chromium) signs in to /me as another co-op's account, sees the invitations
// a co-op admin sent, accepts one and declines the other. Only the accepted
// one makes them a member; someone else's invitation cannot be answered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { coopAdminWithToken, createCluster, createCoop, createTenancy } from '../support/fixtures.js';
import { memberWithPassword, startSsoServer } from '../oidc/helpers.js';

let s: Awaited<ReturnType<typeof startSsoServer>>;
let browser: Browser;
let admin: { accountId: string; token: string };
let invitee: Awaited<ReturnType<typeof memberWithPassword>>;
let bystander: Awaited<ReturnType<typeof memberWithPassword>>;
let school: { id: string; slug: string };
let library: { id: string; slug: string };

async function invite(tenancy: string, email: string, role = 'member'): Promise<string> {
  const res = await s.api('POST', `/api/v1/tenancies/${tenancy}/member-invitations`, { token: admin.token, body: { email, role } });
  if (res.status !== 202) throw new Error(`invite: ${res.status} ${res.text}`);
  return res.json.id;
}

const members = async (tenancy: string) => (await s.api('GET', `/api/v1/tenancies/${tenancy}/members`)).json.items.map((m: { accountId: string }) => m.accountId);

beforeAll(async () => {
  s = await startSsoServer();
  browser = await launchBrowser();
  const north = await createCoop(s, { name: 'North Co-op' });
  const cluster = await createCluster(s, north.id);
  school = await createTenancy(s, north.id, cluster.id, { name: 'Riverside School' });
  library = await createTenancy(s, north.id, cluster.id, { name: 'Town Library' });
  admin = await coopAdminWithToken(s, north.id);
  invitee = await memberWithPassword(s); // of another co-op
  bystander = await memberWithPassword(s);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await s?.stop();
});

describe('invitations on the member page', () => {
  it('lists the invitations; Accept makes the person a member, Decline does not', async () => {
    const toSchool = await invite(school.id, invitee.email, 'admin');
    const toLibrary = await invite(library.id, invitee.email);
    const notTheirs = await invite(school.id, bystander.email);

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(s.url + '/me');
    await page.getByLabel('E-mail address').fill(invitee.email);
    await page.getByLabel('Password').fill(invitee.password);
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await page.waitForURL(`${s.url}/me`);

    expect(await page.getByRole('heading', { name: 'Invitations' }).count()).toBe(1);
    const section = page.locator('section[aria-labelledby="invitations"]');
    const text = await section.textContent();
    expect(text).toContain('Riverside School');
    expect(text).toContain('Town Library');
    expect(text).toContain('hosted by North Co-op');
    expect(await section.locator('li').count()).toBe(2);
    expect(await page.textContent('main')).toContain('You do not belong to any tenancy yet.');

    // The tenancies on /me, each a card: its name and the line with its host and the member's role.
    const tenancyCards = async () =>
      Promise.all(
        (await page.locator('section[aria-labelledby="tenancies"] section.panel').all()).map(async (card) => ({
          name: (await card.locator('h3').textContent())!,
          line: (await card.locator('p.muted').first().textContent())!,
        })),
      );
    await page.getByRole('button', { name: 'Accept the invitation to Riverside School' }).click();
    await page.waitForURL(`${s.url}/me`);
    expect(await tenancyCards()).toEqual([{ name: 'Riverside School', line: expect.stringContaining('your role: Admin') }]);
    await page.getByRole('button', { name: 'Decline the invitation to Town Library' }).click();
    await page.waitForURL(`${s.url}/me`);
    expect(await section.textContent()).toContain('No invitations are waiting for your answer.');
    expect(await tenancyCards()).toEqual([{ name: 'Riverside School', line: expect.stringContaining('your role: Admin') }]);

    expect(await members(school.id)).toContain(invitee.accountId);
    expect(await members(library.id)).not.toContain(invitee.accountId);
    const listed = (await s.api('GET', `/api/v1/tenancies/${school.id}/member-invitations`, { token: admin.token })).json.items;
    expect(listed.find((i: { id: string }) => i.id === toSchool).state).toBe('accepted');
    const libraryList = (await s.api('GET', `/api/v1/tenancies/${library.id}/member-invitations`, { token: admin.token })).json.items;
    expect(libraryList.find((i: { id: string }) => i.id === toLibrary).state).toBe('declined');

    // Someone else's invitation, with this session's own CSRF token: it does not exist for them.
    const csrf = await page.locator('input[name="csrf"]').first().inputValue();
    const foreign = await context.request.post(`${s.url}/me/invitations/${notTheirs}`, { form: { csrf, answer: 'accept' }, maxRedirects: 0 });
    expect(foreign.status()).toBe(404);
    // An answered invitation cannot be answered again.
    const again = await context.request.post(`${s.url}/me/invitations/${toLibrary}`, { form: { csrf, answer: 'accept' }, maxRedirects: 0 });
    expect(again.status()).toBe(409);
    expect(await members(library.id)).not.toContain(invitee.accountId);
    await context.close();
  });

  it('refuses an answer without the session CSRF token, and a visitor who is not signed in', async () => {
    const pending = await invite(library.id, bystander.email);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(s.url + '/me');
    await page.getByLabel('E-mail address').fill(bystander.email);
    await page.getByLabel('Password').fill(bystander.password);
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await page.waitForURL(`${s.url}/me`);
    const forged = await context.request.post(`${s.url}/me/invitations/${pending}`, { form: { csrf: 'forged', answer: 'accept' }, maxRedirects: 0 });
    expect(forged.status()).toBe(403);
    const anonymous = await fetch(`${s.url}/me/invitations/${pending}`, { method: 'POST', body: new URLSearchParams({ answer: 'accept' }), redirect: 'manual' });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toMatch(/^\/me\/login/);
    expect(await members(library.id)).not.toContain(bystander.accountId);
    await context.close();
  });
});
