// Suspending an account stops it everywhere at once: after POST
// /accounts/{id}/suspend, every credential the account had (a personal access
// token, a JWT access token, a refresh token, a /me session) is refused by
// another process on the same database within a second, and so is a new
// password log-in. Its grants are not touched: reinstating gives back exactly
// the grants it had. The refusals say why: the takeover rule, the last platform admin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { createCoop, coopAdminWithToken, memberWithToken } from '../support/fixtures.js';
import { startTestServer } from '../support/server.js';
import { backend } from '../support/db.js';
import { makePlatformAdmin, memberWithPassword, startSsoServer } from '../oidc/helpers.js';
import { apiStatus, credentialsOf, meStatus, otherProcess, passwordLogin, type SsoServer } from './support.js';
import { within } from '../support/within.js';

let s: SsoServer;
let other: Awaited<ReturnType<typeof otherProcess>>;
beforeAll(async () => {
  s = await startSsoServer();
  other = await otherProcess(s);
}, 60_000);
afterAll(async () => {
  await other?.stop();
  await s?.stop();
});

const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString();

async function rootGrant(): Promise<string> {
  return (await s.api('GET', '/api/v1/grants?active=true')).json.items[0].id;
}

/** The account's grants as the API lists them (id, status, version): what reinstating must give back. */
async function grantsOf(accountId: string) {
  const res = await s.api('GET', `/api/v1/grants?account=${accountId}`);
  return (res.json.items as Array<{ id: string; role: string; status: string; version: number; revokedAt: string | null }>).map((g) => ({ id: g.id, role: g.role, status: g.status, version: g.version, revokedAt: g.revokedAt }));
}

async function lifecycle(verb: 'suspend' | 'reinstate', accountId: string, opts: { token?: string; reason?: string } = {}) {
  const current = await s.api('GET', `/api/v1/accounts/${accountId}`);
  return s.api('POST', `/api/v1/accounts/${accountId}/${verb}`, { token: opts.token, body: { reason: opts.reason ?? 'test' }, headers: { 'if-match': current.headers.get('etag') ?? '' } });
}

