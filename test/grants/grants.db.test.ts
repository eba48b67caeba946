// Grants over REST against the real server: bootstrap, delegation and every
// rule refusal with its id, cascade revocation, expiry, IDOR, the policy set
// and explanations, and the audit trail of decisions.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeFeed } from '../../server/cache/change-feed.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { policyEvaluator } from '../../policies/evaluator.js';
import { rowsOf } from '../../server/db/index.js';

let s: TestServer;
let coopA: { id: string }, coopB: { id: string };
let A1: string, A2: string, B1: string;
let TA1: string, TA2: string;
type Who = { accountId: string; token: string };
let alice: Who, bob: Who, carol: Who, dave: Who, erin: Who, frank: Who, aud: Who;
let root: { id: string };
const days = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString();

async function delegate(who: Who | null, body: Record<string, unknown>) {
  return s.api('POST', '/api/v1/grants', { token: who?.token, body: { delegable: false, reason: 'test', ...body } });
}
async function delegateOk(who: Who | null, body: Record<string, unknown>) {
  const r = await delegate(who, body);
  if (r.status !== 201) throw new Error(`delegate: ${r.status} ${r.text}`);
  return r.json as { id: string; version: number; status: string; delegators: string[]; chain: string[]; depth: number };
}
async function check(principal: string, action: string, resource: string) {
  const [type, id] = resource.split(':');
  const r = await s.api('POST', '/api/v1/policies/check', { body: { principal, action, resource: { type, ...(id ? { id } : {}) } } });
  expect(r.status, r.text).toBe(200);
  return r.json as { decision: string; policyIds: string[] };
}
async function auditEntries(action: string) {
  const r = await s.api('GET', `/api/v1/audit/entries?action=${action}&limit=1000`);
  expect(r.status).toBe(200);
  return (r.json.items as Array<{ json: Record<string, any> }>).map((i) => i.json);
}

beforeAll(async () => {
  s = await startTestServer();
  coopA = await createCoop(s);
  coopB = await createCoop(s);
  A1 = (await createCluster(s, coopA.id)).id;
  A2 = (await createCluster(s, coopA.id)).id;
  B1 = (await createCluster(s, coopB.id)).id;
  TA1 = (await createTenancy(s, coopA.id, A1)).id;
  TA2 = (await createTenancy(s, coopA.id, A2)).id;
  await createTenancy(s, coopB.id, B1);
  [alice, carol, erin, frank, aud] = (await Promise.all([1, 2, 3, 4, 5].map(() => memberWithToken(s, coopA.id)))) as [Who, Who, Who, Who, Who];
  [bob, dave] = (await Promise.all([1, 2].map(() => memberWithToken(s, coopB.id)))) as [Who, Who];
  const list = await s.api('GET', '/api/v1/grants');
  root = list.json.items[0];
});

afterAll(async () => {
  await s?.stop();
});

