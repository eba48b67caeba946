import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { auditCount, createCoop, memberWithToken } from '../support/fixtures.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.stop();
});

const valid = { slug: 'south', name: 'South Co-op', jurisdiction: 'FR', contactEmail: 'Admin@South.example', legalRegime: 'eu_gdpr' };

describe('co-ops', () => {
  it('creates, shows by id and slug, and lists a co-op', async () => {
    const created = await s.api('POST', '/api/v1/coops', { body: valid });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ slug: 'south', name: 'South Co-op', jurisdiction: 'FR', contactEmail: 'admin@south.example' });
    expect(created.headers.get('etag')).toBeTruthy();
    expect(created.headers.get('location')).toBe(`/api/v1/coops/${created.json.id}`);

    const byId = await s.api('GET', `/api/v1/coops/${created.json.id}`);
    const bySlug = await s.api('GET', '/api/v1/coops/south');
    expect(byId.json).toEqual(created.json);
    expect(bySlug.json).toEqual(created.json);

    const list = await s.api('GET', '/api/v1/coops');
    expect(list.json.items.map((c: { slug: string }) => c.slug)).toContain('south');
  });

  it('refuses a duplicate slug with 409 and writes nothing', async () => {
    await createCoop(s, { slug: 'dup' });
    const before = await auditCount(s);
    const res = await s.api('POST', '/api/v1/coops', { body: { ...valid, slug: 'dup' } });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.json.type).toMatch(/slug-taken$/);
    expect(await auditCount(s)).toBe(before);
  });

  it.each([
    ['a wrong type', { ...valid, slug: 'x1', name: 42 }, 'name'],
    ['an unknown field', { ...valid, slug: 'x2', colour: 'red' }, ''],
    ['a bad country code', { ...valid, slug: 'x3', jurisdiction: 'XX' }, 'jurisdiction'],
    ['a lower-case country code', { ...valid, slug: 'x4', jurisdiction: 'de' }, 'jurisdiction'],
    ['a bad e-mail', { ...valid, slug: 'x5', contactEmail: 'nope' }, 'contactEmail'],
    ['an unknown legal regime', { ...valid, slug: 'x6', legalRegime: 'ccpa' }, 'legalRegime'],
    ['a bad slug', { ...valid, slug: 'Not A Slug' }, 'slug'],
    ['a missing field', { slug: 'x7', name: 'X' }, 'jurisdiction'],
  ])('answers 400 problem+json for %s, writing nothing', async (_what, body, field) => {
    const before = await auditCount(s);
    const res = await s.api('POST', '/api/v1/coops', { body });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.json).toMatchObject({ type: expect.stringMatching(/validation$/), status: 400 });
    expect(res.json.errors.some((e: { path: string }) => e.path === field)).toBe(true);
    expect(await auditCount(s)).toBe(before);
    expect((await s.api('GET', `/api/v1/coops/${(body as { slug: string }).slug}`)).status).toBe(404);
  });

  it('answers 400 for malformed JSON and 415 for a non-JSON body', async () => {
    const bad = await s.api('POST', '/api/v1/coops', { body: '{"slug": ', headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    const text = await s.api('POST', '/api/v1/coops', { body: 'slug=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(text.status).toBe(415);
    expect(text.headers.get('content-type')).toContain('application/problem+json');
  });

  it('requires If-Match on update and refuses a stale one, so two admins cannot overwrite each other', async () => {
    const coop = await createCoop(s);
    const read = await s.api('GET', `/api/v1/coops/${coop.id}`);
    const etag = read.headers.get('etag')!;

    const without = await s.api('PATCH', `/api/v1/coops/${coop.id}`, { body: { name: 'A' } });
    expect(without.status).toBe(428);

    const first = await s.api('PATCH', `/api/v1/coops/${coop.id}`, { body: { name: 'First' }, headers: { 'if-match': etag } });
    expect(first.status).toBe(200);
    expect(first.json.name).toBe('First');
    expect(first.headers.get('etag')).not.toBe(etag);

    const second = await s.api('PATCH', `/api/v1/coops/${coop.id}`, { body: { name: 'Second' }, headers: { 'if-match': etag } });
    expect(second.status).toBe(412);
    expect((await s.api('GET', `/api/v1/coops/${coop.id}`)).json.name).toBe('First');
  });

  it('refuses to change the slug and unknown fields on update', async () => {
    const coop = await createCoop(s);
    const etag = (await s.api('GET', `/api/v1/coops/${coop.id}`)).headers.get('etag')!;
    const res = await s.api('PATCH', `/api/v1/coops/${coop.id}`, { body: { slug: 'other' }, headers: { 'if-match': etag } });
    expect(res.status).toBe(400);
  });

  it('deletes an empty co-op with If-Match and refuses one that still hosts clusters', async () => {
    const empty = await createCoop(s);
    const etag = (await s.api('GET', `/api/v1/coops/${empty.id}`)).headers.get('etag')!;
    expect((await s.api('DELETE', `/api/v1/coops/${empty.id}`, { headers: { 'if-match': etag } })).status).toBe(204);
    expect((await s.api('GET', `/api/v1/coops/${empty.id}`)).status).toBe(404);

    const busy = await createCoop(s);
    await s.api('POST', '/api/v1/clusters', {
      body: { coop: busy.id, name: 'c', apiUrl: 'https://b.example/bigbluebutton/api', secret: 's3cret-value', country: 'DE', capacity: 1 },
    });
    const busyTag = (await s.api('GET', `/api/v1/coops/${busy.id}`)).headers.get('etag')!;
    const res = await s.api('DELETE', `/api/v1/coops/${busy.id}`, { headers: { 'if-match': busyTag } });
    expect(res.status).toBe(409);
    expect(res.json.type).toMatch(/coop-in-use$/);
  });

  it('pages with an opaque cursor, without gaps or repeats', async () => {
    for (let i = 0; i < 5; i++) await createCoop(s);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await s.api('GET', `/api/v1/coops?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.json.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.json.items.map((c: { id: string }) => c.id));
      cursor = res.json.nextCursor;
    } while (cursor);
    const all = (await s.api('GET', '/api/v1/coops?limit=200')).json.items.map((c: { id: string }) => c.id);
    expect(seen).toEqual(all);
    expect(new Set(seen).size).toBe(seen.length);
    expect((await s.api('GET', '/api/v1/coops?cursor=!!bad')).status).toBe(400);
    expect((await s.api('GET', '/api/v1/coops?limit=0')).status).toBe(400);
    expect((await s.api('GET', '/api/v1/coops?limit=abc')).status).toBe(400);
  });

  it('records every change in the audit trail, without the contact address', async () => {
    const before = await auditCount(s);
    const coop = await createCoop(s, { contactEmail: 'private.person@example.org' });
    expect(await auditCount(s)).toBe(before + 1);
    const { sql } = await import('drizzle-orm');
    const { rowsOf } = await import('../../server/db/index.js');
    const rows = rowsOf<{ entry: Uint8Array; action: string }>(
      await s.database.db.execute(sql`select entry, action from audit_entries where subject_id = ${coop.id}`),
    );
    expect(rows.map((r) => r.action)).toEqual(['coop.create']);
    const entry = JSON.parse(Buffer.from(rows[0]!.entry).toString('utf8'));
    expect(entry).toMatchObject({ action: 'coop.create', subject: { type: 'coop', id: coop.id }, outcome: 'success' });
    expect(JSON.stringify(entry)).not.toContain('private.person');
  });
});

describe('authentication and interim permissions', () => {
  it('answers 401 problem+json without a token, with a malformed one and with an unknown one', async () => {
    for (const token of [null, 'garbage', 'mp_pat_' + 'A'.repeat(43)]) {
      const res = await s.api('GET', '/api/v1/coops', { token });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
  });

  it('lets a co-op member read only their own co-op, and change nothing', async () => {
    const mine = await createCoop(s);
    const other = await createCoop(s);
    const { token } = await memberWithToken(s, mine.id);

    expect((await s.api('GET', `/api/v1/coops/${mine.id}`, { token })).status).toBe(200);
    const list = await s.api('GET', '/api/v1/coops', { token });
    expect(list.json.items.map((c: { id: string }) => c.id)).toEqual([mine.id]);

    // Another co-op looks exactly like a missing one.
    const otherRes = await s.api('GET', `/api/v1/coops/${other.id}`, { token });
    const missing = await s.api('GET', '/api/v1/coops/00000000-0000-7000-8000-000000000000', { token });
    expect(otherRes.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(otherRes.json.detail).toBe(missing.json.detail);

    const etag = (await s.api('GET', `/api/v1/coops/${mine.id}`, { token })).headers.get('etag')!;
    const patch = await s.api('PATCH', `/api/v1/coops/${mine.id}`, { token, body: { name: 'Mine' }, headers: { 'if-match': etag } });
    expect(patch.status).toBe(403);
    expect((await s.api('POST', '/api/v1/coops', { token, body: { ...valid, slug: 'nope' } })).status).toBe(403);
  });

  it('stops accepting a revoked or expired token', async () => {
    const coop = await createCoop(s);
    const { token } = await memberWithToken(s, coop.id);
    const created = await s.api('POST', '/api/v1/tokens', { token, body: { name: 'laptop', expiresInDays: 1 } });
    expect(created.status).toBe(201);
    expect(created.json.token).toMatch(/^mp_pat_/);
    expect((await s.api('GET', '/api/v1/coops', { token: created.json.token })).status).toBe(200);

    const listed = await s.api('GET', '/api/v1/tokens', { token });
    expect(JSON.stringify(listed.json)).not.toContain(created.json.token);
    expect(listed.json.items.map((t: { id: string }) => t.id)).toContain(created.json.id);

    expect((await s.api('DELETE', `/api/v1/tokens/${created.json.id}`, { token })).status).toBe(204);
    expect((await s.api('GET', '/api/v1/coops', { token: created.json.token })).status).toBe(401);

    const { sql } = await import('drizzle-orm');
    const { hashToken } = await import('../../server/accounts/tokens.js');
    const { changeFeed } = await import('../../server/cache/change-feed.js');
    await s.database.db.execute(sql`update access_tokens set expires_at = now() - interval '1 second' where token_hash = ${hashToken(token)}`);
    // Written by SQL, not through the API: the database announces it to this process's caches a moment later; say it now.
    changeFeed(s.database.db).bump('access_tokens');
    expect((await s.api('GET', '/api/v1/coops', { token })).status).toBe(401);
  });
});
