// A member follows the link in the notice mail, signs in through the shared
// sign-on, reads what moves, where and when, and consents or objects with a
// button; the objection shows up in the transfer's status, the consent in the
// audit log. Someone outside the tenancy sees no such transfer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { eq, sql } from 'drizzle-orm';
import { startNotice } from '../../server/transfers/notice.js';
import { mailOutbox } from '../../server/mail/table.js';
import { launchBrowser } from '../support/browser.js';
import { createCluster, createCoop, createTenancy } from '../support/fixtures.js';
import { memberWithPassword, startSsoServer } from '../oidc/helpers.js';
import { createTransfer, findTransfer } from '../../server/transfers/service.js';
import { createMemberExport } from '../../server/transfers/member-export.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { readFileSync } from 'node:fs';
import { LOCAL_OPERATOR } from '../../server/auth/principal.js';
import { uuidv7 } from '../../server/ids.js';

let s: Awaited<ReturnType<typeof startSsoServer>>;
let browser: Browser;
let member: Awaited<ReturnType<typeof memberWithPassword>>;
let owner: Awaited<ReturnType<typeof memberWithPassword>>;
let outsider: Awaited<ReturnType<typeof memberWithPassword>>;
let transferId: string;

beforeAll(async () => {
  s = await startSsoServer();
  browser = await launchBrowser();
  member = await memberWithPassword(s);
  owner = await memberWithPassword(s, { coop: member.coop });
  outsider = await memberWithPassword(s);
  const tenancy = await createTenancy(s, member.coop, (await createCluster(s, member.coop)).id, { name: 'Riverside School' });
  await s.api('PUT', `/api/v1/tenancies/${tenancy.id}/members/${member.accountId}`, { body: { role: 'member' } });
  await s.api('PUT', `/api/v1/tenancies/${tenancy.id}/members/${owner.accountId}`, { body: { role: 'owner' } });
  // Setup shortcut: the inventory as a refresh leaves it (test/inventory covers the refresh).
  for (const [i, name] of ['Assembly', 'Year 6 maths', 'Staff room', 'Choir'].entries())
    await s.database.db.execute(sql`insert into rooms (id, tenancy_id, meeting_id, name, last_created_at) values (${uuidv7()}, ${tenancy.id}, ${`room-${i}-${tenancy.id}`}, ${name}, ${`2026-11-0${i + 1}T09:00:00Z`})`);
  for (const [i, published] of [true, false].entries())
    await s.database.db.execute(
      sql`insert into recordings (id, tenancy_id, record_id, meeting_id, name, state, published, start_time, formats, metadata) values (${uuidv7()}, ${tenancy.id}, ${`rec-${i}`}, ${`room-1-${tenancy.id}`}, ${published ? 'Fractions, part 2' : 'Draft rehearsal'}, 'published', ${published}, ${`2026-11-1${i}T09:00:00Z`}, ${JSON.stringify([{ type: 'presentation', url: `https://bbb.north.example/playback/presentation/2.3/rec-${i}`, length: 40, processingTime: 1 }])}::jsonb, '{}'::jsonb)`,
    );
  const target = await createCoop(s, { name: 'Harbour Co-op', jurisdiction: 'CA', contactEmail: 'privacy@harbour.example', legalRegime: 'other' });
  const targetCluster = await createCluster(s, target.id, { country: 'CA' });
  const t = await createTransfer(s.database.db, { ...LOCAL_OPERATOR, accountId: owner.accountId, via: 'pat' }, {
    tenancyId: tenancy.id,
    targetCoopId: target.id,
    targetClusterId: targetCluster.id,
    evidence: { dpfListed: false, pipedaSubject: true, sccsDocuments: [], impactAssessment: null, claimedBasis: 'adequacy' },
    noticeDays: 30,
  });
  transferId = t.id;
  // Setup shortcut: the approvals that lead to the notice are tested elsewhere (rest.db.test.ts).
  await s.database.db.execute(sql`update transfers set state = 'notice', notice_sent_at = '2026-11-23T10:00:00Z' where id = ${t.id}`);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await s?.stop();
});

/** The log-in form's words: the sign-on page speaks the browser's language too. */
const LOGIN: Record<string, [string, string, string]> = {
  en: ['E-mail address', 'Password', 'Log in'],
  fr: ['Adresse courriel', 'Mot de passe', 'Se connecter'],
  de: ['E-Mail-Adresse', 'Passwort', 'Anmelden'],
};