describe('grants', () => {
  it('gives the bootstrap admin a delegable global platform_admin grant with no expiry', async () => {
    const r = await s.api('GET', `/api/v1/grants/${root.id}`);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ role: 'platform_admin', scope: { type: 'global' }, grantedBy: null, delegable: true, expiresAt: null, status: 'active', depth: 0, chain: [] });
    expect(r.headers.get('etag')).toBe(`"${root.id}.1"`);
  });

  it('delegates narrower roles down a chain; a co-op B operator on A1 can drain it and nothing else of co-op A', async () => {
    const a = await delegateOk(null, { from: root.id, account: alice.accountId, role: 'coop_admin', scope: { type: 'coop', id: coopA.id }, delegable: true, expiresAt: days(30) });
    expect(a).toMatchObject({ depth: 1, delegators: [expect.any(String)], chain: [root.id], status: 'active' });
    const b = await delegateOk(alice, { from: a.id, account: bob.accountId, role: 'cluster_operator', scope: { type: 'cluster', id: A1 }, expiresAt: days(10) });
    expect(b).toMatchObject({ depth: 2, chain: [a.id, root.id] });
    expect(b.delegators[0]).toBe(alice.accountId);

    expect(await check(bob.accountId, 'cluster.drain', `cluster:${A1}`)).toMatchObject({ decision: 'allow', policyIds: ['cluster-operator-operate'] });
    expect((await check(bob.accountId, 'cluster.readSecret', `cluster:${A1}`)).decision).toBe('allow');
    expect((await check(bob.accountId, 'cluster.readSecret', `cluster:${A2}`)).decision).toBe('deny');
    expect((await check(bob.accountId, 'cluster.read', `cluster:${A2}`)).decision).toBe('deny');
    expect((await check(bob.accountId, 'tenancy.read', `tenancy:${TA2}`)).decision).toBe('deny');
    expect((await check(bob.accountId, 'tenancy.read', `tenancy:${TA1}`)).decision).toBe('allow'); // hosted on A1
    expect((await check(bob.accountId, 'coop.read', `coop:${coopA.id}`)).decision).toBe('deny');

    // bob sees his grant (and no other of co-op A).
    const mine = await s.api('GET', '/api/v1/grants', { token: bob.token });
    expect(mine.json.items.map((g: { id: string }) => g.id)).toEqual([b.id]);
  });

  describe('refuses with the rule id', () => {
    let a: { id: string };
    let b: { id: string };
    beforeAll(async () => {
      const all = (await s.api('GET', `/api/v1/grants?account=${alice.accountId}`)).json.items;
      a = all[0];
      b = (await s.api('GET', `/api/v1/grants?account=${bob.accountId}`)).json.items[0];
    });
    const refused = async (who: Who, body: Record<string, unknown>, rule: string) => {
      const r = await delegate(who, body);
      expect(r.status, r.text).toBe(403);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(r.json).toMatchObject({ type: 'https://meetplane.org/problems/delegation-refused', rule });
      return r.json;
    };

    it('widening the role', async () => {
      await refused(alice, { from: a.id, account: carol.accountId, role: 'platform_admin', scope: { type: 'global' }, expiresAt: days(5) }, 'delegation.widen-role');
    });
    it('widening the scope, alike for a scope that does not exist', async () => {
      const outside = await refused(alice, { from: a.id, account: carol.accountId, role: 'cluster_operator', scope: { type: 'cluster', id: B1 }, expiresAt: days(5) }, 'delegation.widen-scope');
      const missing = await refused(alice, { from: a.id, account: carol.accountId, role: 'cluster_operator', scope: { type: 'cluster', id: '01900000-0000-7000-8000-000000000000' }, expiresAt: days(5) }, 'delegation.widen-scope');
      expect(missing).toEqual(outside);
    });
    it('a role on a scope it cannot be held on', async () => {
      await refused(alice, { from: a.id, account: carol.accountId, role: 'coop_admin', scope: { type: 'tenancy', id: TA1 }, expiresAt: days(5) }, 'delegation.invalid-scope');
    });
    it('extending the expiry, or one in the past', async () => {
      await refused(alice, { from: a.id, account: carol.accountId, role: 'coop_admin', scope: { type: 'coop', id: coopA.id }, expiresAt: days(31) }, 'delegation.extends-expiry');
      await refused(alice, { from: a.id, account: carol.accountId, role: 'coop_admin', scope: { type: 'coop', id: coopA.id }, expiresAt: days(-1) }, 'delegation.expiry-past');
    });
    it('re-delegating a non-delegable grant', async () => {
      await refused(bob, { from: b.id, account: carol.accountId, role: 'cluster_operator', scope: { type: 'cluster', id: A1 }, expiresAt: days(5) }, 'delegation.not-delegable');
    });
    it('delegating to yourself', async () => {
      await refused(alice, { from: a.id, account: alice.accountId, role: 'tenancy_owner', scope: { type: 'tenancy', id: TA1 }, expiresAt: days(5) }, 'delegation.self');
    });
    it('delegating from a grant you can see but do not hold', async () => {
      // alice runs co-op A, so she sees bob's grant on A1.
      await refused(alice, { from: b.id, account: carol.accountId, role: 'cluster_operator', scope: { type: 'cluster', id: A1 }, expiresAt: days(5) }, 'delegation.not-holder');
    });
    it('exceeding the chain depth (DELEGATION_MAX_DEPTH=3)', async () => {
      const c = await delegateOk(alice, { from: a.id, account: carol.accountId, role: 'coop_admin', scope: { type: 'coop', id: coopA.id }, delegable: true, expiresAt: days(20) });
      const e = await delegateOk(carol, { from: c.id, account: erin.accountId, role: 'tenancy_owner', scope: { type: 'tenancy', id: TA1 }, delegable: true, expiresAt: days(15) });
      expect(e.depth).toBe(3);
      await refused(erin, { from: e.id, account: frank.accountId, role: 'tenancy_admin', scope: { type: 'tenancy', id: TA1 }, expiresAt: days(5) }, 'delegation.too-deep');
    });
    it('every refusal is in the audit trail with its rule', async () => {
      const denied = (await auditEntries('grant.delegate')).filter((e) => e.outcome === 'denied').map((e) => e.details.rule);
      for (const rule of ['delegation.widen-role', 'delegation.widen-scope', 'delegation.invalid-scope', 'delegation.extends-expiry', 'delegation.expiry-past', 'delegation.not-delegable', 'delegation.self', 'delegation.not-holder', 'delegation.too-deep'])
        expect(denied).toContain(rule);
      const ok = (await auditEntries('grant.delegate')).filter((e) => e.outcome === 'success');
      expect(ok.length).toBeGreaterThanOrEqual(4);
      expect(ok[0]!.decision).toMatchObject({ decision: 'allow', policySetHash: policyEvaluator().policySetHash });
      // alice delegated through her own delegated grant: the entry names its chain.
      expect(ok.some((e) => e.actor.delegation?.length === 2 && e.actor.delegation[1] === root.id)).toBe(true);
      expect(JSON.stringify(ok)).not.toContain('@example.org'); // no e-mail addresses
    });
  });

  it('an expired grant delegates nothing, and what was delegated from it is inactive', async () => {
    const g = await delegateOk(null, { from: root.id, account: frank.accountId, role: 'coop_admin', scope: { type: 'coop', id: coopA.id }, delegable: true, expiresAt: days(3) });
    const child = await delegateOk(frank, { from: g.id, account: erin.accountId, role: 'cluster_operator', scope: { type: 'cluster', id: A2 }, expiresAt: days(2) });
    expect((await check(erin.accountId, 'cluster.drain', `cluster:${A2}`)).decision).toBe('allow');
    await s.database.db.execute(sql`update grants set expires_at = now() - interval '1 minute' where id = ${g.id}`);
    // Written by SQL, not through the API: the database announces it to this process's caches a moment later; say it now.
    changeFeed(s.database.db).bump('grants');
    const r = await delegate(frank, { from: g.id, account: carol.accountId, role: 'cluster_operator', scope: { type: 'cluster', id: A2 }, expiresAt: days(1) });
    expect(r.status).toBe(403);
    expect(r.json.rule).toBe('delegation.grantor-inactive');
    expect((await s.api('GET', `/api/v1/grants/${g.id}`)).json.status).toBe('expired');
    expect((await s.api('GET', `/api/v1/grants/${child.id}`)).json.status).toBe('inactive');
    expect((await check(erin.accountId, 'cluster.drain', `cluster:${A2}`)).decision).toBe('deny');
    const active = await s.api('GET', `/api/v1/grants?account=${erin.accountId}&active=true`);
    expect(active.json.items.map((x: { id: string }) => x.id)).not.toContain(child.id);
  });

  it('a Cedar denial of a change is a 403 naming the policy set, and is audited', async () => {
    await delegateOk(null, { from: root.id, account: aud.accountId, role: 'auditor', scope: { type: 'global' }, expiresAt: days(30) });
    const a = (await s.api('GET', `/api/v1/grants?account=${alice.accountId}`)).json.items[0];
    const seen = await s.api('GET', `/api/v1/grants/${a.id}`, { token: aud.token });
    expect(seen.status).toBe(200); // auditors read every grant
    const r = await s.api('POST', `/api/v1/grants/${a.id}/revoke`, { token: aud.token, body: { reason: 'no' }, headers: { 'if-match': seen.headers.get('etag')! } });
    expect(r.status).toBe(403);
    expect(r.json).toMatchObject({ type: 'https://meetplane.org/problems/forbidden', action: 'grant.revoke', policyIds: [], policySetHash: policyEvaluator().policySetHash });
    expect(r.json.detail).toMatch(/no policy permits grant\.revoke/);
    const denied = (await auditEntries('grant.revoke')).filter((e) => e.outcome === 'denied');
    expect(denied.at(-1)).toMatchObject({ subject: { type: 'grant', id: a.id }, decision: { decision: 'deny', policySetHash: policyEvaluator().policySetHash } });
  });

  it('revoking a grant revokes everything delegated from it, at once, audited', async () => {
    const a = (await s.api('GET', `/api/v1/grants?account=${alice.accountId}`)).json.items[0];
    const below = [bob, carol, erin].map((w) => w.accountId);
    const noMatch = await s.api('POST', `/api/v1/grants/${a.id}/revoke`, { body: { reason: 'x' } });
    expect(noMatch.status).toBe(428);
    const stale = await s.api('POST', `/api/v1/grants/${a.id}/revoke`, { body: { reason: 'x' }, headers: { 'if-match': `"${a.id}.9"` } });
    expect(stale.status).toBe(412);
    const r = await s.api('POST', `/api/v1/grants/${a.id}/revoke`, { body: { reason: 'left the co-op' }, headers: { 'if-match': `"${a.id}.${a.version}"` } });
    expect(r.status, r.text).toBe(200);
    expect(r.json.status).toBe('revoked');
    expect(r.json.revoked[0]).toBe(a.id);
    expect(r.json.revoked).toHaveLength(4); // alice's, bob's, carol's and erin's (carol delegated to erin)
    for (const id of r.json.revoked) {
      const g = await s.api('GET', `/api/v1/grants/${id}`);
      expect(g.json.status).toBe('revoked');
      expect(g.json.revokedAt).toBe(r.json.revokedAt);
      expect([alice.accountId, ...below]).toContain(g.json.accountId);
    }
    expect((await check(bob.accountId, 'cluster.drain', `cluster:${A1}`)).decision).toBe('deny');
    const again = await s.api('POST', `/api/v1/grants/${a.id}/revoke`, { body: { reason: 'x' }, headers: { 'if-match': r.headers.get('etag')! } });
    expect(again.status).toBe(409);
    const entries = await auditEntries('grant.revoke');
    expect(entries.filter((e) => e.outcome === 'success').at(-1)).toMatchObject({ subject: { id: a.id }, details: { cascaded: r.json.revoked.slice(1) }, decision: { decision: 'allow' } });
    expect((await auditEntries('grant.revoke-cascade')).map((e) => e.subject.id).sort()).toEqual(r.json.revoked.slice(1).sort());
  });

  it('never reveals other co-ops\' grants: 404 exactly like a missing one (paths, bodies, filters)', async () => {
    const d = await delegateOk(null, { from: root.id, account: dave.accountId, role: 'coop_admin', scope: { type: 'coop', id: coopB.id }, delegable: true, expiresAt: days(30) });
    const foreign = await delegateOk(null, { from: root.id, account: carol.accountId, role: 'coop_admin', scope: { type: 'coop', id: coopA.id }, delegable: true, expiresAt: days(30) });
    const missing = '01900000-0000-7000-8000-0000000000aa';
    const strip = (j: Record<string, unknown>) => ({ ...j, instance: undefined, detail: j.detail });
    const seen = await s.api('GET', `/api/v1/grants/${foreign.id}`, { token: dave.token });
    const none = await s.api('GET', `/api/v1/grants/${missing}`, { token: dave.token });
    expect(seen.status).toBe(404);
    expect(strip(seen.json)).toEqual(strip(none.json));
    const viaBody = await delegate(dave, { from: foreign.id, account: bob.accountId, role: 'coop_admin', scope: { type: 'coop', id: coopA.id }, expiresAt: days(1) });
    const viaMissing = await delegate(dave, { from: missing, account: bob.accountId, role: 'coop_admin', scope: { type: 'coop', id: coopA.id }, expiresAt: days(1) });
    expect(viaBody.status).toBe(404);
    expect(strip(viaBody.json)).toEqual(strip(viaMissing.json));
    const revoke = await s.api('POST', `/api/v1/grants/${foreign.id}/revoke`, { token: dave.token, body: { reason: 'x' }, headers: { 'if-match': '*' } });
    expect(revoke.status).toBe(404);
    const filtered = await s.api('GET', `/api/v1/grants?account=${carol.accountId}`, { token: dave.token });
    expect(filtered.json.items).toEqual([]);
    const list = await s.api('GET', '/api/v1/grants', { token: dave.token });
    expect(list.json.items.map((g: { id: string }) => g.id)).toEqual([d.id]);
  });

  it('fills a page of the list with grants the caller may see, however many others come before them', async () => {
    const coopC = await createCoop(s);
    const [cAdmin, cOne, cTwo] = await Promise.all([1, 2, 3].map(() => memberWithToken(s, coopC.id)));
    const own = await delegateOk(null, { from: root.id, account: cAdmin!.accountId, role: 'coop_admin', scope: { type: 'coop', id: coopC.id }, delegable: true, expiresAt: days(30) });
    const [g1, g2] = [
      await delegateOk(cAdmin!, { from: own.id, account: cOne!.accountId, role: 'coop_admin', scope: { type: 'coop', id: coopC.id }, expiresAt: days(10) }),
      await delegateOk(cAdmin!, { from: own.id, account: cTwo!.accountId, role: 'coop_admin', scope: { type: 'coop', id: coopC.id }, expiresAt: days(10) }),
    ];
    // Every grant made before these (other co-ops', the platform's) comes first by id: a page of two is still two of C's.
    const first = await s.api('GET', '/api/v1/grants?limit=2', { token: cAdmin!.token });
    expect(first.json.items.map((g: { id: string }) => g.id)).toEqual([own.id, g1!.id]);
    const second = await s.api('GET', `/api/v1/grants?limit=2&cursor=${encodeURIComponent(first.json.nextCursor)}`, { token: cAdmin!.token });
    expect(second.json.items.map((g: { id: string }) => g.id)).toEqual([g2!.id]);
  });

  it('serves the policy set, its hash and schema to every account', async () => {
    const r = await s.api('GET', '/api/v1/policies', { token: frank.token });
    expect(r.status).toBe(200);
    expect(r.json.hash).toBe(policyEvaluator().policySetHash);
    expect(r.json.schema).toContain('entity Coop in [Platform]');
    const ids = r.json.policies.map((p: { id: string }) => p.id);
    expect(ids).toContain('platform-admin-all');
    expect(r.json.policies.find((p: { id: string }) => p.id === 'deny-unverified-grants-on-change')).toMatchObject({ effect: 'forbid', file: 'guards.cedar' });
    expect(r.json.actions.find((a: { action: string }) => a.action === 'cluster.drain')).toMatchObject({ changes: true, resourceTypes: ['Cluster'] });
  });

  it('explains decisions, and hides objects and accounts the caller cannot see', async () => {
    const mine = await s.api('POST', '/api/v1/policies/check', { token: frank.token, body: { action: 'coop.read', resource: { type: 'coop', id: coopA.id } } });
    expect(mine.status).toBe(200);
    expect(mine.json).toMatchObject({ decision: 'allow', policyIds: ['account-read-home-coop'] });
    expect(mine.json.policies.find((p: { id: string }) => p.id === 'account-read-home-coop')).toMatchObject({ matches: true });
    const other = await s.api('POST', '/api/v1/policies/check', { token: frank.token, body: { action: 'coop.read', resource: { type: 'coop', id: coopB.id } } });
    expect(other.status).toBe(404);
    const someone = await s.api('POST', '/api/v1/policies/check', { token: frank.token, body: { principal: dave.accountId, action: 'coop.read', resource: { type: 'coop', id: coopA.id } } });
    expect(someone.status).toBe(404);
    const bad = await s.api('POST', '/api/v1/policies/check', { token: frank.token, body: { action: 'coop.read', resource: { type: 'planet', id: 'x' } } });
    expect(bad.status).toBe(400);
    const unknown = await s.api('POST', '/api/v1/policies/check', { token: frank.token, body: { action: 'coop.fly', resource: { type: 'platform' } } });
    expect(unknown.status).toBe(200);
    expect(unknown.json).toMatchObject({ decision: 'deny', policies: [] });
  });

  it('validates input: unknown fields, bad scopes and roles answer 400 problems', async () => {
    const a = await delegate(null, { from: root.id, account: carol.accountId, role: 'emperor', scope: { type: 'global' }, expiresAt: days(1) });
    expect(a.status).toBe(400);
    const b = await delegate(null, { from: root.id, account: carol.accountId, role: 'auditor', scope: { type: 'coop' }, expiresAt: days(1) });
    expect(b.status).toBe(400);
    const c = await delegate(null, { from: root.id, account: carol.accountId, role: 'auditor', scope: { type: 'global' }, expiresAt: 'tomorrow' });
    expect(c.status).toBe(400);
    const d = await delegate(null, { from: root.id, account: '01900000-0000-7000-8000-0000000000bb', role: 'auditor', scope: { type: 'global' }, expiresAt: days(1) });
    expect(d.status).toBe(400);
    expect(d.json.errors).toEqual([{ path: 'account', message: 'no such account' }]);
    const e = await s.api('POST', '/api/v1/grants', { body: { from: root.id, extra: 1 } });
    expect(e.status).toBe(400);
  });
});

