// What the policies are told about a caller (server/authz/authz.ts): a tenancy
// membership as owner or admin stands for that role, and a grant or membership
// ended outside this process's API (another process, or SQL) stops counting
// within a second, through the database's change notices. The server here keeps
// a caller's facts for a minute, so only those notices can retire them in time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { startTestServer, type TestServer } from '../support/server.js';
import { coopAdminWithToken, createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { within } from '../support/within.js';
import { Authz } from '../../server/authz/authz.js';
import { LOCAL_OPERATOR } from '../../server/auth/principal.js';

let s: TestServer;
let coop: { id: string };
let cluster: { id: string };

beforeAll(async () => {
  s = await startTestServer({ WORKER: 'off', CACHE_MAX_AGE_MS: '60000' });
  coop = await createCoop(s);
  cluster = await createCluster(s, coop.id);
});
afterAll(async () => s?.stop());

const read = (token: string, id: string) => s.api('GET', `/api/v1/tenancies/${id}`, { token });

describe('a tenancy membership', () => {
  it('as owner lets its holder rotate the secret; as admin it does not (the secret stays with the owner)', async () => {
    const t = await createTenancy(s, coop.id, cluster.id);
    const [owner, admin] = [await memberWithToken(s, coop.id), await memberWithToken(s, coop.id)];
    expect((await s.api('PUT', `/api/v1/tenancies/${t.id}/members/${owner.accountId}`, { body: { role: 'owner' } })).status).toBeLessThan(300);
    expect((await s.api('PUT', `/api/v1/tenancies/${t.id}/members/${admin.accountId}`, { body: { role: 'admin' } })).status).toBeLessThan(300);
    const rotate = async (token: string) => {
      const etag = (await read(token, t.id)).headers.get('etag')!;
      return s.api('POST', `/api/v1/tenancies/${t.id}/rotate-secret`, { token, headers: { 'if-match': etag } });
    };
    const byAdmin = await rotate(admin.token);
    expect(byAdmin.status).toBe(403);
    expect(byAdmin.json.detail).toContain('tenancy.rotateSecret');
    const byOwner = await rotate(owner.token);
    expect(byOwner.status, byOwner.text).toBe(200);
    expect(byOwner.json.bbbSecret).not.toBe(t.bbbSecret);
  });

  it('removed by SQL stops letting its holder read the tenancy within a second', async () => {
    const t = await createTenancy(s, coop.id, cluster.id);
    const member = await memberWithToken(s, coop.id);
    await s.api('PUT', `/api/v1/tenancies/${t.id}/members/${member.accountId}`, { body: { role: 'admin' } });
    expect((await read(member.token, t.id)).status).toBe(200);
    await s.database.db.execute(sql`delete from memberships where tenancy_id = ${t.id} and account_id = ${member.accountId}`);
    await within(1_000, async () => (await read(member.token, t.id)).status === 404);
  });
});

describe('a grant', () => {
  it('revoked by SQL stops letting its holder read the co-op\'s tenancies within a second', async () => {
    const t = await createTenancy(s, coop.id, cluster.id);
    const admin = await coopAdminWithToken(s, coop.id);
    expect((await read(admin.token, t.id)).status).toBe(200);
    await s.database.db.execute(sql`update grants set revoked_at = now() where account_id = ${admin.accountId}`);
    await within(1_000, async () => (await read(admin.token, t.id)).status === 404);
  });

  it('that runs out stops counting at its end, with nothing written anywhere, though an older one lasts (the cached facts end with their first-ending grant)', async () => {
    const t = await createTenancy(s, coop.id, cluster.id);
    const holder = await memberWithToken(s, coop.id);
    const [root] = (await s.api('GET', '/api/v1/grants?active=true')).json.items;
    const give = async (coopId: string, expiresAt: Date) => {
      const r = await s.api('POST', '/api/v1/grants', { body: { from: root.id, account: holder.accountId, role: 'coop_admin', scope: { type: 'coop', id: coopId }, expiresAt: expiresAt.toISOString(), reason: 'runs it' } });
      expect(r.status, r.text).toBe(201);
    };
    // The lasting grant is the older one, so it comes first wherever the grants are read in order.
    await give((await createCoop(s)).id, new Date(Date.now() + 86_400_000));
    const ends = new Date(Date.now() + 3_000);
    await give(coop.id, ends);
    expect((await read(holder.token, t.id)).status).toBe(200);
    await new Promise((r) => setTimeout(r, ends.getTime() - Date.now()));
    await within(500, async () => (await read(holder.token, t.id)).status === 404);
  });
});

describe('a refusal', () => {
  const entries = async (action: string) => (await s.api('GET', `/api/v1/audit/entries?action=${action}&limit=1000`)).json.items.map((i: { json: any }) => i.json);

  it('of a change is audited with its subject: a tenancy by its id, the platform as itself', async () => {
    const t = await createTenancy(s, coop.id, cluster.id);
    const admin = await memberWithToken(s, coop.id);
    await s.api('PUT', `/api/v1/tenancies/${t.id}/members/${admin.accountId}`, { body: { role: 'admin' } });
    const etag = (await read(admin.token, t.id)).headers.get('etag')!;
    expect((await s.api('POST', `/api/v1/tenancies/${t.id}/rotate-secret`, { token: admin.token, headers: { 'if-match': etag } })).status).toBe(403);
    expect((await entries('tenancy.rotateSecret')).at(-1)).toMatchObject({ outcome: 'denied', subject: { type: 'tenancy', id: t.id } });

    const member = await memberWithToken(s, coop.id);
    const refused = await s.api('POST', '/api/v1/coops', { token: member.token, body: { slug: 'not-mine', name: 'Not mine', jurisdiction: 'DE', contactEmail: 'ops@not-mine.example', legalRegime: 'eu_gdpr' } });
    expect(refused.status, refused.text).toBe(403);
    expect((await entries('coop.create')).at(-1)).toMatchObject({ outcome: 'denied', subject: { type: 'platform', id: 'meetplane' } });
  });

  it('of a read is not audited (the log records changes, not every look)', async () => {
    const t = await createTenancy(s, coop.id, cluster.id);
    const stranger = await memberWithToken(s, coop.id);
    expect((await read(stranger.token, t.id)).status).toBe(404);
    expect((await entries('tenancy.read')).filter((e: any) => e.subject?.id === t.id)).toEqual([]);
  });
});

describe('the console operator (meetplane admin ...)', () => {
  it('acts as a platform admin without holding any grant', async () => {
    const authz = new Authz(s.database.db);
    expect((await authz.decide({ ...LOCAL_OPERATOR }, 'coop.create', { type: 'Platform' })).decision).toBe('allow');
    // The same id through a token would be no one: nothing allowed.
    expect((await authz.decide({ ...LOCAL_OPERATOR, via: 'oidc' }, 'coop.create', { type: 'Platform' })).decision).toBe('deny');
  });
});
