// Transfers over REST with real grants: a UK co-op's admin requests a move to
// a Québec co-op; the rules check it; the source admin, the target admin and
// the owner approve (each needs their own standing); members are notified;
// every permission decision is in the audit log.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transferAction } from '../support/transfers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { startBbbDouble, type BbbDouble } from '../support/bbb/server.js';
import { createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { pollClusters } from '../../server/clusters/health.js';
import { SecretBox } from '../../server/crypto/secretbox.js';

let s: TestServer;
let bbb: BbbDouble;
let w: Awaited<ReturnType<typeof world>>;

async function world() {
  const uk = await createCoop(s, { jurisdiction: 'GB', legalRegime: 'uk_gdpr', name: 'Old Co-op' });
  const qc = await createCoop(s, { jurisdiction: 'CA', legalRegime: 'other', name: 'Coop Québec' });
  const ukCluster = await createCluster(s, uk.id, { country: 'GB' });
  const qcCluster = await createCluster(s, qc.id, { country: 'CA', apiUrl: bbb.url, secret: 'qc-bbb-secret', checksumAlgorithm: 'sha256' });
  await pollClusters(s.database.db, new SecretBox(Buffer.from(s.masterKey, 'base64')), { outbound: s.outbound, only: qcCluster.id });
  const tenancy = await createTenancy(s, uk.id, ukCluster.id);
  const sourceAdmin = await memberWithToken(s, uk.id);
  const targetAdmin = await memberWithToken(s, qc.id);
  const owner = await memberWithToken(s, uk.id);
  const member = await memberWithToken(s, uk.id);
  const outsider = await memberWithToken(s, qc.id);
  await s.api('PUT', `/api/v1/tenancies/${tenancy.id}/members/${owner.accountId}`, { body: { role: 'owner' } });
  await s.api('PUT', `/api/v1/tenancies/${tenancy.id}/members/${member.accountId}`, { body: { role: 'member' } });
  const [root] = (await s.api('GET', '/api/v1/grants?active=true')).json.items;
  const expiresAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
  for (const [who, coop] of [
    [sourceAdmin, uk],
    [targetAdmin, qc],
  ] as const) {
    const g = await s.api('POST', '/api/v1/grants', {
      body: { from: root.id, account: who.accountId, role: 'coop_admin', scope: { type: 'coop', id: coop.id }, transferApproval: true, expiresAt, reason: 'runs the co-op' },
    });
    expect(g.status, g.text).toBe(201);
  }
  return { uk, qc, qcCluster, tenancy, sourceAdmin, targetAdmin, owner, member, outsider };
}

beforeAll(async () => {
  s = await startTestServer({ TRANSFER_MIN_NOTICE_DAYS: '30' });
  bbb = await startBbbDouble({ secret: 'qc-bbb-secret', recordingsDir: mkdtempSync(path.join(os.tmpdir(), 'meetplane-bbb-')) });
  w = await world();
});
afterAll(async () => {
  await bbb?.close();
  await s?.stop();
});

describe('transfers over REST', () => {
  let id: string;

  it('lets the source co-op admin request a transfer, and hides the tenancy from an outsider', async () => {
    const body = { tenancy: w.tenancy.id, targetCoop: w.qc.id, targetCluster: w.qcCluster.id, evidence: { pipedaSubject: true } };
    const hidden = await s.api('POST', '/api/v1/transfers', { token: w.outsider.token, body });
    expect(hidden.status).toBe(404);
    const refused = await s.api('POST', '/api/v1/transfers', { token: w.member.token, body });
    expect(refused.status).toBe(403);
    expect(refused.json.policyIds).toEqual([]);
    const res = await s.api('POST', '/api/v1/transfers', { token: w.sourceAdmin.token, body });
    expect(res.status, res.text).toBe(201);
    expect(res.json).toMatchObject({ state: 'draft', noticeDays: 30, tenancyId: w.tenancy.id, targetCoopId: w.qc.id });
    id = res.json.id;
    const again = await s.api('POST', '/api/v1/transfers', { token: w.sourceAdmin.token, body });
    expect(again.status).toBe(409);
  });

  it('is rejected without a processing agreement, naming the rule, and checked once one is on record', async () => {
    const check = await transferAction(s, id, 'check', { token: w.sourceAdmin.token });
    expect(check.status).toBe(200);
    expect(check.json.state).toBe('rejected');
    expect(check.json.decision.policyIds).toEqual(['dp-processing-agreement']);

    const pa = await s.api('POST', '/api/v1/processing-agreements', {
      token: w.sourceAdmin.token,
      body: { tenancy: w.tenancy.id, coop: w.qc.id, documentSha256: 'b'.repeat(64), signedOn: '2026-11-01' },
    });
    expect(pa.status, pa.text).toBe(201);
    const second = await s.api('POST', '/api/v1/transfers', { token: w.sourceAdmin.token, body: { tenancy: w.tenancy.id, targetCoop: w.qc.id, targetCluster: w.qcCluster.id, evidence: { pipedaSubject: true } } });
    id = second.json.id;
    const ok = await transferAction(s, id, 'check', { token: w.sourceAdmin.token });
    expect(ok.json.state).toBe('checked');
    expect(ok.json.decision).toMatchObject({ decision: 'allow', stage: 'check' });
  });

  it('needs the source admin, the target admin and the owner, three different people', async () => {
    const asOwner = await transferAction(s, id, 'approve', { token: w.sourceAdmin.token, body: { as: 'owner' } });
    expect(asOwner.status).toBe(403);
    expect(asOwner.json.policyIds).toEqual(['transfer-approve-as-owner']);
    const memberTries = await transferAction(s, id, 'approve', { token: w.member.token, body: { as: 'owner' } });
    expect(memberTries.status).toBe(403);

    expect((await transferAction(s, id, 'approve', { token: w.sourceAdmin.token, body: { as: 'source_admin' } })).json.state).toBe('checked');
    // The target co-op's admin sees the incoming transfer and approves it.
    expect((await s.api('GET', `/api/v1/transfers/${id}`, { token: w.targetAdmin.token })).status).toBe(200);
    expect((await transferAction(s, id, 'approve', { token: w.targetAdmin.token, body: { as: 'target_admin' } })).json.state).toBe('checked');
    const last = await transferAction(s, id, 'approve', { token: w.owner.token, body: { as: 'owner' } });
    expect(last.status, last.text).toBe(200);
    expect(last.json.state).toBe('notice');
    expect(last.json.freezeNotBefore).toBeTruthy();
  });

  it('shows its status to members, with the notices queued, and takes a member\'s objection', async () => {
    const status = await s.api('GET', `/api/v1/transfers/${id}`, { token: w.member.token });
    expect(status.status).toBe(200);
    expect(status.json.steps.find((x: { status: string }) => x.status === 'current').step).toBe('notice');
    expect(status.json.approvals.map((a: { role: string }) => a.role).sort()).toEqual(['owner', 'source_admin', 'target_admin']);
    expect(status.json.notices).toEqual({ queued: 2, sent: 0, failing: 0, refused: 0 });
    const objection = await transferAction(s, id, 'object', { token: w.member.token });
    expect(objection.json.state).toBe('notice');
    expect((await s.api('GET', `/api/v1/transfers/${id}`, { token: w.outsider.token })).status).toBe(404);
    const list = await s.api('GET', '/api/v1/transfers', { token: w.outsider.token });
    expect(list.json.items).toEqual([]);
    expect((await s.api('GET', '/api/v1/transfers', { token: w.targetAdmin.token })).json.items.map((t: { id: string }) => t.id)).toContain(id);
  });

  it('records the permission decision of every change in the audit log', async () => {
    const all = (await s.api('GET', `/api/v1/audit/entries?subjectType=transfer&subject=${id}`)).json.items.map((e: { json: unknown }) => e.json);
    const entries = all.filter((e: { outcome: string }) => e.outcome === 'success');
    const actions = entries.map((e: { action: string }) => e.action);
    // The source admin who tried to approve as the owner, and the member who tried to approve, were refused, on record.
    expect(all.filter((e: { outcome: string }) => e.outcome === 'denied').map((e: { action: string; decision: { policyIds: string[] } }) => [e.action, e.decision.policyIds])).toEqual([
      ['transfer.approve', ['transfer-approve-as-owner']],
      ['transfer.approve', []],
    ]);
    expect(actions).toEqual(['transfer.create', 'transfer.check', 'transfer.approve', 'transfer.approve', 'transfer.approve', 'transfer.approved', 'transfer.notice', 'transfer.object']);
    for (const e of entries) expect(e.decision, e.action).toMatchObject({ decision: 'allow', policySetHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });
});
