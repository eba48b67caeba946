import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { auditCount, coopAdminWithToken, createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.stop();
});

const etagOf = async (path: string, token?: string) => (await s.api('GET', path, token ? { token } : {})).headers.get('etag')!;

describe('clusters', () => {
  it('registers a cluster and never returns its secret', async () => {
    const coop = await createCoop(s);
    const res = await s.api('POST', '/api/v1/clusters', {
      body: { coop: coop.slug, name: 'main', apiUrl: 'https://bbb.example.org/bigbluebutton/api/', secret: 'very-secret-value-1', checksumAlgorithm: 'sha512', country: 'DE', capacity: 300 },
    });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ coopId: coop.id, name: 'main', apiUrl: 'https://bbb.example.org/bigbluebutton/api', checksumAlgorithm: 'sha512', state: 'enabled' });
    expect(res.text).not.toContain('very-secret-value-1');
    expect(Object.keys(res.json)).not.toContain('secret');
    const shown = await s.api('GET', `/api/v1/clusters/${res.json.id}`);
    expect(shown.text).not.toContain('very-secret-value-1');
  });

  it.each([
    ['an unknown co-op', { coop: 'no-such-coop' }, 'coop'],
    ['a bad URL', { apiUrl: 'ftp://x' }, 'apiUrl'],
    ['a bad algorithm', { checksumAlgorithm: 'md5' }, 'checksumAlgorithm'],
    ['a bad country', { country: 'ZZ' }, 'country'],
    ['a negative capacity', { capacity: -1 }, 'capacity'],
    ['a fractional capacity', { capacity: 1.5 }, 'capacity'],
    ['a capacity as a string', { capacity: '10' }, 'capacity'],
    ['a short secret', { secret: 'x' }, 'secret'],
    ['an unknown state', { state: 'broken' }, 'state'],
    ['an unknown field', { secretPlain: 'x' }, ''],
  ])('answers 400 for %s and writes nothing', async (_w, over, field) => {
    const coop = await createCoop(s);
    const before = await auditCount(s);
    const body = { coop: coop.id, name: 'c', apiUrl: 'https://b.example/bigbluebutton/api', secret: 'long-enough-secret', country: 'DE', capacity: 5, ...over };
    const res = await s.api('POST', '/api/v1/clusters', { body });
    expect(res.status).toBe(400);
    expect(res.json.errors.some((e: { path: string }) => e.path === field)).toBe(true);
    expect(await auditCount(s)).toBe(before);
    expect(res.text).not.toContain('long-enough-secret');
  });

  it('refuses a duplicate cluster name within a co-op but allows it in another', async () => {
    const a = await createCoop(s);
    const b = await createCoop(s);
    await createCluster(s, a.id, { name: 'same' });
    const dup = await s.api('POST', '/api/v1/clusters', {
      body: { coop: a.id, name: 'same', apiUrl: 'https://b.example/bigbluebutton/api', secret: 'long-enough-secret', country: 'DE', capacity: 5 },
    });
    expect(dup.status).toBe(409);
    await createCluster(s, b.id, { name: 'same' });
  });

  it('drains a cluster and rotates its secret with If-Match, recording both without the secret', async () => {
    const coop = await createCoop(s);
    const cluster = await createCluster(s, coop.id);
    const path = `/api/v1/clusters/${cluster.id}`;
    const res = await s.api('PATCH', path, { body: { state: 'draining', secret: 'rotated-secret-9876' }, headers: { 'if-match': await etagOf(path) } });
    expect(res.status).toBe(200);
    expect(res.json.state).toBe('draining');
    const { sql } = await import('drizzle-orm');
    const { rowsOf } = await import('../../server/db/index.js');
    const [row] = rowsOf<{ entry: Uint8Array }>(
      await s.database.db.execute(sql`select entry from audit_entries where subject_id = ${cluster.id} and action = 'cluster.update'`),
    );
    const entry = Buffer.from(row!.entry).toString();
    expect(JSON.parse(entry).details).toEqual({ secretRotated: true });
    expect(entry).not.toContain('rotated-secret-9876');
    expect(entry).toContain('"state":"draining"');
  });

  it('filters the listing by co-op and hides other co-ops\' clusters from co-op admins', async () => {
    const a = await createCoop(s);
    const b = await createCoop(s);
    const ca = await createCluster(s, a.id);
    const cb = await createCluster(s, b.id);
    const adminList = await s.api('GET', `/api/v1/clusters?coop=${a.slug}`);
    expect(adminList.json.items.map((c: { id: string }) => c.id)).toEqual([ca.id]);

    // A co-op admin sees their co-op's clusters; a member without a role none at all.
    const { token } = await coopAdminWithToken(s, a.id);
    const plain = await memberWithToken(s, a.id);
    expect((await s.api('GET', '/api/v1/clusters', { token: plain.token })).json.items).toEqual([]);
    expect((await s.api('GET', `/api/v1/clusters/${ca.id}`, { token: plain.token })).status).toBe(404);
    const mine = await s.api('GET', '/api/v1/clusters', { token });
    expect(mine.json.items.map((c: { id: string }) => c.id)).toEqual([ca.id]);
    expect((await s.api('GET', `/api/v1/clusters?coop=${b.id}`, { token })).json.items).toEqual([]);
    expect((await s.api('GET', `/api/v1/clusters/${cb.id}`, { token })).status).toBe(404);
    expect((await s.api('GET', '/api/v1/clusters/no-such-cluster')).status).toBe(404);
    expect((await s.api('GET', `/api/v1/clusters/${'x'.repeat(64)}`)).status).toBe(400);
  });

  it('names a cluster by its slug wherever its id is taken, derived from the name when not given', async () => {
    const coop = await createCoop(s);
    const other = await createCoop(s);
    const body = { apiUrl: 'https://b.example/bigbluebutton/api', secret: 'long-enough-secret', country: 'DE', capacity: 5 };
    const derived = await s.api('POST', '/api/v1/clusters', { body: { coop: coop.slug, name: 'BBB Süd #1', ...body } });
    expect(derived.status).toBe(201);
    const slug = derived.json.slug as string;
    expect(slug).toMatch(/^bbb-s-d-1(-\d+)?$/);
    // The same name in another co-op gets the next free slug.
    const again = await s.api('POST', '/api/v1/clusters', { body: { coop: other.slug, name: 'BBB Süd #1', ...body } });
    expect(again.json.slug).not.toBe(slug);
    expect(again.json.slug.startsWith('bbb-s-d-1')).toBe(true);
    const given = await s.api('POST', '/api/v1/clusters', { body: { coop: coop.id, slug: `north-${coop.slug}`, name: 'second', ...body } });
    expect(given.json.slug).toBe(`north-${coop.slug}`);
    const dup = await s.api('POST', '/api/v1/clusters', { body: { coop: coop.id, slug: given.json.slug, name: 'third', ...body } });
    expect(dup.status).toBe(409);
    expect(dup.json.type).toMatch(/slug-taken$/);
    const uuidShaped = await s.api('POST', '/api/v1/clusters', { body: { coop: coop.id, slug: '01900000-0000-7000-8000-000000000000', name: 'fourth', ...body } });
    expect(uuidShaped.status).toBe(400);

    for (const ref of [given.json.id, given.json.slug]) {
      const shown = await s.api('GET', `/api/v1/clusters/${ref}`);
      expect(shown.status, ref).toBe(200);
      expect(shown.json.id).toBe(given.json.id);
      expect((await s.api('GET', `/api/v1/clusters/${ref}/health`)).json.clusterId).toBe(given.json.id);
    }
    // A tenancy placed, listed and moved by cluster slug keeps the cluster's id.
    const t = await s.api('POST', '/api/v1/tenancies', { body: { slug: `t-${coop.slug}`, name: 'T', coop: coop.slug, cluster: slug } });
    expect(t.status).toBe(201);
    expect(t.json.clusterId).toBe(derived.json.id);
    expect((await s.api('GET', `/api/v1/tenancies?cluster=${slug}`)).json.items.map((i: { id: string }) => i.id)).toEqual([t.json.id]);
    expect((await s.api('GET', '/api/v1/tenancies?cluster=no-such-cluster')).json.items).toEqual([]);
    const tpath = `/api/v1/tenancies/${t.json.id}`;
    const moved = await s.api('PATCH', tpath, { body: { cluster: given.json.slug }, headers: { 'if-match': await etagOf(tpath) } });
    expect(moved.status).toBe(200);
    expect(moved.json.clusterId).toBe(given.json.id);
    // A slug can be changed; the old one then names nothing.
    const cpath = `/api/v1/clusters/${given.json.id}`;
    const renamed = await s.api('PATCH', cpath, { body: { slug: `renamed-${coop.slug}` }, headers: { 'if-match': await etagOf(cpath) } });
    expect(renamed.json.slug).toBe(`renamed-${coop.slug}`);
    expect((await s.api('GET', `/api/v1/clusters/${given.json.slug}`)).status).toBe(404);
  });

  it('refuses to delete a cluster that still hosts a tenancy', async () => {
    const coop = await createCoop(s);
    const cluster = await createCluster(s, coop.id);
    await createTenancy(s, coop.id, cluster.id);
    const path = `/api/v1/clusters/${cluster.id}`;
    const res = await s.api('DELETE', path, { headers: { 'if-match': await etagOf(path) } });
    expect(res.status).toBe(409);
    expect(res.json.type).toMatch(/cluster-in-use$/);
  });
});