describe('what the audit log holds of grants', () => {
  it('the bootstrap grant: created from no other grant, for the whole platform, with its reason', async () => {
    const created = (await auditEntries('grant.create')).find((e) => e.subject.id === root.id);
    expect(created).toMatchObject({ subject: { type: 'grant' }, after: { role: 'platform_admin', scope: 'global', grantedBy: null, depth: 0, delegable: true, expiresAt: null, revokedAt: null } });
    expect(created!.details.reason).toEqual(expect.any(String));
  });

  it('a delegation and its revocation: the grant, its holder by pseudonym, the chain acted through, the reason; the holder\'s sessions end', async () => {
    const coopC = await createCoop(s);
    const [x, y] = (await Promise.all([1, 2].map(() => memberWithToken(s, coopC.id)))) as [Who, Who];
    const before = Date.now();
    const gx = await delegateOk(null, { from: root.id, account: x.accountId, role: 'coop_admin', scope: { type: 'coop', id: coopC.id }, delegable: true, expiresAt: days(30), reason: 'runs co-op C' });
    const gy = await delegateOk(x, { from: gx.id, account: y.accountId, role: 'coop_admin', scope: { type: 'coop', id: coopC.id }, expiresAt: days(10), reason: 'helps run it' });
    const delegated = (await auditEntries('grant.delegate')).filter((e) => e.outcome === 'success');
    const [ex, ey] = [gx, gy].map((g) => delegated.find((e) => e.subject.id === g.id)!);
    // The platform admin acted through the root grant, which has no chain above it; x through gx, from the root.
    expect(ex!.actor.delegation).toBeUndefined();
    expect(ey!.actor.delegation).toEqual([gx.id, root.id]);
    expect(ey!.after).toEqual({ holder: expect.stringMatching(/^p:[0-9a-f]{32}$/), role: 'coop_admin', scope: `coop:${coopC.id}`, grantedBy: gx.id, delegable: false, transferApproval: false, depth: 2, expiresAt: expect.any(String), revokedAt: null });
    expect(ey!.details).toEqual({ reason: 'helps run it' });
    expect(JSON.stringify(ey)).not.toContain(y.accountId);
    // Sessions opened on y's old roles end with the delegation.
    const [row] = rowsOf<{ at: string | Date | null }>(await s.database.db.execute(sql`select sessions_valid_after as at from accounts where id = ${y.accountId}`));
    expect(row?.at && new Date(row.at).getTime()).toBeGreaterThanOrEqual(before - 1_000);

    const r = await s.api('POST', `/api/v1/grants/${gx.id}/revoke`, { body: { reason: 'co-op C wound up' }, headers: { 'if-match': `"${gx.id}.${gx.version}"` } });
    expect(r.status, r.text).toBe(200);
    const cascade = (await auditEntries('grant.revoke-cascade')).find((e) => e.subject.id === gy.id);
    expect(cascade!.details).toEqual({ holder: ey!.after.holder, cause: gx.id });
  });

  it('a refusal names the rule, the role asked for, and whether it was to approve transfers', async () => {
    const coopD = await createCoop(s);
    const z = await memberWithToken(s, coopD.id);
    const gz = await delegateOk(null, { from: root.id, account: z.accountId, role: 'coop_admin', scope: { type: 'coop', id: coopD.id }, delegable: true, expiresAt: days(30) });
    expect((await delegate(z, { from: gz.id, account: alice.accountId, role: 'platform_admin', scope: { type: 'global' }, expiresAt: days(5) })).status).toBe(403);
    const denied = (await auditEntries('grant.delegate')).filter((e) => e.outcome === 'denied' && e.subject.id === gz.id);
    expect(denied.map((e) => e.details)).toEqual([{ rule: 'delegation.widen-role', role: 'platform_admin', transferApproval: false }]);
  });
});

describe('the list of grants, active only', () => {
  it('fills a page with active grants however many revoked ones come first; without the filter it shows them all with their status', async () => {
    const coopE = await createCoop(s);
    const h = await memberWithToken(s, coopE.id);
    const give = () => delegateOk(null, { from: root.id, account: h.accountId, role: 'coop_admin', scope: { type: 'coop', id: coopE.id }, expiresAt: days(30) });
    const [r1, r2, live] = [await give(), await give(), await give()];
    for (const g of [r1, r2]) expect((await s.api('POST', `/api/v1/grants/${g.id}/revoke`, { body: { reason: 'x' }, headers: { 'if-match': `"${g.id}.${g.version}"` } })).status).toBe(200);
    const active = await s.api('GET', `/api/v1/grants?account=${h.accountId}&active=true&limit=1`);
    expect(active.json.items.map((g: { id: string }) => g.id)).toEqual([live.id]);
    const all = await s.api('GET', `/api/v1/grants?account=${h.accountId}`);
    expect(all.json.items.map((g: { id: string; status: string }) => [g.id, g.status])).toEqual([[r1.id, 'revoked'], [r2.id, 'revoked'], [live.id, 'active']]);
  });
});
