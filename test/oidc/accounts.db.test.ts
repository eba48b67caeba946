// Passwords, lock-out, invitations, expired and foreign tokens, key rotation:
// driven over plain HTTP (cookies carried by hand) against the real server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, importJWK } from 'jose';
import * as oidc from 'openid-client';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { decodeMasterKey } from '../../server/crypto/master-key.js';
import { loadKeys, rotateKeys } from '../../server/oidc/keys.js';
import { createCoop } from '../support/fixtures.js';
import { discover, memberWithPassword, registerClient, startSsoServer, uniq } from './helpers.js';

let s: Awaited<ReturnType<typeof startSsoServer>>;
let web: { clientId: string; clientSecret: string | null };
const RP = 'http://127.0.0.1:9/cb';

beforeAll(async () => {
  s = await startSsoServer({ LOGIN_MAX_FAILURES: '3', LOGIN_IP_MAX_FAILURES: '6', LOGIN_ACCOUNT_MAX_FAILURES: '8', TRUST_PROXY: 'true' });
  const coop = await createCoop(s);
  web = await registerClient(s, { name: 'Greenlight', coop: coop.id, kind: 'web', redirectUris: [RP] });
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
      this.cookies.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
  }
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** Starts an authorization and opens the login page: what a browser would hold. */
async function loginPage(ip: string) {
  const config = await discover(s, web.clientId, web.clientSecret!);
  const url = oidc.buildAuthorizationUrl(config, { redirect_uri: RP, scope: 'openid email', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
  const jar = new Jar();
  const auth = await fetch(url, { redirect: 'manual' });
  jar.take(auth);
  const location = new URL(auth.headers.get('location')!, s.url).href;
  const page = await fetch(location, { headers: { cookie: jar.header() } });
  const html = await page.text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
  return {
    async submit(email: string, password: string, origin = new URL(s.url).origin) {
      const started = performance.now();
      const res = await fetch(location + '/login', {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: jar.header(), origin, 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip },
        body: new URLSearchParams({ csrf, email, password }),
      });
      return { status: res.status, html: await res.text(), ms: performance.now() - started, retryAfter: res.headers.get('retry-after') };
    },
  };
}

let ipN = 1;
const freshIp = () => `198.51.100.${ipN++}`;

describe('log-in answers and lock-out', () => {
  it('logs in with the right password (303 back into the flow)', async () => {
    const m = await memberWithPassword(s);
    const res = await (await loginPage(freshIp())).submit(m.email, m.password);
    expect(res.status).toBe(303);
  });

  it('answers a wrong password and an unknown e-mail identically, in the same timing class', async () => {
    const m = await memberWithPassword(s);
    const wrong: number[] = [];
    const unknown: number[] = [];
    const bodies = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const a = await (await loginPage(freshIp())).submit(i % 2 ? m.email : (await memberWithPassword(s)).email, 'not the password!');
      const b = await (await loginPage(freshIp())).submit(`nobody-${uniq()}@example.org`, 'not the password!');
      expect(a.status).toBe(401);
      expect(b.status).toBe(401);
      const normal = (h: string) => h.replace(/value="[^"]*"/g, '').replace(/\/oidc\/interaction\/[^/"]+/g, '');
      bodies.add(normal(a.html));
      bodies.add(normal(b.html));
      wrong.push(a.ms);
      unknown.push(b.ms);
    }
    expect(bodies.size).toBe(1); // same page, except the echoed e-mail and CSRF values
    const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    // Both pay one scrypt: neither answers in a fraction of the other's time.
    expect(median(unknown) / median(wrong)).toBeGreaterThan(0.33);
    expect(median(unknown) / median(wrong)).toBeLessThan(3);
  });

  it('locks an account from the address its failures come from, even for the right password, and unknown addresses alike', async () => {
    const m = await memberWithPassword(s);
    const nobody = `nobody-${uniq()}@example.org`;
    const attacker = freshIp();
    for (let i = 0; i < 3; i++) {
      expect((await (await loginPage(attacker)).submit(m.email, 'wrong wrong wrong')).status).toBe(401);
      expect((await (await loginPage(attacker)).submit(nobody, 'wrong wrong wrong')).status).toBe(401);
    }
    const locked = await (await loginPage(attacker)).submit(m.email, m.password);
    const lockedUnknown = await (await loginPage(attacker)).submit(nobody, 'whatever it is');
    expect(locked.status).toBe(429);
    expect(lockedUnknown.status).toBe(429);
    expect(Number(locked.retryAfter)).toBeGreaterThan(0);
    expect(locked.html).toContain('Too many failed attempts');
    expect(lockedUnknown.html).toContain('Too many failed attempts');
  });

  it('does not lock the owner out from elsewhere: failures from address A, the right password from address B logs in', async () => {
    const m = await memberWithPassword(s);
    const a = freshIp();
    for (let i = 0; i < 3; i++) expect((await (await loginPage(a)).submit(m.email, 'wrong wrong wrong')).status).toBe(401);
    expect((await (await loginPage(a)).submit(m.email, m.password)).status).toBe(429);
    expect((await (await loginPage(freshIp())).submit(m.email, m.password)).status).toBe(303);
    // A is still locked for this account: the owner's success elsewhere does not lift it.
    expect((await (await loginPage(a)).submit(m.email, m.password)).status).toBe(429);
  });

  it('caps the failures for one account from everywhere (LOGIN_ACCOUNT_MAX_FAILURES), unknown addresses alike', async () => {
    const m = await memberWithPassword(s);
    const nobody = `nobody-${uniq()}@example.org`;
    for (let i = 0; i < 8; i++) {
      expect((await (await loginPage(freshIp())).submit(m.email, 'wrong wrong wrong')).status).toBe(401);
      expect((await (await loginPage(freshIp())).submit(nobody, 'wrong wrong wrong')).status).toBe(401);
    }
    expect((await (await loginPage(freshIp())).submit(m.email, m.password)).status).toBe(429);
    expect((await (await loginPage(freshIp())).submit(nobody, 'whatever it is')).status).toBe(429);
  });

  it('locks a client IP address that tries many accounts', async () => {
    const ip = freshIp();
    for (let i = 0; i < 6; i++) expect((await (await loginPage(ip)).submit(`spray-${uniq()}@example.org`, 'Summer2024!')).status).toBe(401);
    const m = await memberWithPassword(s);
    expect((await (await loginPage(ip)).submit(m.email, m.password)).status).toBe(429);
    expect((await (await loginPage(freshIp())).submit(m.email, m.password)).status).toBe(303);
  });

  it('refuses a login form posted from another site', async () => {
    const m = await memberWithPassword(s);
    const res = await (await loginPage(freshIp())).submit(m.email, m.password, 'https://evil.example');
    expect(res.status).toBe(403);
    expect(res.html).toContain('The form did not come from this site');
  });
});

