// The authorisation matrix over the REST routes: every route must say which
// Cedar action it asks for (policies/route-actions.ts), every such action must
// have rows in the table next to the policies (policies/authz-table.ts), and
// every route on a single object is called by every holder on an object in
// every relation of the table: an allowed read answers 2xx, a denied call
// answers 403 or 404 (404 when the holder may not even see the object) and
// changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { ROUTE_ACTIONS } from '../../policies/route-actions.js';
import { authzTable, HOLDERS, HOLDER_GRANTS, type Holder, type Relation } from '../../policies/authz-table.js';
import { policyEvaluator } from '../../policies/evaluator.js';

let s: TestServer;
const tokens = {} as Record<Holder, { token: string; accountId: string }>;
const world = {} as {
  A: { id: string };
  B: { id: string };
  A1: { id: string };
  A2: { id: string };
  B1: { id: string };
  TA1: { id: string };
  TA2: { id: string };
  TB1: { id: string };
  otherA: string;
  otherB: string;
};

beforeAll(async () => {
  s = await startTestServer();
  world.A = await createCoop(s);
  world.B = await createCoop(s);
  world.A1 = await createCluster(s, world.A.id);
  world.A2 = await createCluster(s, world.A.id);
  world.B1 = await createCluster(s, world.B.id);
  world.TA1 = await createTenancy(s, world.A.id, world.A1.id);
  world.TA2 = await createTenancy(s, world.A.id, world.A2.id);
  world.TB1 = await createTenancy(s, world.B.id, world.B1.id);
  world.otherA = (await memberWithToken(s, world.A.id)).accountId;
  world.otherB = (await memberWithToken(s, world.B.id)).accountId;
  const [root] = (await s.api('GET', '/api/v1/grants?active=true')).json.items;
  const scopeIds = { global: undefined, A: world.A.id, A1: world.A1.id, TA1: world.TA1.id } as const;
  for (const h of HOLDERS) {
    tokens[h] = await memberWithToken(s, world.A.id);
    const g = HOLDER_GRANTS[h];
    if (g) {
      const res = await s.api('POST', '/api/v1/grants', {
        body: {
          from: root.id,
          account: tokens[h].accountId,
          role: g.role,
          scope: g.scopeType === 'global' ? { type: 'global' } : { type: g.scopeType, id: scopeIds[g.scope] },
          delegable: true,
          expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
          reason: `matrix holder ${h}`,
        },
      });
      expect(res.status, res.text).toBe(201);
    }
    if (h === 'me') await s.api('PUT', `/api/v1/tenancies/${world.TA1.id}/members/${tokens[h].accountId}`, { body: { role: 'member' } });
  }
});
afterAll(async () => {
  await s?.stop();
});

/** The object of a relation, for the resource kinds the single-object routes take. */
function target(kind: string, relation: Relation, holder: Holder): string | undefined {
  const byKind: Record<string, Partial<Record<Relation, string>>> = {
    coop: { 'own-coop': world.A.id, 'other-coop': world.B.id },
    cluster: { 'own-cluster': world.A1.id, 'other-cluster': world.A2.id, 'other-coop': world.B1.id },
    tenancy: { 'own-tenancy': world.TA1.id, 'other-tenancy': world.TA2.id, 'other-coop': world.TB1.id },
    account: { self: tokens[holder].accountId, 'own-coop': world.otherA, 'other-coop': world.otherB },
  };
  return byKind[kind]?.[relation];
}

const rows = authzTable();

