// Who may approve a hand-over, and cancelling one before its waves run: a
// co-op admin whose grant does not approve transfers cannot approve the plan
// either; the target's admin cannot hand out roles on the source's clusters;
// a cancelled plan cancels the transfers it made (the tenancies stay where they
// are) and revokes the operator roles it delegated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { startBbbPair, type BbbPair } from '../support/bbb/pair.js';
import { coopAdminWithToken, createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { pollClusters } from '../../server/clusters/health.js';
import { transfersHeldByHandovers } from '../../server/handovers/held.js';

let s: TestServer;
let peers: BbbPair;

beforeAll(async () => {
  s = await startTestServer({ TRANSFER_MIN_NOTICE_DAYS: '0', WORKER: 'off' });
  peers = await startBbbPair({ source: 'src-secret-0123456789', target: 'dst-secret-0123456789' });
}, 60_000);
afterAll(async () => {
  await peers?.close();
  await s?.stop();
});

const iso = (ms: number) => new Date(Date.now() + ms).toISOString();

async function act(id: string, path: string, token: string, body?: unknown) {
  const etag = (await s.api('GET', `/api/v1/handovers/${id}`)).headers.get('etag')!;
  return s.api('POST', `/api/v1/handovers/${id}/${path}`, { token, body, headers: { 'if-match': etag } });
}

describe('approving and cancelling a hand-over', () => {
  it('needs transfer-approving admins, and a cancelled plan leaves the tenancies where they are and takes back the roles it gave', async () => {
    const old = await createCoop(s);
    const neu = await createCoop(s);
    const s1 = await createCluster(s, old.id, { apiUrl: peers.source.url, secret: 'src-secret-0123456789' });
    await createCluster(s, neu.id, { apiUrl: peers.target.url, secret: 'dst-secret-0123456789' });
    await pollClusters(s.database.db, new SecretBox(Buffer.from(s.masterKey, 'base64')), { outbound: s.outbound });
    const ts = [await createTenancy(s, old.id, s1.id), await createTenancy(s, old.id, s1.id)];
    const [root] = (await s.api('GET', '/api/v1/grants?active=true')).json.items;
    const src = await memberWithToken(s, old.id);
    expect(
      (
        await s.api('POST', '/api/v1/grants', {
          body: { from: root.id, account: src.accountId, role: 'coop_admin', scope: { type: 'coop', id: old.id }, delegable: true, transferApproval: true, expiresAt: iso(86_400_000), reason: 'runs it' },
        })
      ).status,
    ).toBe(201);
    const noApprover = await coopAdminWithToken(s, old.id, { transferApproval: false });
    const dst = await coopAdminWithToken(s, neu.id);
    const techie = await memberWithToken(s, neu.id);

    const planBody = {
        name: 'Soon called off',
        sourceCoop: old.id,
        targetCoop: neu.id,
        noticeDays: 0,
        announceAt: iso(0),
        waves: [{ freezeFrom: iso(3_600_000), freezeUntil: iso(7_200_000), concurrency: 1 }],
        cutoverAt: iso(7_200_000),
        decommissionAt: iso(20 * 3_600_000),
        agreement: { documentSha256: 'b'.repeat(64), signedOn: '2026-01-01' },
    };
    const created = await s.api('POST', '/api/v1/handovers', { token: src.token, body: planBody });
    expect(created.status, created.text).toBe(201);
    const id = created.json.id as string;
    // A second plan over the same cluster while this one is open is refused, naming it: both would move the same tenancies.
    const twice = await s.api('POST', '/api/v1/handovers', { token: src.token, body: { ...planBody, name: 'The same again' } });
    expect(twice.status).toBe(400);
    expect(twice.json.errors).toEqual([{ path: 'clusters.0.cluster', message: `cluster ${s1.id} is already in the draft hand-over "Soon called off" (${id}): complete or cancel it first` }]);

    const refused = await act(id, 'approve', noApprover.token, { as: 'source_admin' });
    expect(refused.status).toBe(403);
    expect(refused.json.policyIds).toEqual(['handover-approve-as-source']);
    expect((await act(id, 'approve', src.token, { as: 'source_admin' })).status).toBe(200);
    expect((await act(id, 'approve', dst.token, { as: 'target_admin' })).json.state).toBe('approved');
    const transferIds = (await s.api('GET', `/api/v1/handovers/${id}/status`)).json.tenancies.map((t: { transferId: string }) => t.transferId);
    for (const tid of transferIds) expect((await s.api('GET', `/api/v1/transfers/${tid}`)).json.state).toBe('checked');
    // Their waves start them, not the periodic transfer runner.
    expect([...(await transfersHeldByHandovers(s.database.db))].filter((t) => transferIds.includes(t)).sort()).toEqual([...transferIds].sort());

    // Roles on the source's clusters come from the source's admins, not the target's.
    expect([403, 404]).toContain((await s.api('POST', `/api/v1/handovers/${id}/operators`, { token: dst.token, body: { account: techie.accountId } })).status);
    expect((await s.api('POST', `/api/v1/handovers/${id}/operators`, { token: src.token, body: { account: techie.accountId } })).status).toBe(201);
    expect((await s.api('GET', `/api/v1/clusters/${s1.id}`, { token: techie.token })).status).toBe(200);

    const cancelled = await act(id, 'cancel', dst.token, { reason: 'the new host cannot take it on this year' });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.json).toMatchObject({ state: 'cancelled', tenancies: { total: 2, byState: { stayed: 2 } } });
    for (const tid of transferIds) expect((await s.api('GET', `/api/v1/transfers/${tid}`)).json.state).toBe('cancelled');
    expect([...(await transfersHeldByHandovers(s.database.db))].filter((t) => transferIds.includes(t))).toEqual([]);
    for (const t of ts) expect((await s.api('GET', `/api/v1/tenancies/${t.id}`)).json).toMatchObject({ coopId: old.id, clusterId: s1.id, state: 'active' });
    expect((await s.api('GET', `/api/v1/clusters/${s1.id}`, { token: techie.token })).status).toBe(404);
    expect((await act(id, 'cancel', src.token, { reason: 'again' })).status).toBe(409);
    // Once it is cancelled, the cluster may be planned again.
    expect((await s.api('POST', '/api/v1/handovers', { token: src.token, body: { ...planBody, name: 'Next year' } })).status).toBe(201);
  }, 90_000);
});