async function visit(who: { email: string; password: string }, path = `/me/transfers/${transferId}`, locale?: string): Promise<Page> {
  const page = await (await browser.newContext(locale ? { locale } : {})).newPage();
  await page.goto(`${s.url}${path}`);
  const [email, password, logIn] = LOGIN[locale?.slice(0, 2) ?? 'en']!;
  await page.getByLabel(email).fill(who.email);
  await page.getByLabel(password).fill(who.password);
  await page.getByRole('button', { name: logIn, exact: true }).click();
  await page.waitForURL(`${s.url}${path}`);
  return page;
}

describe('/me', () => {
  it('shows the member their tenancy by name and co-op, its rooms and recordings, the transfer under way with its date, and a link to it', async () => {
    const page = await visit(member, '/me');
    const card = page.getByRole('region', { name: 'Riverside School' });
    expect(await card.textContent()).toContain('Hosted by North Co-op · your role: Member');
    expect(await card.textContent()).toContain('4 rooms, latest used:');
    // The three latest, newest first; the oldest one is only counted.
    expect(await card.locator('ul').first().locator('li').allTextContents()).toEqual([expect.stringMatching(/^Choir /), expect.stringMatching(/^Staff room /), expect.stringMatching(/^Year 6 maths /)]);
    expect(await card.textContent()).toContain('2 recordings, latest:');
    expect(await card.getByRole('link', { name: 'Fractions, part 2' }).getAttribute('href')).toBe('https://bbb.north.example/playback/presentation/2.3/rec-0');
    expect(await card.getByRole('link', { name: 'Draft rehearsal' }).count()).toBe(0); // not published: no link
    const note = card.getByRole('note');
    expect(await note.textContent()).toContain('Moving to Harbour Co-op: the transfer is announced; it takes effect (the tenancy freezes) not before Wed, 23 Dec 2026 10:00:00 GMT');
    await note.getByRole('link', { name: 'What moves, your rights and your answer' }).click();
    await page.waitForURL(`${s.url}/me/transfers/${transferId}`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Riverside School is moving to Harbour Co-op');
  });
});

describe('the member page of a transfer', () => {
  it('tells a member what they are owed before their data moves (Art. 13/14)', async () => {
    const page = await visit(member);
    const section = async (name: string) => (await page.getByRole('region', { name }).textContent())!.replace(/\s+/g, ' ');
    // The new host: legal name, country, contact.
    const host = await section('The new host');
    expect(host).toContain('Legal nameHarbour Co-op');
    expect(host).toContain('CountryCanada (CA)');
    expect(await page.getByRole('region', { name: 'The new host' }).getByRole('link', { name: 'privacy@harbour.example' }).getAttribute('href')).toBe('mailto:privacy@harbour.example');
    // The legal basis, by name and reference, from the jurisdiction registry.
    const basis = await section('The legal basis for the move');
    expect(basis).toContain('adequacy decision Commission Decision 2002/2/EC');
    expect(basis).toContain('It covers organisations subject to PIPEDA; the new host is.');
    // What moves and what does not.
    const what = await section('What moves, and what does not');
    expect(what).toContain('its 4 rooms');
    expect(what).toContain('Its 2 recordings');
    expect(what).toMatch(/Does not move.*older than the tenancy's retention period.*members who object/);
    // The timeline: the freeze, and when the source copy goes.
    const timeline = await section('Timeline');
    expect(timeline).toContain('not before Wed, 23 Dec 2026 10:00:00 GMT');
    expect(timeline).toContain('14 days after the move completes');
    // Their rights, with the supervisory authority named.
    const rights = page.getByRole('region', { name: 'Your rights' });
    expect(await rights.textContent()).toMatch(/Object.*copy of your data/);
    expect(await rights.getByRole('link', { name: /Bundesbeauftragte für den Datenschutz/ }).getAttribute('href')).toBe('https://www.bfdi.bund.de');
    expect(await rights.getByRole('link', { name: 'Office of the Privacy Commissioner of Canada (OPC)' }).count()).toBe(1);
    // Whom to ask.
    expect(await page.getByRole('region', { name: 'Whom to ask' }).getByRole('link', { name: 'ops@north.example' }).count()).toBe(1);
    // Consent and objection are set apart, and look different.
    const consent = page.locator('form', { has: page.getByRole('button', { name: 'I consent' }) });
    const object = page.locator('form', { has: page.getByRole('button', { name: 'I object' }) });
    const look = (l: typeof consent) =>
      l.evaluate((e) => {
        const style = (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string; borderTopColor: string } }).getComputedStyle(e);
        return `${style.backgroundColor} ${style.borderTopColor}`;
      });
    expect(await look(consent)).not.toBe(await look(object));
    expect(await consent.getByRole('heading').textContent()).toBe('Agree to the move');
    expect(await object.getByRole('heading').textContent()).toBe('Object to the move');
  });

  it('speaks French or German when the browser asks for it (Québec, Germany)', async () => {
    const fr = await visit(member, undefined, 'fr-CA');
    expect(await fr.locator('html').getAttribute('lang')).toBe('fr');
    expect(await fr.getByRole('heading', { level: 1 }).textContent()).toBe('Riverside School déménage chez Harbour Co-op');
    expect((await fr.getByRole('region', { name: 'Le nouvel hébergeur' }).textContent())!.replace(/\s+/g, ' ')).toContain('PaysCanada (CA)');
    expect(await fr.getByRole('region', { name: 'Le fondement juridique du transfert' }).textContent()).toContain("décision d'adéquation Commission Decision 2002/2/EC");
    expect(await fr.getByRole('region', { name: 'Calendrier' }).textContent()).toContain('au plus tôt le mercredi 23 décembre 2026');
    expect(await fr.getByRole('region', { name: 'Vos droits' }).getByRole('link', { name: /Bundesbeauftragte/ }).count()).toBe(1);
    await fr.getByRole('button', { name: "Je m'oppose" }).click();
    expect(await fr.getByRole('heading', { level: 1 }).textContent()).toBe('Vous opposer à ce transfert?');
    expect(await fr.getByRole('button', { name: "Oui, je m'oppose" }).count()).toBe(1);

    const de = await visit(member, undefined, 'de-DE');
    expect(await de.getByRole('heading', { level: 1 }).textContent()).toBe('Riverside School zieht zu Harbour Co-op um');
    expect(await de.getByRole('region', { name: 'Ihre Rechte' }).textContent()).toContain('Beschwerde einlegen');
    expect(await de.getByRole('button', { name: 'Ich widerspreche' }).count()).toBe(1);
  });

  it("lists the member's own Greenlight rooms with their new links, and nobody else's", async () => {
    // Setup shortcut: what the notice's read of the source Greenlight leaves (test/greenlight/transfer.db.test.ts runs the read).
    const move = {
      readAt: '2026-11-23T10:00:00Z',
      targetBaseUrl: 'https://rooms.harbour.example/',
      rooms: [
        { friendlyId: 'mem-abc-def-ghi', name: 'Maths club', owner: member.accountId, recordings: 2 },
        { friendlyId: 'own-jkl-mno-pqr', name: "Head's office", owner: owner.accountId, recordings: 0 },
      ],
      counts: { roles: 1, users: 2, rooms: 2, shares: 0, recordings: 2 },
      roomsLeftOut: 0,
      sharesDropped: 0,
      usersLeftOut: 0,
    };
    await s.database.db.execute(sql`update transfers set greenlight = ${JSON.stringify(move)}::jsonb where id = ${transferId}`);
    try {
      const page = await visit(member);
      const what = page.getByRole('region', { name: 'What moves, and what does not' });
      expect(await what.textContent()).toContain('Your Greenlight rooms move too, with their settings and shares');
      expect(await what.locator('ul.your-rooms li').allTextContents()).toEqual(['Maths club: https://rooms.harbour.example/rooms/mem-abc-def-ghi/join (2 recordings)']);
      expect(await what.getByRole('link', { name: 'https://rooms.harbour.example/rooms/mem-abc-def-ghi/join' }).getAttribute('href')).toBe('https://rooms.harbour.example/rooms/mem-abc-def-ghi/join');
      expect(await what.textContent()).not.toContain("Head's office");
    } finally {
      await s.database.db.execute(sql`update transfers set greenlight = null where id = ${transferId}`);
    }
  });

  it('asks a member to confirm an objection, saying what follows, then records it', async () => {
    const page = await visit(member);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Riverside School is moving to Harbour Co-op');
    expect(await page.locator('main').textContent()).toContain('Wed, 23 Dec 2026 10:00:00 GMT');
    await page.getByRole('button', { name: 'I object' }).click();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Object to this transfer?');
    expect(await page.getByRole('region', { name: 'What follows' }).textContent()).toContain('your personal data stays out of the move');
    // Nothing is recorded until confirmed.
    expect((await s.api('GET', `/api/v1/transfers/${transferId}`)).json.objections).toEqual([]);
    await page.getByRole('link', { name: 'No, go back' }).click();
    await page.getByRole('button', { name: 'I object' }).click();
    await page.getByRole('button', { name: 'Yes, I object' }).click();
    await page.waitForURL(/done=object/);
    expect(await page.getByRole('status').textContent()).toBe('Your objection is recorded.');
    expect(await page.getByRole('note').textContent()).toContain('your personal data stays out of the move');
    expect(await page.getByRole('button', { name: 'I object' }).count()).toBe(0);
    const status = await s.api('GET', `/api/v1/transfers/${transferId}`);
    expect(status.json.objections).toEqual([expect.objectContaining({ kind: 'member', accountId: member.accountId })]);
    expect(status.json.state).toBe('notice');
  });

  it('records the owner\'s consent in the audit log', async () => {
    const page = await visit(owner);
    await page.getByRole('button', { name: 'I consent' }).click();
    await page.waitForURL(/done=consent/);
    expect(await page.getByRole('status').textContent()).toBe('Your consent is recorded.');
    const entries = (await s.api('GET', `/api/v1/audit/entries?subjectType=transfer&subject=${transferId}&action=transfer.consent`)).json.items;
    expect(entries).toHaveLength(1);
    expect(entries[0].json.decision).toMatchObject({ decision: 'allow' });
    expect(JSON.stringify(entries[0].json)).not.toContain(owner.accountId);
  });

  it('gives the objecting member their Art. 20 export, and nobody else', async () => {
    // Setup shortcut: the switch makes the export (execute.db.test.ts runs it); here it is made directly.
    const box = new SecretBox(Buffer.from(s.masterKey, 'base64'));
    const t = (await findTransfer(s.database.db, transferId))!;
    const exportId = await s.database.db.transaction((tx) => createMemberExport(tx, { box, actor: LOCAL_OPERATOR, publicUrl: s.url, now: new Date() }, t, member.accountId));
    const page = await visit(member);
    await page.goto(`${s.url}/me/exports`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Your data exports');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: /^Export of / }).click()]);
    const data = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    expect(data).toMatchObject({ format: 'meetplane.member-export/1', account: { id: member.accountId, email: member.email }, tenancy: { name: 'Riverside School' }, membership: { role: 'member' } });
    expect(data.transfer.objectedAt).not.toBeNull();

    // The owner of the tenancy, signed in, gets the same answer as for an export that does not exist.
    const other = await visit(owner);
    const res = await other.goto(`${s.url}/me/exports/${exportId}`);
    expect(res!.status()).toBe(404);
    expect(await other.getByRole('heading', { level: 1 }).textContent()).toBe('No such export');
    const none = await other.goto(`${s.url}/me/exports`);
    expect(none!.status()).toBe(200);
    expect(await other.locator('main').textContent()).toContain('You have no exports');
  });

  it('shows nothing to someone outside the tenancy', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${s.url}/me/transfers/${transferId}`);
    await page.getByLabel('E-mail address').fill(outsider.email);
    await page.getByLabel('Password').fill(outsider.password);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/me/transfers/${transferId}`)),
      page.getByRole('button', { name: 'Log in', exact: true }).click(),
    ]);
    expect(response.status()).toBe(404);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('No such transfer');
  });
});

