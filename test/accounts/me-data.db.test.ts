// A member's own data from /me: a download of everything meetplane holds about
// them (Art. 15/20) and their erasure (Art. 17), both POST forms carrying the
// page's CSRF token; erasure asks for confirmation and is refused, with the
// reason, while they are a tenancy's only owner.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCluster, createCoop, createTenancy } from '../support/fixtures.js';
import { memberWithPassword, startSsoServer } from '../oidc/helpers.js';
import { setMembership } from '../../server/accounts/service.js';
import { LOCAL_OPERATOR } from '../../server/auth/principal.js';
import { Jar, follow, formAction, hiddenFields, submit } from '../http/browserless.js';
import type { SsoServer } from './support.js';

let s: SsoServer;
beforeAll(async () => {
  s = await startSsoServer();
}, 60_000);
afterAll(async () => {
  await s?.stop();
});

/** Signs in to /me as a browser would; the jar then holds the session. */
async function signIn(who: { email: string; password: string }) {
  const jar = new Jar();
  const login = await follow(jar, s.url, '/me/login?next=%2Fme%2Fdata');
  const landed = await submit(jar, s.url, formAction(login.html), { ...hiddenFields(login.html), email: who.email, password: who.password });
  expect(new URL(landed.url).pathname).toBe('/me/data');
  return { jar, page: landed.html };
}

const post = (jar: Jar, path: string, fields: Record<string, string>, origin = new URL(s.url).origin) =>
  fetch(s.url + path, { method: 'POST', redirect: 'manual', headers: { cookie: jar.header(), origin, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });

async function member() {
  const coop = await createCoop(s);
  const tenancy = await createTenancy(s, coop.id, (await createCluster(s, coop.id)).id);
  const who = await memberWithPassword(s, { coop: coop.id });
  await setMembership(s.database.db, LOCAL_OPERATOR, tenancy.id, who.accountId, 'member');
  return { ...who, tenancy };
}

describe('a member\'s own data', () => {
  it('links it from /me', async () => {
    const who = await member();
    const { jar } = await signIn(who);
    const me = await follow(jar, s.url, '/me');
    expect(me.html).toContain('href="/me/data"');
  });

  it('downloads everything meetplane holds about them, only through the page\'s form', async () => {
    const who = await member();
    const { jar, page } = await signIn(who);
    const csrf = hiddenFields(page).csrf!;
    expect((await post(jar, '/me/data/export', {})).status).toBe(403);
    expect((await post(jar, '/me/data/export', { csrf }, 'https://evil.example')).status).toBe(403);
    const res = await post(jar, '/me/data/export', { csrf });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="meetplane-my-data-/);
    const text = await res.text();
    const data = JSON.parse(text);
    expect(data).toMatchObject({
      format: 'meetplane.account-export/1',
      account: { id: who.accountId, email: who.email, name: 'Mira Member' },
      login: { passwordSet: true, emailVerifiedAt: expect.any(String) },
      memberships: [{ tenancy: { id: who.tenancy.id, slug: who.tenancy.slug }, role: 'member' }],
      auditLog: { pseudonym: expect.stringMatching(/^p:/) },
    });
    expect(data.auditLog.entries.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['account.create', 'account.set-password']));
    expect(text).not.toContain('scrypt'); // never the password hash
    const entries = (await s.api('GET', '/api/v1/audit/entries?action=account.export')).json.items;
    expect(entries.length).toBeGreaterThan(0);
  });

  it('erases them after they confirm, with a receipt, and signs them out', async () => {
    const who = await member();
    const { jar } = await signIn(who);
    const confirm = await follow(jar, s.url, '/me/data/erase');
    expect(confirm.html).toContain(who.email);
    const csrf = hiddenFields(confirm.html).csrf!;
    // Without the confirmation nothing happens.
    const unconfirmed = await post(jar, '/me/data/erase', { csrf });
    expect(unconfirmed.status).toBe(400);
    expect(await unconfirmed.text()).toContain('Tick the box');
    expect((await s.api('GET', `/api/v1/accounts/${who.accountId}`)).json.erasedAt).toBeNull();
    expect((await post(jar, '/me/data/erase', { confirm: 'yes' })).status).toBe(403);

    const done = await post(jar, '/me/data/erase', { csrf, confirm: 'yes' });
    expect(done.status).toBe(200);
    const receipt = await done.text();
    expect(receipt).toContain('Your account is erased');
    expect(receipt).toContain(who.accountId);
    expect(done.headers.getSetCookie().some((c) => c.startsWith('mp_web=;') || /^mp_web=[^;]*;.*max-age=0/i.test(c))).toBe(true);
    const account = (await s.api('GET', `/api/v1/accounts/${who.accountId}`)).json;
    expect(account).toMatchObject({ email: `erased:${who.accountId}`, erasedAt: expect.any(String) });
    // The old session cookie is over.
    expect((await fetch(s.url + '/me', { redirect: 'manual', headers: { cookie: jar.header() } })).status).toBe(303);
  });

  it('refuses the erasure of a tenancy\'s only owner, saying why', async () => {
    const who = await member();
    await setMembership(s.database.db, LOCAL_OPERATOR, who.tenancy.id, who.accountId, 'owner');
    const { jar } = await signIn(who);
    const confirm = await follow(jar, s.url, '/me/data/erase');
    const res = await post(jar, '/me/data/erase', { csrf: hiddenFields(confirm.html).csrf!, confirm: 'yes' });
    expect(res.status).toBe(409);
    const html = await res.text();
    expect(html).toContain('only owner');
    expect(html).toContain(who.tenancy.slug);
    expect((await s.api('GET', `/api/v1/accounts/${who.accountId}`)).json.erasedAt).toBeNull();
  });
});
