// A page lists exactly the items one may read one by one: pages take one decision
// per co-op and cluster where it can (server/authz/guard.ts), never more than that.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { coopAdminWithToken, createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.stop();
});

describe('pages of tenancies', () => {
  it('list the tenancies each holder reads one by one, whether it holds one tenancy of a cluster or the whole co-op', async () => {
    const a = await createCoop(s);
    const b = await createCoop(s);
    const cluster = (await createCluster(s, a.id)).id;
    const other = (await createCluster(s, a.id)).id;
    const same = [await createTenancy(s, a.id, cluster), await createTenancy(s, a.id, cluster), await createTenancy(s, a.id, cluster)];
    const elsewhere = [await createTenancy(s, a.id, other), await createTenancy(s, b.id, (await createCluster(s, b.id)).id)];
    const owner = await memberWithToken(s, a.id);
    expect((await s.api('PUT', `/api/v1/tenancies/${same[1]!.id}/members/${owner.accountId}`, { body: { role: 'owner' } })).status).toBe(204);
    const admin = await coopAdminWithToken(s, a.id);
    const all = [...same, ...elsewhere];
    for (const who of [owner, admin]) {
      const listed = new Set<string>();
      for (let after: string | null = null, n = 0; n < 20; n++) {
        const res = await s.api('GET', `/api/v1/tenancies?limit=100${after ? `&cursor=${after}` : ''}`, { token: who.token });
        expect(res.status).toBe(200);
        for (const t of res.json.items as Array<{ id: string }>) listed.add(t.id);
        after = res.json.nextCursor ?? null;
        if (!after) break;
      }
      const readable = [];
      for (const t of all) if ((await s.api('GET', `/api/v1/tenancies/${t.id}`, { token: who.token })).status === 200) readable.push(t.id);
      expect(all.filter((t) => listed.has(t.id)).map((t) => t.id)).toEqual(readable);
    }
    // The owner of one tenancy sees that one, not its neighbours on the same cluster.
    const ownerList = await s.api('GET', '/api/v1/tenancies?limit=100', { token: owner.token });
    expect(ownerList.json.items.map((t: { id: string }) => t.id)).toContain(same[1]!.id);
    expect(ownerList.json.items.map((t: { id: string }) => t.id)).not.toContain(same[0]!.id);
  });
});