describe('suspending an account', () => {
  it('refuses every credential it had on the other process within a second, and a new password log-in', async () => {
    const coop = await createCoop(s);
    const who = await memberWithPassword(s, { coop: coop.id });
    const creds = await credentialsOf(s, who);
    if (backend() === 'postgres') expect(other.url).not.toBe(s.url); // a second process on the same database
    // Every credential works on both processes before.
    for (const base of [s.url, other.url]) {
      expect(await apiStatus(base, creds.pat)).toBe(200);
      expect(await apiStatus(base, creds.accessToken)).toBe(200);
      expect(await meStatus(base, creds.jar)).toBe(200);
    }

    const suspended = await lifecycle('suspend', who.accountId, { reason: 'laptop stolen' });
    expect(suspended.status, suspended.text).toBe(200);
    expect(suspended.json.suspendedAt).toEqual(expect.any(String));

    const took = await within(1000, async () =>
      (await apiStatus(other.url, creds.pat)) === 401 && (await apiStatus(other.url, creds.accessToken)) === 401 && (await meStatus(other.url, creds.jar)) === 303,
    );
    expect(took).toBeLessThanOrEqual(1000);
    const refused = await fetch(other.url + '/api/v1/tokens', { headers: { authorization: `Bearer ${creds.accessToken}` } });
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    await expect(oidc.refreshTokenGrant(creds.config, creds.refreshToken, { resource: s.apiResource })).rejects.toMatchObject({ error: 'invalid_grant' });

    // The right password no longer signs in: the page says the account is suspended.
    const login = await passwordLogin(s, creds.config, who);
    expect(login.res.status).toBe(403);
    expect(login.html).toContain('This account is suspended');
    expect(login.res.headers.get('location')).toBeNull();
  }, 120_000);

  it('keeps its grants untouched, and reinstating gives back exactly those', async () => {
    const coop = await createCoop(s);
    const coopB = await createCoop(s);
    const who = await memberWithPassword(s, { coop: coop.id });
    const root = await rootGrant();
    for (const [role, scope] of [
      ['coop_admin', { type: 'coop', id: coop.id }],
      ['cluster_operator', { type: 'coop', id: coopB.id }],
    ] as const) {
      const g = await s.api('POST', '/api/v1/grants', { body: { from: root, account: who.accountId, role, scope, reason: 'runs it', expiresAt: inDays(30) } });
      expect(g.status, g.text).toBe(201);
    }
    const before = await grantsOf(who.accountId);
    expect(before.filter((g) => g.status === 'active')).toHaveLength(2);

    expect((await lifecycle('suspend', who.accountId)).status).toBe(200);
    expect(await grantsOf(who.accountId)).toEqual(before);
    // While suspended the account can do nothing with them.
    const creds = await s.api('POST', `/api/v1/accounts/${who.accountId}/reinstate`, { body: { reason: 'x' } });
    expect(creds.status).toBe(428);

    const reinstated = await lifecycle('reinstate', who.accountId, { reason: 'laptop found' });
    expect(reinstated.status, reinstated.text).toBe(200);
    expect(reinstated.json.suspendedAt).toBeNull();
    expect(await grantsOf(who.accountId)).toEqual(before);

    // It signs in again, and its coop_admin grant works: it reads its co-op's accounts.
    const { accessToken } = await credentialsOf(s, who);
    expect(await apiStatus(s.url, accessToken, `/api/v1/coops/${coop.id}`)).toBe(200);
    const listed = await fetch(`${s.url}/api/v1/grants?account=${who.accountId}&active=true`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(((await listed.json()) as { items: unknown[] }).items).toHaveLength(2);
  }, 120_000);

  it('writes one audit entry for each, with the reason', async () => {
    const coop = await createCoop(s);
    const who = await memberWithPassword(s, { coop: coop.id });
    expect((await lifecycle('suspend', who.accountId, { reason: 'compromise suspected' })).status).toBe(200);
    const entries = (await s.api('GET', '/api/v1/audit/entries?action=account.suspend')).json.items as Array<{ json: { details: { reason: string } } }>;
    expect(entries.at(-1)!.json.details.reason).toBe('compromise suspected');
  });

  it('needs If-Match, and refuses a stale one', async () => {
    const coop = await createCoop(s);
    const who = await memberWithPassword(s, { coop: coop.id });
    expect((await s.api('POST', `/api/v1/accounts/${who.accountId}/suspend`, { body: { reason: 'x' } })).status).toBe(428);
    const stale = (await s.api('GET', `/api/v1/accounts/${who.accountId}`)).headers.get('etag')!;
    expect((await lifecycle('suspend', who.accountId)).status).toBe(200);
    const again = await s.api('POST', `/api/v1/accounts/${who.accountId}/reinstate`, { body: { reason: 'x' }, headers: { 'if-match': stale } });
    expect(again.status).toBe(412);
  });
});

describe('who may suspend', () => {
  it('refuses a co-op admin an account holding a role they do not hold, naming the takeover rule', async () => {
    const coopA = await createCoop(s);
    const coopB = await createCoop(s);
    const admin = await coopAdminWithToken(s, coopA.id);
    const target = await memberWithPassword(s, { coop: coopA.id });
    // The account also runs co-op B, which the admin of A does not.
    const g = await s.api('POST', '/api/v1/grants', { body: { from: await rootGrant(), account: target.accountId, role: 'coop_admin', scope: { type: 'coop', id: coopB.id }, reason: 'runs B', expiresAt: inDays(30) } });
    expect(g.status).toBe(201);
    const res = await lifecycle('suspend', target.accountId, { token: admin.token });
    expect(res.status, res.text).toBe(403);
    expect(res.json.policyIds).toContain('account-takeover-needs-every-role');
    expect((await s.api('GET', `/api/v1/accounts/${target.accountId}`)).json.suspendedAt).toBeNull();

    // An account holding no more than the admin: suspended.
    const plain = await memberWithPassword(s, { coop: coopA.id });
    expect((await lifecycle('suspend', plain.accountId, { token: admin.token })).status).toBe(200);
  });

  it('refuses to suspend the last platform admin, saying why', async () => {
    const me = (await s.api('GET', '/api/v1/me')).json;
    const res = await lifecycle('suspend', me.accountId ?? me.id);
    expect(res.status).toBe(409);
    expect(res.json.type).toMatch(/last-platform-admin$/);
    expect(res.json.detail).toContain('last platform admin');
  });

  it('leaves one platform admin when two suspend each other at once', async () => {
    // Its own server: here the bootstrap admin and one more are the only platform admins.
    const t = await startTestServer();
    try {
      const coop = await createCoop(t);
      const other = await memberWithToken(t, coop.id);
      await makePlatformAdmin(t, other.accountId);
      const root = (await t.api('GET', '/api/v1/me')).json.accountId as string;
      const etag = async (id: string) => (await t.api('GET', `/api/v1/accounts/${id}`)).headers.get('etag')!;
      const [rootTag, otherTag] = [await etag(root), await etag(other.accountId)];
      const answers = await Promise.all([
        t.api('POST', `/api/v1/accounts/${other.accountId}/suspend`, { body: { reason: 'x' }, headers: { 'if-match': otherTag } }),
        t.api('POST', `/api/v1/accounts/${root}/suspend`, { token: other.token, body: { reason: 'x' }, headers: { 'if-match': rootTag } }),
      ]);
      // One goes through; the other is refused as the last admin, or (when the first finished before it
      // began, as on the embedded database's one connection) finds its own token already revoked.
      expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
      const refused = answers.find((r) => r.status !== 200)!;
      if (refused.status === 409) expect(refused.json.type).toMatch(/last-platform-admin$/);
      else expect(refused.status).toBe(401);
      const { sql } = await import('drizzle-orm');
      const { rowsOf } = await import('../../server/db/index.js');
      const left = rowsOf(await t.database.db.execute(sql`select id from accounts where platform_admin and suspended_at is null`));
      expect(left).toHaveLength(1);
    } finally {
      await t.stop();
    }
  }, 60_000);

  it('looks like a missing account to a member without rights', async () => {
    const coop = await createCoop(s);
    const a = await memberWithPassword(s, { coop: coop.id });
    const b = await memberWithPassword(s, { coop: coop.id });
    const { issueToken } = await import('../../server/accounts/service.js');
    const { LOCAL_OPERATOR } = await import('../../server/auth/principal.js');
    const { token } = await issueToken(s.database.db, LOCAL_OPERATOR, a.accountId, 't', null);
    const res = await lifecycle('suspend', b.accountId, { token });
    expect(res.status).toBe(404);
  });
});
