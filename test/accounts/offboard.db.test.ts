// Offboarding a person from one co-op: their grants there (and what was
// delegated from them) are revoked, their memberships of its tenancies end and
// their home co-op is cleared, while their roles in another co-op stay intact.
// A dry run answers the same plan and changes nothing; the change is one
// transaction with one account.offboard entry. Taking away a role the actor
// does not hold is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { setMembership } from '../../server/accounts/service.js';
import { LOCAL_OPERATOR } from '../../server/auth/principal.js';
import { auditCount, coopAdminWithToken, createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';

let s: TestServer;
let root: string;
beforeAll(async () => {
  s = await startTestServer();
  root = (await s.api('GET', '/api/v1/grants?active=true')).json.items[0].id;
});
afterAll(async () => {
  await s?.stop();
});

const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString();

async function grant(account: string, role: string, scope: Record<string, string>, opts: { from?: string; token?: string; delegable?: boolean } = {}) {
  const r = await s.api('POST', '/api/v1/grants', {
    token: opts.token,
    // Delegated onwards (from): no later than the grant it comes from.
    body: { from: opts.from ?? root, account, role, scope, delegable: opts.delegable ?? false, reason: 'test', expiresAt: inDays(opts.from ? 20 : 30) },
  });
  if (r.status !== 201) throw new Error(`grant ${role}: ${r.status} ${r.text}`);
  return r.json.id as string;
}

async function offboardReq(accountId: string, body: Record<string, unknown>, token?: string) {
  const etag = (await s.api('GET', `/api/v1/accounts/${accountId}`)).headers.get('etag') ?? '';
  return s.api('POST', `/api/v1/accounts/${accountId}/offboard`, { token, body: { reason: 'left the co-op', ...body }, headers: { 'if-match': etag } });
}

const statusOf = async (id: string) => (await s.api('GET', `/api/v1/grants/${id}`)).json.status as string;
const membersOf = async (tenancy: string) => ((await s.api('GET', `/api/v1/tenancies/${tenancy}/members`)).json.items as Array<{ accountId: string; role: string }>).map((m) => m.accountId);

/** A person of co-op A who runs A (delegable, and delegated onwards) and is tenancy admin and member in co-op B. */
async function world() {
  const A = await createCoop(s);
  const B = await createCoop(s);
  const TA = await createTenancy(s, A.id, (await createCluster(s, A.id)).id);
  const TB = await createTenancy(s, B.id, (await createCluster(s, B.id)).id);
  const person = await memberWithToken(s, A.id);
  const helper = await memberWithToken(s, A.id);
  const inA = await grant(person.accountId, 'coop_admin', { type: 'coop', id: A.id }, { delegable: true });
  const delegated = await grant(helper.accountId, 'cluster_operator', { type: 'coop', id: A.id }, { from: inA, token: person.token });
  const inB = await grant(person.accountId, 'tenancy_admin', { type: 'tenancy', id: TB.id });
  // Joined both tenancies (B's by accepting an invitation, made here directly).
  for (const t of [TA.id, TB.id]) await setMembership(s.database.db, LOCAL_OPERATOR, t, person.accountId, 'member');
  return { A, B, TA, TB, person, helper, inA, delegated, inB };
}

describe('offboarding from one co-op', () => {
  it('answers the plan on a dry run and changes nothing', async () => {
    const w = await world();
    const before = await auditCount(s);
    const etag = (await s.api('GET', `/api/v1/accounts/${w.person.accountId}`)).headers.get('etag');
    const res = await s.api('POST', `/api/v1/accounts/${w.person.accountId}/offboard`, { body: { coop: w.A.slug, reason: 'left', dryRun: true } });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({
      dryRun: true,
      coop: w.A.id,
      grants: [{ id: w.inA, role: 'coop_admin', scope: { type: 'coop', id: w.A.id } }],
      cascade: [w.delegated],
      memberships: [{ tenancy: w.TA.id, role: 'member' }],
      homeCoopCleared: true,
    });
    expect(await statusOf(w.inA)).toBe('active');
    expect(await membersOf(w.TA.id)).toContain(w.person.accountId);
    expect((await s.api('GET', `/api/v1/accounts/${w.person.accountId}`)).headers.get('etag')).toBe(etag);
    expect(await auditCount(s)).toBe(before);
  });

  it('ends the roles in that co-op and leaves the other co-op\'s intact', async () => {
    const w = await world();
    const res = await offboardReq(w.person.accountId, { coop: w.A.id });
    expect(res.status, res.text).toBe(200);
    expect(res.json.revoked).toEqual(expect.arrayContaining([w.inA, w.delegated]));
    // Co-op A: the grant and what was delegated from it revoked, the membership ended, the home co-op cleared.
    expect(await statusOf(w.inA)).toBe('revoked');
    expect(await statusOf(w.delegated)).toBe('revoked');
    expect(await membersOf(w.TA.id)).not.toContain(w.person.accountId);
    expect((await s.api('GET', `/api/v1/accounts/${w.person.accountId}`)).json.coopId).toBeNull();
    // Co-op B: untouched, and the person still acts there (reads the tenancy they administer).
    expect(await statusOf(w.inB)).toBe('active');
    expect(await membersOf(w.TB.id)).toContain(w.person.accountId);
    expect((await s.api('GET', `/api/v1/tenancies/${w.TB.id}`, { token: w.person.token })).status).toBe(200);
    // ... and co-op A is no longer theirs to see.
    expect((await s.api('GET', `/api/v1/coops/${w.A.id}`, { token: w.person.token })).status).toBe(404);
    // One account.offboard entry names what was done.
    const entries = (await s.api('GET', '/api/v1/audit/entries?action=account.offboard')).json.items as Array<{ json: { details: Record<string, unknown> } }>;
    expect(entries.at(-1)!.json.details).toMatchObject({ from: w.A.id, grantsRevoked: expect.arrayContaining([w.inA, w.delegated]), membershipsEnded: [{ tenancy: w.TA.id, role: 'member' }] });
  });

  it('needs If-Match for the change (not for the dry run)', async () => {
    const w = await world();
    const res = await s.api('POST', `/api/v1/accounts/${w.person.accountId}/offboard`, { body: { coop: w.A.id, reason: 'left' } });
    expect(res.status).toBe(428);
    expect(await statusOf(w.inA)).toBe('active');
  });

  it('refuses a co-op admin who does not hold a role it would take away', async () => {
    const w = await world();
    // A non-delegable co-op admin of A does not hold the person's delegable coop_admin grant.
    const narrow = await coopAdminWithToken(s, w.A.id, { transferApproval: false });
    const res = await offboardReq(w.person.accountId, { coop: w.A.id, dryRun: true }, narrow.token);
    expect(res.status, res.text).toBe(403);
    expect(res.json.reason).toBe('offboard-needs-every-role');
    expect(await statusOf(w.inA)).toBe('active');
  });

  it('refuses an admin of another co-op', async () => {
    const w = await world();
    const adminB = await coopAdminWithToken(s, w.B.id);
    const res = await offboardReq(w.person.accountId, { coop: w.A.id }, adminB.token);
    expect([400, 403, 404]).toContain(res.status);
    expect(await statusOf(w.inA)).toBe('active');
    // ... while offboarding the person from B itself is theirs to do; A stays.
    const fromB = await offboardReq(w.person.accountId, { coop: w.B.id }, adminB.token);
    expect(fromB.status, fromB.text).toBe(200);
    expect(await statusOf(w.inB)).toBe('revoked');
    expect(await statusOf(w.inA)).toBe('active');
    expect((await s.api('GET', `/api/v1/accounts/${w.person.accountId}`)).json.coopId).toBe(w.A.id);
  });
});
