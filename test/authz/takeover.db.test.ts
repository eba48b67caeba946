// "Nobody hands out more than they hold" (policies/cover.cedar) through the real
// server: every holder tries to invite (set the password of) an account holding
// each role, and only holders that hold at least every role of that account get
// an invitation link. The review found a co-op admin taking over a platform
// admin of their co-op this way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { setMembership } from '../../server/accounts/service.js';
import { LOCAL_OPERATOR } from '../../server/auth/principal.js';

type Who = { accountId: string; token: string };
let s: TestServer;
let coopA: string, coopB: string, A1: string, TA1: string, TB1: string;
let rootGrant: string;
const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString();
const HOLDERS = ['pa', 'caA', 'caAnarrow', 'caB', 'toTA1', 'meTA1'] as const;
type Holder = (typeof HOLDERS)[number];
const holders = {} as Record<Holder, Who | null>;

// What the account (home co-op A) holds → what each holder's invitation gets.
// 201: a link; 403: refused by account-takeover-needs-every-role (the holder
// may read the account); 404: the holder may not even see the account.
// prettier-ignore
const TABLE: Array<[string, Record<Holder, number>]> = [
  //                                      pa   caA  caAnarrow caB  toTA1 meTA1
  ['nothing',                           { pa: 201, caA: 201, caAnarrow: 201, caB: 404, toTA1: 404, meTA1: 404 }],
  ['member of TA1',                     { pa: 201, caA: 201, caAnarrow: 201, caB: 404, toTA1: 404, meTA1: 404 }],
  ['owner (membership) of TA1',         { pa: 201, caA: 201, caAnarrow: 201, caB: 404, toTA1: 404, meTA1: 404 }],
  ['tenancy_owner on TA1',              { pa: 201, caA: 201, caAnarrow: 201, caB: 404, toTA1: 404, meTA1: 404 }],
  ['tenancy_admin on TA1',              { pa: 201, caA: 201, caAnarrow: 201, caB: 404, toTA1: 404, meTA1: 404 }],
  ['cluster_operator on A',             { pa: 201, caA: 201, caAnarrow: 201, caB: 404, toTA1: 404, meTA1: 404 }],
  ['cluster_operator on A1',            { pa: 201, caA: 201, caAnarrow: 201, caB: 404, toTA1: 404, meTA1: 404 }],
  ['coop_admin on A',                   { pa: 201, caA: 201, caAnarrow: 201, caB: 404, toTA1: 404, meTA1: 404 }],
  ['coop_admin on A, delegable',        { pa: 201, caA: 201, caAnarrow: 403, caB: 404, toTA1: 404, meTA1: 404 }],
  ['coop_admin on A, approves transfers', { pa: 201, caA: 201, caAnarrow: 403, caB: 404, toTA1: 404, meTA1: 404 }],
  ['member of TB1',                     { pa: 201, caA: 403, caAnarrow: 403, caB: 404, toTA1: 404, meTA1: 404 }],
  ['owner (membership) of TB1',         { pa: 201, caA: 403, caAnarrow: 403, caB: 404, toTA1: 404, meTA1: 404 }],
  ['coop_admin on B',                   { pa: 201, caA: 403, caAnarrow: 403, caB: 404, toTA1: 404, meTA1: 404 }],
  ['auditor',                           { pa: 201, caA: 403, caAnarrow: 403, caB: 404, toTA1: 404, meTA1: 404 }],
  ['platform_admin',                    { pa: 201, caA: 403, caAnarrow: 403, caB: 404, toTA1: 404, meTA1: 404 }],
  // The account's own platform-admin mark (the bootstrap admin's), with no grant behind it.
  ['platform admin mark alone',         { pa: 201, caA: 403, caAnarrow: 403, caB: 404, toTA1: 404, meTA1: 404 }],
];

async function grant(account: string, role: string, scope: Record<string, string>, extra: Record<string, unknown> = {}) {
  const r = await s.api('POST', '/api/v1/grants', { body: { from: rootGrant, account, role, scope, delegable: false, reason: 'test', expiresAt: inDays(30), ...extra } });
  if (r.status !== 201) throw new Error(`grant ${role}: ${r.status} ${r.text}`);
}