describe('the member page and the notice period', () => {
  it('reaches a member who opens it during the notice, once, and on record', async () => {
    // The member and the owner opened the page above (the member more than once): each is reached, recorded once.
    const shown = (await s.api('GET', `/api/v1/audit/entries?subjectType=transfer&subject=${transferId}&action=transfer.notice-shown&limit=50`)).json.items;
    expect(shown).toHaveLength(2);
    for (const e of shown) expect(e.json.details.member).toMatch(/^p:[0-9a-f]{32}$/);
    expect(JSON.stringify(shown)).not.toContain(member.accountId);
    const status = (await s.api('GET', `/api/v1/transfers/${transferId}`)).json;
    expect(status.noticeDelivery).toMatchObject({ members: 2, reached: 2, notReached: 0, unreached: [] });
    // Their notice period counts from when they saw the page, not from the notice's start.
    expect(Date.parse(status.noticeDelivery.allReachedAt)).toBeGreaterThan(Date.parse('2026-11-23T10:00:00Z'));
    expect(Date.parse(status.freezeNotBefore)).toBe(Date.parse(status.noticeDelivery.allReachedAt) + 30 * 86_400_000);
  });

  it('refuses an answer to a transfer that changed since the page was loaded (412), like a stale If-Match', async () => {
    const page = await visit(owner);
    // Meanwhile the transfer changes (its version moves on, as a transition does).
    await s.database.db.execute(sql`update transfers set version = version + 1 where id = ${transferId}`);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/me/transfers/${transferId}`) && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'I consent' }).click(),
    ]);
    expect(response.status()).toBe(412);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('The transfer changed');
    await page.getByRole('link', { name: 'Look at it again' }).click();
    await page.getByRole('button', { name: 'I consent' }).click();
    await page.waitForURL(/done=consent/);
    expect(await page.getByRole('status').textContent()).toBe('Your consent is recorded.');
  });
});

describe("the member's language", () => {
  it('is chosen on /me, kept on the account, and used for the notice mail and before the browser\'s on the transfer page', async () => {
    // A member sets French on /me (their browser asks for English).
    const page = await visit(member, '/me');
    await page.getByLabel('Language of your pages and mails').selectOption('fr');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(`${s.url}/me`);
    // /me itself now speaks French.
    expect(await page.getByLabel('Langue de vos pages et courriels').inputValue()).toBe('fr');
    const audited = (await s.api('GET', `/api/v1/audit/entries?action=account.language&limit=5`)).json.items;
    expect(audited.map((e: { json: { details: unknown } }) => e.json.details)).toEqual([{ language: 'fr' }]);
    await page.goto(`${s.url}/me/transfers/${transferId}`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Riverside School déménage chez Harbour Co-op');

    // A new transfer's notice reaches them in French, the owner (no choice) in English.
    const tenancy = await createTenancy(s, member.coop, (await createCluster(s, member.coop)).id, { name: 'Choir' });
    await s.api('PUT', `/api/v1/tenancies/${tenancy.id}/members/${member.accountId}`, { body: { role: 'member' } });
    await s.api('PUT', `/api/v1/tenancies/${tenancy.id}/members/${owner.accountId}`, { body: { role: 'owner' } });
    const target = await createCoop(s, { name: 'Baie Co-op', jurisdiction: 'FR' });
    const t = await createTransfer(s.database.db, { ...LOCAL_OPERATOR, accountId: owner.accountId, via: 'pat' }, {
      tenancyId: tenancy.id,
      targetCoopId: target.id,
      targetClusterId: (await createCluster(s, target.id, { country: 'FR' })).id,
      evidence: { dpfListed: false, pipedaSubject: false, sccsDocuments: [], impactAssessment: null, claimedBasis: 'domestic' },
      noticeDays: 30,
    });
    // Setup shortcut: the approvals are tested elsewhere (rest.db.test.ts).
    await s.database.db.execute(sql`update transfers set state = 'approved' where id = ${t.id}`);
    await startNotice(s.database.db, LOCAL_OPERATOR, (await findTransfer(s.database.db, t.id))!, s.url, new Date('2026-12-01T10:00:00Z'));
    const mails = await s.database.db.select().from(mailOutbox).where(eq(mailOutbox.topic, `transfer:${t.id}`));
    const to = (email: string) => mails.find((m) => m.toAddress === email)!;
    expect(to(member.email).subject).toBe('Choir déménage chez Baie Co-op le 2026-12-31');
    expect(to(member.email).body).toContain("L'espace est gelé le jeudi 31 décembre 2026");
    expect(to(owner.email).subject).toBe('Choir is moving to Baie Co-op on 2026-12-31');
  });
});
