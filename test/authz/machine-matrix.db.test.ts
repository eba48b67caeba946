// The authorisation matrix for machine clients over the REST routes, with real
// client-credentials tokens: a machine client of co-op A holding each role of
// the person table (delegated from the platform admin's grant), a co-op client
// and a tenancy client holding none, each call every single-object read route
// on an object in every relation; policies/machine-table.ts says what each may
// do. Denied changes answer 403 or 404 and change nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { discover, startSsoServer } from '../oidc/helpers.js';
import { ROUTE_ACTIONS } from '../../policies/route-actions.js';
import { HOLDER_GRANTS, type Relation } from '../../policies/authz-table.js';
import { MACHINE_AS, MACHINE_HOLDERS, machineTable, type MachineHolder } from '../../policies/machine-table.js';

let s: Awaited<ReturnType<typeof startSsoServer>>;
const tokens = {} as Record<MachineHolder, string>;
const w = {} as Record<'A' | 'B' | 'A1' | 'A2' | 'B1' | 'TA1' | 'TA2' | 'TB1', { id: string }> & { otherA: string; otherB: string };

beforeAll(async () => {
  s = await startSsoServer();
  w.A = await createCoop(s);
  w.B = await createCoop(s);
  w.A1 = await createCluster(s, w.A.id);
  w.A2 = await createCluster(s, w.A.id);
  w.B1 = await createCluster(s, w.B.id);
  w.TA1 = await createTenancy(s, w.A.id, w.A1.id);
  w.TA2 = await createTenancy(s, w.A.id, w.A2.id);
  w.TB1 = await createTenancy(s, w.B.id, w.B1.id);
  w.otherA = (await memberWithToken(s, w.A.id)).accountId;
  w.otherB = (await memberWithToken(s, w.B.id)).accountId;
  const [root] = (await s.api('GET', '/api/v1/grants?active=true')).json.items;
  const scopeIds = { global: undefined, A: w.A.id, A1: w.A1.id, TA1: w.TA1.id } as const;
  for (const h of MACHINE_HOLDERS) {
    const res = await s.api('POST', '/api/v1/clients', { body: { name: `matrix ${h}`, coop: w.A.id, kind: 'machine', ...(h === 'm-tenancy' ? { tenancy: w.TA1.id } : {}) } });
    expect(res.status, res.text).toBe(201);
    const g = HOLDER_GRANTS[MACHINE_AS[h]];
    if (g) {
      const granted = await s.api('POST', '/api/v1/grants', {
        body: {
          from: root.id,
          client: res.json.id,
          role: g.role,
          scope: g.scopeType === 'global' ? { type: 'global' } : { type: g.scopeType, id: scopeIds[g.scope] },
          delegable: true,
          expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
          reason: `matrix holder ${h}`,
        },
      });
      expect(granted.status, granted.text).toBe(201);
    }
    const config = await discover(s, res.json.clientId, res.json.clientSecret);
    tokens[h] = (await oidc.clientCredentialsGrant(config, { scope: 'api', resource: s.apiResource })).access_token;
  }
}, 120_000);
afterAll(async () => {
  await s?.stop();
});

/** The object of a relation; a machine client has no account of its own to read (`self`). */
function target(kind: string, relation: Relation): string | undefined {
  const byKind: Record<string, Partial<Record<Relation, string>>> = {
    coop: { 'own-coop': w.A.id, 'other-coop': w.B.id },
    cluster: { 'own-cluster': w.A1.id, 'other-cluster': w.A2.id, 'other-coop': w.B1.id },
    tenancy: { 'own-tenancy': w.TA1.id, 'other-tenancy': w.TA2.id, 'other-coop': w.TB1.id },
    account: { 'own-coop': w.otherA, 'other-coop': w.otherB },
  };
  return byKind[kind]?.[relation];
}

const rows = machineTable();

describe('authorisation matrix for machine clients', () => {
  const reads = Object.entries(ROUTE_ACTIONS).filter(([route, r]) => route.startsWith('GET ') && route.includes('{id}') && ['coop', 'cluster', 'tenancy', 'account'].includes(r.resource));
  it.each(reads)('%s answers every machine holder as the table says', async (route, { action, resource }) => {
    const path = route.slice(4);
    const checked: string[] = [];
    for (const row of rows.filter((r) => r.action === action)) {
      for (const h of MACHINE_HOLDERS) {
        const id = target(resource, row.relation);
        if (row.expect[h] === 'n/a' || !id) continue;
        const res = await s.api('GET', '/api/v1' + path.replace('{id}', id), { token: tokens[h] });
        const what = `${route} ${row.relation} as ${h}: ${res.status}`;
        if (row.expect[h] === 'allow') expect(res.status, what).toBe(200);
        else expect([403, 404], what).toContain(res.status);
        checked.push(what);
      }
    }
    expect(checked.length).toBeGreaterThan(0);
  });

  const writes: Array<[string, string, (id: string) => { method: string; path: string; body?: unknown }]> = [
    ['coop.update', 'coop', (id) => ({ method: 'PATCH', path: `/coops/${id}`, body: { name: 'Renamed' } })],
    ['cluster.drain', 'cluster', (id) => ({ method: 'PATCH', path: `/clusters/${id}`, body: { state: 'draining' } })],
    ['cluster.delete', 'cluster', (id) => ({ method: 'DELETE', path: `/clusters/${id}` })],
    ['tenancy.update', 'tenancy', (id) => ({ method: 'PATCH', path: `/tenancies/${id}`, body: { retentionDays: 7 } })],
    ['tenancy.rotateSecret', 'tenancy', (id) => ({ method: 'POST', path: `/tenancies/${id}/rotate-secret` })],
  ];
  it.each(writes)('%s is refused where the table denies it, and nothing changes', async (action, kind, request) => {
    let checked = 0;
    for (const row of rows.filter((r) => r.action === action)) {
      for (const h of MACHINE_HOLDERS) {
        const id = target(kind, row.relation);
        if (row.expect[h] !== 'deny' || !id) continue;
        const plural = kind === 'tenancy' ? 'tenancies' : `${kind}s`;
        const before = await s.api('GET', `/api/v1/${plural}/${id}`);
        const r = request(id);
        const res = await s.api(r.method, '/api/v1' + r.path, { token: tokens[h], body: r.body, headers: { 'if-match': before.headers.get('etag')! } });
        expect([403, 404], `${action} ${row.relation} as ${h}: ${res.status} ${res.text}`).toContain(res.status);
        const after = await s.api('GET', `/api/v1/${plural}/${id}`);
        expect(after.headers.get('etag'), `${action} ${row.relation} as ${h} changed the object`).toBe(before.headers.get('etag'));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});
