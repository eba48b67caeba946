// Sessions end when what they were opened on changes: a member signed in to
// /me (driven over plain HTTP, cookies carried by hand) loses the session when
// the password is reset through an invitation link, or when a grant is given
// to or taken from them; the sign-on session goes too, so signing in again asks
// for the password. Another member's session is untouched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../server/db/index.js';
import { memberWithPassword, startSsoServer } from './helpers.js';

let s: Awaited<ReturnType<typeof startSsoServer>>;

beforeAll(async () => {
  s = await startSsoServer();
});
afterAll(async () => {
  await s?.stop();
});

class Jar {
  cookies = new Map<string, string>();
  take(res: Response) {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const value = pair!.slice(i + 1);
      if (value === '' || /max-age=0|expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(pair!.slice(0, i));
      else this.cookies.set(pair!.slice(0, i), value);
    }
  }
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** GETs `url`, following redirects with the jar; the last answer and its URL. */
async function follow(jar: Jar, url: string) {
  for (let hops = 0; hops < 15; hops++) {
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header() } });
    jar.take(res);
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) return { res, url };
    url = new URL(location, url).href;
  }
  throw new Error('too many redirects');
}

/** Signs in to /me as a browser would; the jar then holds the mp_web session. */
async function signIn(who: { email: string; password: string }) {
  const jar = new Jar();
  const login = await follow(jar, s.url + '/me/login');
  expect(new URL(login.url).pathname).toMatch(/^\/oidc\/interaction\//);
  const csrf = /name="csrf" value="([^"]+)"/.exec(await login.res.text())![1]!;
  const posted = await fetch(login.url + '/login', {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: jar.header(), origin: new URL(s.url).origin, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf, email: who.email, password: who.password }),
  });
  jar.take(posted);
  expect(posted.status).toBe(303);
  const landed = await follow(jar, new URL(posted.headers.get('location')!, login.url).href);
  expect(new URL(landed.url).pathname).toBe('/me');
  expect(landed.res.status).toBe(200);
  expect(jar.cookies.has('mp_web')).toBe(true);
  return jar;
}

/** What /me answers to the jar's session: 200 while signed in, 303 to /me/login once it is over. */
async function me(jar: Jar) {
  const res = await fetch(s.url + '/me', { redirect: 'manual', headers: { cookie: jar.header() } });
  return { status: res.status, location: res.headers.get('location') };
}

async function oidcRows(accountId: string) {
  const rows = rowsOf<{ n: number }>(await s.database.db.execute(sql`select count(*)::int as n from oidc_models where payload->>'accountId' = ${accountId}`));
  return Number(rows[0]!.n);
}

describe('sessions end when the password, a grant or the account changes', () => {
  it('ends the /me session and the sign-on session when the password is reset through an invitation link', async () => {
    const m = await memberWithPassword(s);
    const bystander = await memberWithPassword(s);
    const jar = await signIn(m);
    const other = await signIn(bystander);
    expect((await me(jar)).status).toBe(200);
    expect(await oidcRows(m.accountId)).toBeGreaterThan(0);

    const inv = await s.api('POST', `/api/v1/accounts/${m.accountId}/invitations`, { body: {} });
    expect(inv.status, inv.text).toBe(201);
    const form = await fetch(inv.json.url);
    const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1]!;
    const reset = await fetch(inv.json.url, {
      method: 'POST',
      headers: { origin: s.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf, password: 'a brand new passphrase', confirm: 'a brand new passphrase' }),
    });
    expect(reset.status).toBe(200);

    const after = await me(jar);
    expect(after.status).toBe(303);
    expect(after.location).toMatch(/^\/me\/login/);
    // The provider's session is gone too: signing in again shows the password form.
    const again = await follow(jar, s.url + '/me/login');
    expect(new URL(again.url).pathname).toMatch(/^\/oidc\/interaction\//);
    expect(await again.res.text()).toContain('name="password"');
    expect(await oidcRows(m.accountId)).toBeLessThanOrEqual(1); // at most the new, unauthenticated interaction
    // Someone else's session carries on.
    expect((await me(other)).status).toBe(200);
    // And the new password opens a new session.
    expect((await me(await signIn({ email: m.email, password: 'a brand new passphrase' }))).status).toBe(200);
  });

  it('ends the session when a grant is given to the member, and again when it is revoked', async () => {
    const m = await memberWithPassword(s);
    let jar = await signIn(m);
    const [root] = (await s.api('GET', '/api/v1/grants?active=true')).json.items;
    const grant = await s.api('POST', '/api/v1/grants', {
      body: { from: root.id, account: m.accountId, role: 'coop_admin', scope: { type: 'coop', id: m.coop }, expiresAt: new Date(Date.now() + 86_400_000).toISOString(), reason: 'runs the co-op' },
    });
    expect(grant.status, grant.text).toBe(201);
    expect((await me(jar)).status).toBe(303);

    jar = await signIn(m);
    expect((await me(jar)).status).toBe(200);
    const seen = await s.api('GET', `/api/v1/grants/${grant.json.id}`);
    const revoked = await s.api('POST', `/api/v1/grants/${grant.json.id}/revoke`, { body: { reason: 'left the co-op' }, headers: { 'if-match': seen.headers.get('etag')! } });
    expect(revoked.status, revoked.text).toBeLessThan(300);
    expect((await me(jar)).status).toBe(303);
  });
});
