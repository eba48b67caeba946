// A delegated co-op admin approves a transfer only with a grant that says so
// (transferApproval), decided by the policies (policies/transfer-approval.cedar):
// without it the approval is refused naming the role's rule and is on record;
// the flag cannot be widened down a chain; a first-hand coop_admin grant
// approves without it; and a platform admin does not approve in a co-op's name.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transferAction } from '../support/transfers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { startBbbDouble, type BbbDouble } from '../support/bbb/server.js';
import { createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { runCli } from '../support/cli.js';
import { pollClusters } from '../../server/clusters/health.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { insertRootGrant } from '../../server/grants/service.js';
import { LOCAL_OPERATOR } from '../../server/auth/principal.js';

let s: TestServer;
let bbb: BbbDouble;
let w: Awaited<ReturnType<typeof world>>;
const expiresAt = (days = 30) => new Date(Date.now() + days * 86_400_000).toISOString();

/** A coop_admin grant on `coop` delegated `from` a grant, with or without transfer approval. */
async function delegateCoopAdmin(from: string, to: string, coop: string, opts: { transferApproval?: boolean; token?: string } = {}) {
  // Re-delegations (with a token) expire before the grant they come from.
  const days = opts.token ? 10 : 30;
  const body: Record<string, unknown> = { from, account: to, role: 'coop_admin', scope: { type: 'coop', id: coop }, delegable: true, expiresAt: expiresAt(days), reason: 'runs the co-op' };
  if (opts.transferApproval !== undefined) body.transferApproval = opts.transferApproval;
  return s.api('POST', '/api/v1/grants', { token: opts.token, body });
}

async function world() {
  const source = await createCoop(s, { jurisdiction: 'DE', legalRegime: 'eu_gdpr', name: 'Quelle eG' });
  const target = await createCoop(s, { jurisdiction: 'FR', legalRegime: 'eu_gdpr', name: 'Cible SCOP' });
  const sourceCluster = await createCluster(s, source.id, { country: 'DE' });
  const targetCluster = await createCluster(s, target.id, { country: 'FR', apiUrl: bbb.url, secret: 'fr-bbb-secret', checksumAlgorithm: 'sha256' });
  await pollClusters(s.database.db, new SecretBox(Buffer.from(s.masterKey, 'base64')), { outbound: s.outbound, only: targetCluster.id });
  const tenancy = await createTenancy(s, source.id, sourceCluster.id);
  const owner = await memberWithToken(s, source.id);
  await s.api('PUT', `/api/v1/tenancies/${tenancy.id}/members/${owner.accountId}`, { body: { role: 'owner' } });
  const [root] = (await s.api('GET', '/api/v1/grants?active=true')).json.items;

  // Delegated by the platform admin without the flag (the default), and with it.
  const plain = await memberWithToken(s, source.id);
  const plainGrant = await delegateCoopAdmin(root.id, plain.accountId, source.id);
  expect(plainGrant.status, plainGrant.text).toBe(201);
  const approver = await memberWithToken(s, source.id);
  const approverGrant = await delegateCoopAdmin(root.id, approver.accountId, source.id, { transferApproval: true });
  expect(approverGrant.status, approverGrant.text).toBe(201);
  // The target co-op's admin holds a first-hand coop_admin grant (from no other grant), without the flag.
  const targetAdmin = await memberWithToken(s, target.id);
  await s.database.db.transaction((tx) =>
    insertRootGrant(tx, LOCAL_OPERATOR, { accountId: targetAdmin.accountId, role: 'coop_admin', scope: { type: 'coop', id: target.id }, reason: 'founding admin' }),
  );
  return { source, target, targetCluster, tenancy, owner, root, plain, plainGrant: plainGrant.json, approver, approverGrant: approverGrant.json, targetAdmin };
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

async function auditEntries(query: string) {
  const r = await s.api('GET', `/api/v1/audit/entries?${query}&limit=1000`);
  expect(r.status).toBe(200);
  return (r.json.items as Array<{ json: Record<string, any> }>).map((i) => i.json);
}

describe('delegated transfer approval', () => {
  it('shows the flag on grants: off unless asked for, on the audit entry of the delegation too', async () => {
    expect(w.plainGrant).toMatchObject({ role: 'coop_admin', transferApproval: false, grantedBy: w.root.id });
    expect(w.approverGrant).toMatchObject({ role: 'coop_admin', transferApproval: true, grantedBy: w.root.id });
    expect((await s.api('GET', `/api/v1/grants/${w.approverGrant.id}`)).json.transferApproval).toBe(true);
    const [entry] = await auditEntries(`subjectType=grant&subject=${w.approverGrant.id}&action=grant.delegate`);
    expect(entry).toMatchObject({ outcome: 'success', after: { role: 'coop_admin', transferApproval: true } });
  });

  it('refuses to widen it: a grant that does not approve transfers cannot hand the approval on', async () => {
    const someone = await memberWithToken(s, w.source.id);
    const widened = await delegateCoopAdmin(w.plainGrant.id, someone.accountId, w.source.id, { transferApproval: true, token: w.plain.token });
    expect(widened.status).toBe(403);
    expect(widened.headers.get('content-type')).toContain('application/problem+json');
    expect(widened.json).toMatchObject({ type: 'https://meetplane.org/problems/delegation-refused', rule: 'delegation.widen-transfer-approval' });
    // Without the flag the same delegation goes through.
    const narrower = await delegateCoopAdmin(w.plainGrant.id, someone.accountId, w.source.id, { token: w.plain.token });
    expect(narrower.status, narrower.text).toBe(201);
    // A grant that approves transfers hands the approval on.
    const other = await memberWithToken(s, w.source.id);
    const passed = await delegateCoopAdmin(w.approverGrant.id, other.accountId, w.source.id, { transferApproval: true, token: w.approver.token });
    expect(passed.status, passed.text).toBe(201);
    expect(passed.json).toMatchObject({ transferApproval: true, grantedBy: w.approverGrant.id, depth: 2 });
    const denied = (await auditEntries('action=grant.delegate')).filter((e) => e.outcome === 'denied');
    expect(denied.map((e) => e.details)).toContainEqual({ rule: 'delegation.widen-transfer-approval', role: 'coop_admin', transferApproval: true });
  });

  it('refuses the flag on any role but coop_admin', async () => {
    const operator = await memberWithToken(s, w.source.id);
    const res = await s.api('POST', '/api/v1/grants', {
      body: { from: w.root.id, account: operator.accountId, role: 'cluster_operator', scope: { type: 'coop', id: w.source.id }, transferApproval: true, expiresAt: expiresAt(), reason: 'runs the servers' },
    });
    expect(res.status).toBe(403);
    expect(res.json.rule).toBe('delegation.transfer-approval-role');
  });

  let id: string;
  it('refuses the source approval of a co-op admin delegated without it, naming the rule, on record', async () => {
    const pa = await s.api('POST', '/api/v1/processing-agreements', {
      body: { tenancy: w.tenancy.id, coop: w.target.id, documentSha256: 'c'.repeat(64), signedOn: '2026-11-01' },
    });
    expect(pa.status, pa.text).toBe(201);
    const created = await s.api('POST', '/api/v1/transfers', { token: w.plain.token, body: { tenancy: w.tenancy.id, targetCoop: w.target.id, targetCluster: w.targetCluster.id } });
    expect(created.status, created.text).toBe(201);
    id = created.json.id;
    const checked = await transferAction(s, id, 'check', { token: w.plain.token });
    expect(checked.json.state, checked.text).toBe('checked');

    const refused = await transferAction(s, id, 'approve', { token: w.plain.token, body: { as: 'source_admin' } });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.json).toMatchObject({ action: 'transfer.approveAsSource', policyIds: ['transfer-approve-as-source'], policySetHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // Nor does a platform admin approve in a co-op's name, nor the source admin in the target's.
    const asPlatformAdmin = await transferAction(s, id, 'approve', { body: { as: 'source_admin' } });
    expect(asPlatformAdmin.status).toBe(403);
    expect(asPlatformAdmin.json.policyIds).toEqual(['transfer-approve-as-source']);
    const wrongSide = await transferAction(s, id, 'approve', { token: w.approver.token, body: { as: 'target_admin' } });
    expect(wrongSide.status).toBe(403);
    expect(wrongSide.json.policyIds).toEqual(['transfer-approve-as-target']);

    const status = await s.api('GET', `/api/v1/transfers/${id}`);
    expect(status.json).toMatchObject({ state: 'checked', approvals: [] });
    const denied = (await auditEntries(`subjectType=transfer&subject=${id}`)).filter((e) => e.outcome === 'denied');
    expect(denied.map((e) => [e.action, e.decision.policyIds])).toEqual([
      ['transfer.approve', ['transfer-approve-as-source']],
      ['transfer.approve', ['transfer-approve-as-source']],
      ['transfer.approve', ['transfer-approve-as-target']],
    ]);
  });

  it('takes the approval of a co-op admin delegated with it, of a first-hand coop_admin grant without it, and of the owner', async () => {
    const asSource = await transferAction(s, id, 'approve', { token: w.approver.token, body: { as: 'source_admin' } });
    expect(asSource.status, asSource.text).toBe(200);
    const asTarget = await transferAction(s, id, 'approve', { token: w.targetAdmin.token, body: { as: 'target_admin' } });
    expect(asTarget.status, asTarget.text).toBe(200);
    // Without ownership the source admin does not approve as the owner; with it,
    // the same person twice is still the data-protection rule's to refuse.
    const notOwner = await transferAction(s, id, 'approve', { token: w.approver.token, body: { as: 'owner' } });
    expect(notOwner.status).toBe(403);
    expect(notOwner.json.policyIds).toEqual(['transfer-approve-as-owner']);
    await s.api('PUT', `/api/v1/tenancies/${w.tenancy.id}/members/${w.approver.accountId}`, { body: { role: 'owner' } });
    const twice = await transferAction(s, id, 'approve', { token: w.approver.token, body: { as: 'owner' } });
    expect(twice.status).toBe(403);
    expect(twice.json.policyIds).toEqual(['dp-approvals']);
    const last = await transferAction(s, id, 'approve', { token: w.owner.token, body: { as: 'owner' } });
    expect(last.status, last.text).toBe(200);
    expect(last.json.state).toBe('notice');
    const approvals = (await auditEntries(`subjectType=transfer&subject=${id}&action=transfer.approve`)).filter((e) => e.outcome === 'success');
    expect(approvals.map((e) => [e.details.role, e.decision.policyIds])).toEqual([
      ['source_admin', ['transfer-approve-in-role']],
      ['target_admin', ['transfer-approve-in-role']],
      ['owner', ['transfer-approve-in-role']],
    ]);
  });

  it('meetplane grants delegate --transfer-approval sets the flag', { timeout: 60_000 }, async () => {
    const who = await memberWithToken(s, w.target.id);
    const env = { MEETPLANE_URL: s.url, MEETPLANE_TOKEN: s.adminToken };
    const r = await runCli(
      ['--json', 'grants', 'delegate', '--from', w.root.id, '--to', who.accountId, '--role', 'coop_admin', '--scope', `coop:${w.target.id}`, '--expires', '30d', '--transfer-approval', '--reason', 'runs the co-op'],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ role: 'coop_admin', transferApproval: true });
    const refused = await runCli(
      ['grants', 'delegate', '--from', w.root.id, '--to', who.accountId, '--role', 'tenancy_admin', '--scope', `tenancy:${w.tenancy.id}`, '--expires', '30d', '--transfer-approval', '--reason', 'helps'],
      env,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/transferApproval applies to coop_admin grants/);
  });
});