describe('tenancies', () => {
  it('creates a tenancy and shows its BBB secret exactly once', async () => {
    const coop = await createCoop(s);
    const cluster = await createCluster(s, coop.id);
    const res = await s.api('POST', '/api/v1/tenancies', {
      body: { slug: 'school-a', name: 'School A', coop: coop.id, cluster: cluster.id, residency: { kind: 'countries', countries: ['FR', 'DE', 'DE'] }, retentionDays: 90 },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.json.bbbSecret).toMatch(/^[0-9a-f]{48}$/);
    expect(res.json).toMatchObject({ slug: 'school-a', state: 'active', retentionDays: 90, residency: { kind: 'countries', countries: ['DE', 'FR'] } });
    const shown = await s.api('GET', '/api/v1/tenancies/school-a');
    expect(shown.text).not.toContain(res.json.bbbSecret);
    expect(shown.json.bbbSecret).toBeUndefined();
    const listed = await s.api('GET', '/api/v1/tenancies');
    expect(listed.text).not.toContain(res.json.bbbSecret);
  });

  it('refuses a cluster of another co-op, an unknown cluster and bad residency', async () => {
    const a = await createCoop(s);
    const b = await createCoop(s);
    const cb = await createCluster(s, b.id);
    const ca = await createCluster(s, a.id);
    const before = await auditCount(s);
    const cases = [
      [{ cluster: cb.id }, 'cluster'],
      [{ cluster: '01900000-0000-7000-8000-000000000000' }, 'cluster'],
      [{ residency: { kind: 'countries', countries: [] } }, 'residency.countries'],
      [{ residency: { kind: 'countries', countries: ['UK'] } }, 'residency.countries.0'],
      [{ residency: { kind: 'mars' } }, 'residency.kind'],
      [{ retentionDays: 0 }, 'retentionDays'],
    ] as const;
    for (const [over, field] of cases) {
      const res = await s.api('POST', '/api/v1/tenancies', { body: { slug: 'bad-t', name: 'T', coop: a.id, cluster: ca.id, ...over } });
      expect(res.status, JSON.stringify(over)).toBe(400);
      expect(res.json.errors.map((e: { path: string }) => e.path), JSON.stringify(over)).toContain(field);
    }
    expect(await auditCount(s)).toBe(before);
    expect((await s.api('GET', '/api/v1/tenancies/bad-t')).status).toBe(404);
  });

  it('refuses a duplicate slug', async () => {
    const coop = await createCoop(s);
    const cluster = await createCluster(s, coop.id);
    await createTenancy(s, coop.id, cluster.id, { slug: 'twice' });
    const res = await s.api('POST', '/api/v1/tenancies', { body: { slug: 'twice', name: 'T', coop: coop.id, cluster: cluster.id } });
    expect(res.status).toBe(409);
  });

  it('moves a tenancy to another cluster of its co-op, but not to another co-op\'s', async () => {
    const a = await createCoop(s);
    const b = await createCoop(s);
    const c1 = await createCluster(s, a.id);
    const c2 = await createCluster(s, a.id);
    const foreign = await createCluster(s, b.id);
    const t = await createTenancy(s, a.id, c1.id);
    const path = `/api/v1/tenancies/${t.id}`;
    const bad = await s.api('PATCH', path, { body: { cluster: foreign.id }, headers: { 'if-match': await etagOf(path) } });
    expect(bad.status).toBe(400);
    const ok = await s.api('PATCH', path, { body: { cluster: c2.id }, headers: { 'if-match': await etagOf(path) } });
    expect(ok.status).toBe(200);
    expect(ok.json.clusterId).toBe(c2.id);
  });

  it('rotates the BBB secret (shown once) and deletes only archived tenancies', async () => {
    const coop = await createCoop(s);
    const cluster = await createCluster(s, coop.id);
    const t = await createTenancy(s, coop.id, cluster.id);
    const path = `/api/v1/tenancies/${t.id}`;
    const rotated = await s.api('POST', `${path}/rotate-secret`, { headers: { 'if-match': await etagOf(path) } });
    expect(rotated.status).toBe(200);
    expect(rotated.json.bbbSecret).toMatch(/^[0-9a-f]{48}$/);
    expect(rotated.json.bbbSecret).not.toBe(t.bbbSecret);

    const live = await s.api('DELETE', path, { headers: { 'if-match': await etagOf(path) } });
    expect(live.status).toBe(409);
    expect(live.json.type).toMatch(/tenancy-not-archived$/);
    const archived = await s.api('PATCH', path, { body: { state: 'archived' }, headers: { 'if-match': await etagOf(path) } });
    expect(archived.json.state).toBe('archived');
    expect((await s.api('PATCH', path, { body: { state: 'frozen' }, headers: { 'if-match': await etagOf(path) } })).status).toBe(400);
    expect((await s.api('DELETE', path, { headers: { 'if-match': await etagOf(path) } })).status).toBe(204);
    expect((await s.api('GET', path)).status).toBe(404);
  });

  it('manages members and their roles, and members see only their co-op\'s tenancies', async () => {
    const a = await createCoop(s);
    const b = await createCoop(s);
    const ta = await createTenancy(s, a.id, (await createCluster(s, a.id)).id);
    const tb = await createTenancy(s, b.id, (await createCluster(s, b.id)).id);
    const member = await memberWithToken(s, a.id);
    const put = await s.api('PUT', `/api/v1/tenancies/${ta.id}/members/${member.accountId}`, { body: { role: 'owner' } });
    expect(put.status).toBe(204);
    expect((await s.api('PUT', `/api/v1/tenancies/${ta.id}/members/${member.accountId}`, { body: { role: 'boss' } })).status).toBe(400);
    const members = await s.api('GET', `/api/v1/tenancies/${ta.id}/members`);
    expect(members.json.items).toEqual([expect.objectContaining({ accountId: member.accountId, role: 'owner' })]);

    const listed = await s.api('GET', '/api/v1/tenancies', { token: member.token });
    expect(listed.json.items.map((t: { id: string }) => t.id)).toEqual([ta.id]);
    expect((await s.api('GET', `/api/v1/tenancies/${tb.slug}`, { token: member.token })).status).toBe(404);
    expect((await s.api('GET', `/api/v1/tenancies/${tb.id}/members`, { token: member.token })).status).toBe(404);
    expect((await s.api('PUT', `/api/v1/tenancies/${tb.id}/members/${member.accountId}`, { token: member.token, body: { role: 'owner' } })).status).toBe(404);
    // As the owner they manage the members; as a plain member they cannot. An account the owner may not
    // see does not join at the owner's word (404, as if unknown): it is invited, or added by a co-op admin.
    const other = await memberWithToken(s, a.id);
    expect((await s.api('PUT', `/api/v1/tenancies/${ta.id}/members/${other.accountId}`, { token: member.token, body: { role: 'member' } })).status).toBe(404);
    expect((await s.api('PUT', `/api/v1/tenancies/${ta.id}/members/${other.accountId}`, { body: { role: 'member' } })).status).toBe(204);
    expect((await s.api('DELETE', `/api/v1/tenancies/${ta.id}/members/${member.accountId}`, { token: other.token })).status).toBe(403);
    expect((await s.api('PUT', `/api/v1/tenancies/${ta.id}/members/${other.accountId}`, { token: member.token, body: { role: 'admin' } })).status).toBe(204);
    expect((await s.api('DELETE', `/api/v1/tenancies/${ta.id}/members/${other.accountId}`, { token: member.token })).status).toBe(204);

    expect((await s.api('DELETE', `/api/v1/tenancies/${ta.id}/members/${member.accountId}`)).status).toBe(204);
    expect((await s.api('GET', `/api/v1/tenancies/${ta.id}/members`)).json.items).toEqual([]);
  });

  it('answers 404 problem+json for unknown routes and 400 for bad ids', async () => {
    const res = await s.api('GET', '/api/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect((await s.api('DELETE', '/api/v1/tokens/xyz')).status).toBe(400);
    expect((await s.api('GET', '/api/v1/accounts/xyz')).status).toBe(400);
  });
});

describe('accounts', () => {
  it('creates accounts with a case-insensitive unique e-mail, kept out of the audit trail', async () => {
    const coop = await createCoop(s);
    const res = await s.api('POST', '/api/v1/accounts', { body: { email: 'Ada@Example.org', name: 'Ada', coop: coop.id } });
    expect(res.status).toBe(201);
    expect(res.json.email).toBe('ada@example.org');
    const dup = await s.api('POST', '/api/v1/accounts', { body: { email: 'ADA@example.org', name: 'Ada 2', coop: coop.id } });
    expect(dup.status).toBe(409);
    const { sql } = await import('drizzle-orm');
    const { rowsOf } = await import('../../server/db/index.js');
    const rows = rowsOf<{ entry: Uint8Array }>(await s.database.db.execute(sql`select entry from audit_entries`));
    expect(rows.map((r) => Buffer.from(r.entry).toString()).join('\n')).not.toMatch(/ada@example\.org|"Ada"/i);
  });
});