describe('invitations', () => {
  it('lets an invited member set a password once, then log in with it', async () => {
    const coop = await createCoop(s);
    const email = `invitee-${uniq()}@example.org`;
    const acc = await s.api('POST', '/api/v1/accounts', { body: { email, name: 'Ines Invitee', coop: coop.id } });
    const inv = await s.api('POST', `/api/v1/accounts/${acc.json.id}/invitations`, { body: {} });
    expect(inv.status).toBe(201);
    expect(inv.json.url).toMatch(/\/oidc\/invitation\/mp_inv_/);
    expect(inv.headers.get('cache-control')).toBe('no-store');
    const form = await fetch(inv.json.url);
    const html = await form.text();
    expect(form.status).toBe(200);
    expect(html).toContain('<label for="password">New password</label>');
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const post = (password: string, confirm = password) =>
      fetch(inv.json.url, { method: 'POST', headers: { origin: s.url, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, password, confirm }) });
    expect((await post('short')).status).toBe(400);
    expect((await post('a long enough password', 'another long password')).status).toBe(400);
    const ok = await post('a long enough password');
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('Your password is set');
    expect((await post('a second long password')).status).toBe(404);
    expect((await fetch(inv.json.url)).status).toBe(404);
    expect((await (await loginPage(freshIp())).submit(email, 'a long enough password')).status).toBe(303);
  });

  it('is for admins only and never for accounts of other co-ops', async () => {
    const res = await s.api('POST', '/api/v1/accounts/00000000-0000-0000-0000-000000000000/invitations', { body: {} });
    expect(res.status).toBe(404);
  });
});

describe('token lifetimes and keys', () => {
  async function signWithOurKey(claims: Record<string, unknown>, kid?: string) {
    const box = new SecretBox(decodeMasterKey(s.masterKey));
    const keys = await loadKeys(s.database.db, box, 3_600_000, 3_600_000);
    const jwk = keys.jwks.keys.find((k) => k.alg === 'ES256' && (!kid || k.kid === kid))!;
    return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: jwk.kid! }).sign(await importJWK(jwk, 'ES256'));
  }

  it('rejects an expired access token and one for another audience, though signed with our key', async () => {
    const base = { iss: s.issuer, sub: '00000000-0000-0000-0000-000000000000', client_id: 'x', jti: 'j', scope: 'api' };
    const now = Math.floor(Date.now() / 1000);
    const expired = await signWithOurKey({ ...base, aud: s.apiResource, iat: now - 600, exp: now - 300 });
    const foreign = await signWithOurKey({ ...base, aud: 'https://other.example/api', iat: now, exp: now + 300 });
    for (const token of [expired, foreign]) {
      const res = await s.api('GET', '/api/v1/coops', { token });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
  });

  it('rotates keys: the new key signs, the old one still verifies its tokens', async () => {
    const machine = await registerClient(s, { name: 'robot', coop: (await createCoop(s)).id, kind: 'machine' });
    const config = await discover(s, machine.clientId, machine.clientSecret!);
    const before = await oidc.clientCredentialsGrant(config, { scope: 'api' });
    const box = new SecretBox(decodeMasterKey(s.masterKey));
    const { added, retired } = await rotateKeys(s.database.db, box);
    expect(added).toHaveLength(3);
    expect(retired).toHaveLength(3);
    expect(await s.sso.reloadKeys()).toBe(true);
    const jwks = (await (await fetch(`${s.issuer}/jwks`)).json()) as { keys: Array<{ kid: string; key_ops?: string[] }> };
    expect(jwks.keys).toHaveLength(4);
    const after = await oidc.clientCredentialsGrant(await discover(s, machine.clientId, machine.clientSecret!), { scope: 'api' });
    const kidOf = (t: string) => JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()).kid;
    expect(kidOf(after.access_token)).not.toBe(kidOf(before.access_token));
    expect(added).toContain(kidOf(after.access_token));
    const retiredKey = jwks.keys.find((k) => k.kid === kidOf(before.access_token))!;
    expect(retiredKey.key_ops).toEqual(['verify']);
    expect((await s.api('GET', '/api/v1/coops', { token: before.access_token })).status).toBe(200);
    expect((await s.api('GET', '/api/v1/coops', { token: after.access_token })).status).toBe(200);
  });
});
