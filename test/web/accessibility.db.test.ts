// Every kind of page a person sees (start page, sign-on, /me and its data
// pages, a transfer page and its objection step, the audit log, the setup
// page) passes axe-core with no serious or critical violation, and is usable
// on a 360 px wide phone: nothing wider than the screen. In Debian's chromium.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { sql } from 'drizzle-orm';
import { launchBrowser } from '../support/browser.js';
import { seriousViolations, scrollWidth } from '../support/axe.js';
import { createCluster, createCoop, createTenancy } from '../support/fixtures.js';
import { makePlatformAdmin, memberWithPassword, startSsoServer } from '../oidc/helpers.js';
import { createTransfer } from '../../server/transfers/service.js';
import { LOCAL_OPERATOR } from '../../server/auth/principal.js';
import { uuidv7 } from '../../server/ids.js';

let s: Awaited<ReturnType<typeof startSsoServer>>;
let browser: Browser;
let member: Awaited<ReturnType<typeof memberWithPassword>>;
let admin: Awaited<ReturnType<typeof memberWithPassword>>;
let transferId: string;

beforeAll(async () => {
  s = await startSsoServer();
  browser = await launchBrowser();
  member = await memberWithPassword(s);
  admin = await memberWithPassword(s, { coop: member.coop });
  await makePlatformAdmin(s, admin.accountId);
  const cluster = await createCluster(s, member.coop);
  const tenancy = await createTenancy(s, member.coop, cluster.id, { name: 'Riverside Primary School, Year 6 and the after-school robotics club' });
  await s.api('PUT', `/api/v1/tenancies/${tenancy.id}/members/${member.accountId}`, { body: { role: 'member' } });
  // Setup shortcut: an inventory as a refresh leaves it (inventory tests cover the refresh), with long names and URLs.
  const long = 'https://bbb.north.example/playback/presentation/2.3/' + 'a1b2c3d4e5f6'.repeat(8);
  await s.database.db.execute(sql`insert into rooms (id, tenancy_id, meeting_id, name) values (${uuidv7()}, ${tenancy.id}, ${'meeting-' + 'x'.repeat(60)}, 'Year 6 maths')`);
  await s.database.db.execute(
    sql`insert into recordings (id, tenancy_id, record_id, meeting_id, name, state, published, start_time, formats, metadata) values (${uuidv7()}, ${tenancy.id}, ${'r'.repeat(54)}, 'm1', 'Fractions, part 2', 'published', true, now(), ${JSON.stringify([{ type: 'presentation', url: long, length: 40, processingTime: 1 }])}::jsonb, '{}'::jsonb)`,
  );
  const target = await createCoop(s, { name: 'Coopérative des Salles Virtuelles du Québec', jurisdiction: 'CA', legalRegime: 'other' });
  const targetCluster = await createCluster(s, target.id, { country: 'CA' });
  const t = await createTransfer(s.database.db, { ...LOCAL_OPERATOR, accountId: admin.accountId, via: 'pat' }, {
    tenancyId: tenancy.id,
    targetCoopId: target.id,
    targetClusterId: targetCluster.id,
    evidence: { dpfListed: false, pipedaSubject: true, sccsDocuments: [], impactAssessment: null, claimedBasis: 'adequacy' },
    noticeDays: 30,
  });
  transferId = t.id;
  await s.database.db.execute(sql`update transfers set state = 'notice', notice_sent_at = now() where id = ${t.id}`);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await s?.stop();
});

async function signedIn(who: { email: string; password: string }, path: string): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 360, height: 740 } })).newPage();
  await page.goto(`${s.url}/me/login?next=${encodeURIComponent(path)}`);
  await page.getByLabel('E-mail address').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.waitForURL(`${s.url}${path}`);
  return page;
}

/** Both checks of the page shown now, named for the failure message. */
async function check(page: Page, kind: string, report: Record<string, unknown>) {
  const problems = await seriousViolations(page);
  const width = await scrollWidth(page);
  if (problems.length || width > 360) report[kind] = { problems, width };
}

describe('every page kind, with axe-core and at 360 px', () => {
  it('has no serious or critical accessibility violation and no sideways scrolling', async () => {
    const report: Record<string, unknown> = {};
    const anon = await (await browser.newContext({ viewport: { width: 360, height: 740 } })).newPage();
    await anon.goto(`${s.url}/`);
    await check(anon, 'start page', report);
    await anon.goto(`${s.url}/setup`);
    await check(anon, 'setup page', report);
    await anon.goto(`${s.url}/me`);
    await anon.getByLabel('E-mail address').waitFor();
    await check(anon, 'sign-on (log in)', report);
    await anon.getByLabel('E-mail address').fill(member.email);
    await anon.getByLabel('Password').fill('wrong password, on purpose');
    await anon.getByRole('button', { name: 'Log in', exact: true }).click();
    await anon.getByRole('alert').waitFor();
    await check(anon, 'sign-on (error)', report);

    const page = await signedIn(member, '/me');
    expect(await page.getByRole('heading', { name: 'Your account' }).count()).toBe(1);
    await check(page, '/me', report);
    await page.goto(`${s.url}/me/transfers/${transferId}`);
    await check(page, 'transfer page', report);
    await page.getByRole('button', { name: 'I object' }).click();
    await page.getByRole('heading', { name: 'Object to this transfer?' }).waitFor();
    await check(page, 'objection confirmation', report);
    await page.goto(`${s.url}/me/exports`);
    await check(page, '/me/exports', report);
    await page.goto(`${s.url}/me/data`);
    await check(page, '/me/data', report);

    const audit = await signedIn(admin, '/audit');
    expect(await audit.getByRole('heading', { level: 1 }).textContent()).toBe('Audit log');
    await check(audit, '/audit', report);
    await audit.locator('main table a').first().click();
    await audit.waitForURL(/\/audit\/entries\//);
    await check(audit, '/audit entry', report);
    await audit.goto(`${s.url}/me/logged-out`);
    await check(audit, 'logged out', report);

    expect(report).toEqual({});
  }, 120_000);
});