describe('authorisation matrix', () => {
  it('names an action for every route, and table rows for every action', async () => {
    const doc = (await s.api('GET', '/api/v1/openapi.json', { token: null })).json;
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    expect(routes.length).toBeGreaterThan(50);
    expect(routes.filter((r) => !(r in ROUTE_ACTIONS))).toEqual([]);
    expect(Object.keys(ROUTE_ACTIONS).filter((r) => !routes.includes(r))).toEqual([]);
    const evaluator = policyEvaluator();
    for (const [route, { action }] of Object.entries(ROUTE_ACTIONS)) {
      if (action === null) continue;
      expect(evaluator.isAction(action), `${route}: ${action} is not in the policy schema`).toBe(true);
      expect(rows.some((r) => r.action === action), `${route}: no rows for ${action} in authz-table.ts`).toBe(true);
    }
  });

  const reads = Object.entries(ROUTE_ACTIONS).filter(([route, r]) => route.startsWith('GET ') && route.includes('{id}') && ['coop', 'cluster', 'tenancy', 'account'].includes(r.resource));
  it.each(reads)('%s answers every holder as the table says', async (route, { action, resource }) => {
    const path = route.slice(4);
    const checked: string[] = [];
    for (const row of rows.filter((r) => r.action === action)) {
      for (const holder of HOLDERS) {
        const expectation = row.expect[holder];
        const id = target(resource, row.relation, holder);
        if (expectation === 'n/a' || !id) continue;
        const res = await s.api('GET', '/api/v1' + path.replace('{id}', id), { token: tokens[holder].token });
        const what = `${route} ${row.relation} as ${holder}: ${res.status}`;
        if (expectation === 'allow') expect(res.status, what).toBe(200);
        else expect([403, 404], what).toContain(res.status);
        checked.push(what);
      }
    }
    expect(checked.length).toBeGreaterThan(0);
  });

  // Changes that the table denies are refused and change nothing.
  const writes: Array<[string, string, (id: string) => { method: string; path: string; body?: unknown }, string]> = [
    ['coop.update', 'coop', (id) => ({ method: 'PATCH', path: `/coops/${id}`, body: { name: 'Renamed' } }), 'coop'],
    ['coop.delete', 'coop', (id) => ({ method: 'DELETE', path: `/coops/${id}` }), 'coop'],
    ['cluster.update', 'cluster', (id) => ({ method: 'PATCH', path: `/clusters/${id}`, body: { capacity: 1 } }), 'cluster'],
    ['cluster.drain', 'cluster', (id) => ({ method: 'PATCH', path: `/clusters/${id}`, body: { state: 'draining' } }), 'cluster'],
    ['cluster.delete', 'cluster', (id) => ({ method: 'DELETE', path: `/clusters/${id}` }), 'cluster'],
    ['tenancy.update', 'tenancy', (id) => ({ method: 'PATCH', path: `/tenancies/${id}`, body: { retentionDays: 7 } }), 'tenancy'],
    ['tenancy.rotateSecret', 'tenancy', (id) => ({ method: 'POST', path: `/tenancies/${id}/rotate-secret` }), 'tenancy'],
    ['tenancy.delete', 'tenancy', (id) => ({ method: 'DELETE', path: `/tenancies/${id}` }), 'tenancy'],
    ['membership.set', 'tenancy', (id) => ({ method: 'PUT', path: `/tenancies/${id}/members/${world.otherA}`, body: { role: 'admin' } }), 'tenancy'],
  ];
  it.each(writes)('%s is refused where the table denies it, and nothing changes', async (action, kind, request, readPath) => {
    let checked = 0;
    for (const row of rows.filter((r) => r.action === action)) {
      for (const holder of HOLDERS) {
        const id = target(kind, row.relation, holder);
        if (row.expect[holder] !== 'deny' || !id) continue;
        const plural = readPath === 'tenancy' ? 'tenancies' : `${readPath}s`;
        const before = await s.api('GET', `/api/v1/${plural}/${id}`);
        const r = request(id);
        const res = await s.api(r.method, '/api/v1' + r.path, { token: tokens[holder].token, body: r.body, headers: { 'if-match': before.headers.get('etag')! } });
        expect([403, 404], `${action} ${row.relation} as ${holder}: ${res.status} ${res.text}`).toContain(res.status);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        const after = await s.api('GET', `/api/v1/${plural}/${id}`);
        expect(after.headers.get('etag'), `${action} ${row.relation} as ${holder} changed the object`).toBe(before.headers.get('etag'));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});