/** A fresh account of co-op A holding what the row names. */
async function accountHolding(what: string): Promise<string> {
  const { accountId } = await memberWithToken(s, coopA);
  const member = (tenancy: string, role: 'owner' | 'member') => setMembership(s.database.db, LOCAL_OPERATOR, tenancy, accountId, role);
  switch (what) {
    case 'nothing': break;
    case 'member of TA1': await member(TA1, 'member'); break;
    case 'owner (membership) of TA1': await member(TA1, 'owner'); break;
    case 'member of TB1': await member(TB1, 'member'); break;
    case 'owner (membership) of TB1': await member(TB1, 'owner'); break;
    case 'tenancy_owner on TA1': await grant(accountId, 'tenancy_owner', { type: 'tenancy', id: TA1 }); break;
    case 'tenancy_admin on TA1': await grant(accountId, 'tenancy_admin', { type: 'tenancy', id: TA1 }); break;
    case 'cluster_operator on A': await grant(accountId, 'cluster_operator', { type: 'coop', id: coopA }); break;
    case 'cluster_operator on A1': await grant(accountId, 'cluster_operator', { type: 'cluster', id: A1 }); break;
    case 'coop_admin on A': await grant(accountId, 'coop_admin', { type: 'coop', id: coopA }); break;
    case 'coop_admin on A, delegable': await grant(accountId, 'coop_admin', { type: 'coop', id: coopA }, { delegable: true }); break;
    case 'coop_admin on A, approves transfers': await grant(accountId, 'coop_admin', { type: 'coop', id: coopA }, { transferApproval: true }); break;
    case 'coop_admin on B': await grant(accountId, 'coop_admin', { type: 'coop', id: coopB }); break;
    case 'auditor': await grant(accountId, 'auditor', { type: 'global' }); break;
    case 'platform_admin': await grant(accountId, 'platform_admin', { type: 'global' }); break;
    case 'platform admin mark alone': await s.database.db.execute(sql`update accounts set platform_admin = true where id = ${accountId}`); break;
    default: throw new Error(`no such row: ${what}`);
  }
  return accountId;
}

beforeAll(async () => {
  s = await startTestServer();
  coopA = (await createCoop(s)).id;
  coopB = (await createCoop(s)).id;
  A1 = (await createCluster(s, coopA)).id;
  const B1 = (await createCluster(s, coopB)).id;
  TA1 = (await createTenancy(s, coopA, A1)).id;
  TB1 = (await createTenancy(s, coopB, B1)).id;
  rootGrant = (await s.api('GET', '/api/v1/grants?active=true')).json.items[0].id;
  holders.pa = { accountId: '', token: s.adminToken };
  holders.caA = await memberWithToken(s, coopA);
  await grant(holders.caA.accountId, 'coop_admin', { type: 'coop', id: coopA }, { delegable: true, transferApproval: true });
  holders.caAnarrow = await memberWithToken(s, coopA);
  await grant(holders.caAnarrow.accountId, 'coop_admin', { type: 'coop', id: coopA });
  holders.caB = await memberWithToken(s, coopB);
  await grant(holders.caB.accountId, 'coop_admin', { type: 'coop', id: coopB }, { delegable: true, transferApproval: true });
  holders.toTA1 = await memberWithToken(s, coopA);
  await grant(holders.toTA1.accountId, 'tenancy_owner', { type: 'tenancy', id: TA1 }, { delegable: true });
  holders.meTA1 = await memberWithToken(s, coopA);
  await setMembership(s.database.db, LOCAL_OPERATOR, TA1, holders.meTA1.accountId, 'member');
});

afterAll(async () => {
  await s?.stop();
});

