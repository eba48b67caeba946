// Three different people approve a transfer, and the database holds to it:
// one person holding two approval roles (source admin and tenancy owner)
// approving in both at once gets exactly one approval in; a second try later
// is refused the same way; three different people approving at once all get
// in and the transfer moves on to its notice; and the approvals table itself
// refuses a second row for the same person.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transferAction } from '../support/transfers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { startBbbDouble, type BbbDouble } from '../support/bbb/server.js';
import { coopAdminWithToken, createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { pollClusters } from '../../server/clusters/health.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { transferApprovals } from '../../server/transfers/table.js';
import { pgErrorCode, UNIQUE_VIOLATION } from '../../server/db/errors.js';

let s: TestServer;
let bbb: BbbDouble;
let w: Awaited<ReturnType<typeof world>>;

async function world() {
  const source = await createCoop(s, { jurisdiction: 'DE', legalRegime: 'eu_gdpr', name: 'Quelle eG' });
  const target = await createCoop(s, { jurisdiction: 'FR', legalRegime: 'eu_gdpr', name: 'Cible SCOP' });
  const sourceCluster = await createCluster(s, source.id, { country: 'DE' });
  const targetCluster = await createCluster(s, target.id, { country: 'FR', apiUrl: bbb.url, secret: 'fr-bbb-secret', checksumAlgorithm: 'sha256' });
  await pollClusters(s.database.db, new SecretBox(Buffer.from(s.masterKey, 'base64')), { outbound: s.outbound, only: targetCluster.id });
  const sourceAdmin = await coopAdminWithToken(s, source.id);
  const targetAdmin = await coopAdminWithToken(s, target.id);
  return { source, target, sourceCluster, targetCluster, sourceAdmin, targetAdmin };
}

/** A checked transfer of a fresh tenancy of the source co-op whose owner is `owner`. */
async function checkedTransfer(owner: string) {
  const tenancy = await createTenancy(s, w.source.id, w.sourceCluster.id);
  const member = await s.api('PUT', `/api/v1/tenancies/${tenancy.id}/members/${owner}`, { body: { role: 'owner' } });
  expect(member.status, member.text).toBeLessThan(300);
  const pa = await s.api('POST', '/api/v1/processing-agreements', { body: { tenancy: tenancy.id, coop: w.target.id, documentSha256: 'c'.repeat(64), signedOn: '2026-11-01' } });
  expect(pa.status, pa.text).toBe(201);
  const created = await s.api('POST', '/api/v1/transfers', { body: { tenancy: tenancy.id, targetCoop: w.target.id, targetCluster: w.targetCluster.id } });
  expect(created.status, created.text).toBe(201);
  const checked = await transferAction(s, created.json.id, 'check');
  expect(checked.json.state, checked.text).toBe('checked');
  return created.json.id as string;
}

const approve = (id: string, token: string, as: string) => transferAction(s, id, 'approve', { token, body: { as } });

async function successfulApprovals(id: string) {
  const r = await s.api('GET', `/api/v1/audit/entries?subjectType=transfer&subject=${id}&action=transfer.approve&limit=100`);
  expect(r.status).toBe(200);
  return (r.json.items as Array<{ json: { outcome: string } }>).filter((i) => i.json.outcome === 'success').length;
}

beforeAll(async () => {
  s = await startTestServer({ TRANSFER_MIN_NOTICE_DAYS: '30' });
  bbb = await startBbbDouble({ secret: 'fr-bbb-secret', recordingsDir: mkdtempSync(path.join(os.tmpdir(), 'meetplane-bbb-')) });
  w = await world();
});
afterAll(async () => {
  await bbb?.close();
  await s?.stop();
});

describe('three different people approve a transfer', () => {
  it('takes exactly one of one person\'s two approvals sent at once (source admin and owner), then refuses the same again', async () => {
    // The source co-op's admin also owns the tenancy: two approval roles, one person.
    const id = await checkedTransfer(w.sourceAdmin.accountId);
    const both = await Promise.all([approve(id, w.sourceAdmin.token, 'source_admin'), approve(id, w.sourceAdmin.token, 'owner')]);
    const statuses = both.map((r) => r.status).sort();
    expect(statuses, both.map((r) => r.text).join('\n')).toEqual([200, 403]);
    const refused = both.find((r) => r.status === 403)!;
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.json.policyIds).toEqual(['dp-approvals']);
    expect(refused.json.detail).toMatch(/three different people must approve/);

    const status = await s.api('GET', `/api/v1/transfers/${id}`);
    expect(status.json.state).toBe('checked');
    expect(status.json.approvals).toHaveLength(1);
    expect(status.json.approvals[0].accountId).toBe(w.sourceAdmin.accountId);
    expect(await successfulApprovals(id)).toBe(1);

    // Later, one after the other: the role not taken is refused to the same person too.
    const taken = status.json.approvals[0].role as string;
    const again = await approve(id, w.sourceAdmin.token, taken === 'owner' ? 'source_admin' : 'owner');
    expect(again.status).toBe(403);
    expect(again.json.policyIds).toEqual(['dp-approvals']);
    expect((await s.api('GET', `/api/v1/transfers/${id}`)).json.approvals).toHaveLength(1);
  });

  it('takes three different people approving at once, and the third approval moves the transfer on', async () => {
    const owner = await memberWithToken(s, w.source.id);
    const id = await checkedTransfer(owner.accountId);
    const all = await Promise.all([
      approve(id, w.sourceAdmin.token, 'source_admin'),
      approve(id, w.targetAdmin.token, 'target_admin'),
      approve(id, owner.token, 'owner'),
    ]);
    expect(all.map((r) => r.status), all.map((r) => r.text).join('\n')).toEqual([200, 200, 200]);
    const status = await s.api('GET', `/api/v1/transfers/${id}`);
    expect(status.json.approvals).toHaveLength(3);
    expect(status.json.state).toBe('notice');
  });

  it('takes one of two people approving in the same role at once; the other is told it is already given (409)', async () => {
    const secondSourceAdmin = await coopAdminWithToken(s, w.source.id);
    const owner = await memberWithToken(s, w.source.id);
    const id = await checkedTransfer(owner.accountId);
    const both = await Promise.all([approve(id, w.sourceAdmin.token, 'source_admin'), approve(id, secondSourceAdmin.token, 'source_admin')]);
    expect(both.map((r) => r.status).sort(), both.map((r) => r.text).join('\n')).toEqual([200, 409]);
    expect(both.find((r) => r.status === 409)!.json.type).toMatch(/already-approved$/);
    expect((await s.api('GET', `/api/v1/transfers/${id}`)).json.approvals).toHaveLength(1);
  });

  it('is a database constraint: a second approval row for the same person and transfer is refused', async () => {
    const id = await checkedTransfer(w.sourceAdmin.accountId);
    const db = s.database.db;
    await db.insert(transferApprovals).values({ transferId: id, role: 'source_admin', accountId: w.sourceAdmin.accountId });
    const second = await db
      .insert(transferApprovals)
      .values({ transferId: id, role: 'owner', accountId: w.sourceAdmin.accountId })
      .then(() => null, (e: unknown) => e);
    expect(pgErrorCode(second)).toBe(UNIQUE_VIOLATION);
  });
});
