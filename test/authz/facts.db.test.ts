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
});