describe('taking over another account\'s credentials', () => {
  it('gives an invitation link only to holders of at least every role the account holds', async () => {
    const got: string[] = [];
    const want: string[] = [];
    for (const [what, expected] of TABLE) {
      const target = await accountHolding(what);
      for (const h of HOLDERS) {
        const r = await s.api('POST', `/api/v1/accounts/${target}/invitations`, { token: holders[h]!.token, body: {} });
        got.push(`${what} / ${h}: ${r.status}`);
        want.push(`${what} / ${h}: ${expected[h]}`);
        if (r.status === 403) expect(r.json.policyIds, r.text).toContain('account-takeover-needs-every-role');
        if (r.status === 201) expect(r.json.url).toMatch(/\/oidc\/invitation\/mp_inv_/);
      }
    }
    expect(got).toEqual(want);
  });

  it('audits the refused takeover, naming the rule, and issues no invitation', async () => {
    const victim = await accountHolding('platform_admin');
    const r = await s.api('POST', `/api/v1/accounts/${victim}/invitations`, { token: holders.caA!.token, body: {} });
    expect(r.status).toBe(403);
    expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const entries = (await s.api('GET', '/api/v1/audit/entries?action=account.invite&limit=1000')).json.items.map((i: { json: any }) => i.json);
    const last = entries.at(-1);
    expect(last).toMatchObject({ outcome: 'denied', decision: { decision: 'deny', policyIds: ['account-takeover-needs-every-role'] } });
    // The log is never erased: the account is named by its pseudonym, never its id.
    expect(last.subject.type).toBe('account');
    expect(last.subject.id).toMatch(/^p:[0-9a-f]{32}$/);
    expect(JSON.stringify(last)).not.toContain(victim);
    const issued = entries.filter((e: any) => e.outcome !== 'denied' && e.subject?.id === last.subject.id);
    expect(issued).toEqual([]);
  });

  it('follows the account\'s roles as they change: a revoked grant no longer protects it', async () => {
    const { accountId } = await memberWithToken(s, coopA);
    const g = await s.api('POST', '/api/v1/grants', { body: { from: rootGrant, account: accountId, role: 'coop_admin', scope: { type: 'coop', id: coopB }, delegable: false, reason: 'test', expiresAt: inDays(30) } });
    expect(g.status).toBe(201);
    expect((await s.api('POST', `/api/v1/accounts/${accountId}/invitations`, { token: holders.caA!.token, body: {} })).status).toBe(403);
    const rev = await s.api('POST', `/api/v1/grants/${g.json.id}/revoke`, { headers: { 'if-match': g.headers.get('etag')! }, body: { reason: 'test' } });
    expect(rev.status, rev.text).toBeLessThan(300);
    expect((await s.api('POST', `/api/v1/accounts/${accountId}/invitations`, { token: holders.caA!.token, body: {} })).status).toBe(201);
  });

  it('lets a tenancy admin give and take away no more than the admin role: not make itself owner, nor remove the owner', async () => {
    const admin = await memberWithToken(s, coopA);
    await setMembership(s.database.db, LOCAL_OPERATOR, TA1, admin.accountId, 'admin');
    const owner = await memberWithToken(s, coopA);
    await setMembership(s.database.db, LOCAL_OPERATOR, TA1, owner.accountId, 'owner');
    const plain = await memberWithToken(s, coopA);
    await setMembership(s.database.db, LOCAL_OPERATOR, TA1, plain.accountId, 'member');
    const put = (who: string, role: string) => s.api('PUT', `/api/v1/tenancies/${TA1}/members/${who}`, { token: admin.token, body: { role } });
    const self = await put(admin.accountId, 'owner');
    expect(self.status, self.text).toBe(403);
    expect(self.json.detail).toContain('nobody hands out more than they hold');
    expect((await put(plain.accountId, 'owner')).status).toBe(403);
    expect((await put(owner.accountId, 'member')).status).toBe(403); // demoting the owner
    expect((await s.api('DELETE', `/api/v1/tenancies/${TA1}/members/${owner.accountId}`, { token: admin.token })).status).toBe(403);
    expect((await put(plain.accountId, 'admin')).status).toBe(204);
    expect((await s.api('DELETE', `/api/v1/tenancies/${TA1}/members/${admin.accountId}`, { token: admin.token })).status).toBe(204); // leaving
    const members = (await s.api('GET', `/api/v1/tenancies/${TA1}/members`)).json.items as Array<{ accountId: string; role: string }>;
    expect(members.find((m) => m.accountId === owner.accountId)?.role).toBe('owner');
    expect(members.find((m) => m.accountId === plain.accountId)?.role).toBe('admin');
    expect(members.some((m) => m.accountId === admin.accountId)).toBe(false);
  });
});
