// The seed's other hand-over, executed: a UK co-op hands a tenancy with three
// members and recordings to a co-op in Québec (adequacy for organisations
// subject to PIPEDA), whose BBB server publishes recordings from a directory
// reached over SFTP (Debian's openssh-server on a loopback port, host key
// pinned). The copy streams over SFTP, the target's BBB server lists and plays
// every recording, and the receipt verifies. Skipped, with a notice from the
// storage tests, when sshd is not installed.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverOutbox, transferAction } from '../support/transfers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import type { BbbDouble } from '../support/bbb/server.js';
import { startBbbPair, type BbbPair } from '../support/bbb/pair.js';
import { writeRecording } from '../support/bbb/recordings.js';
import { startSshd, type Sshd } from '../support/sshd.js';
import { coopAdminWithToken, createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { createLogger } from '../../server/logger.js';
import { pollClusters } from '../../server/clusters/health.js';
import { CheckpointSigner, auditOrigin } from '../../server/audit/checkpoints.js';
import { transferDeps } from '../../server/transfers/deps.js';
import { advanceTransfer } from '../../server/transfers/execute.js';
import { loadReceipt } from '../../server/receipts/receipt.js';
import { coopJwks } from '../../server/receipts/keys.js';
import { verifyReceipt } from '../../federation/receipt-verify.js';
import { BbbClient } from '../../server/bbb/client.js';

let s: TestServer;
let sshd: Sshd;
let source: BbbDouble;
let target: BbbDouble;
let peers: BbbPair;
let dirs: BbbPair['dirs'];

beforeAll(async () => {
  s = await startTestServer({ TRANSFER_MIN_NOTICE_DAYS: '0', WORKER: 'off' });
  sshd = await startSshd();
  peers = await startBbbPair({ source: 'uk-secret-1', target: 'qc-secret-1' });
  ({ source, target, dirs } = peers);
}, 60_000);
afterAll(async () => {
  await peers?.close();
  await sshd?.stop();
  await s?.stop();
});

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('a transfer to a cluster whose recordings are reached over SFTP', () => {
  it('moves a UK tenancy with three members and its recordings to a co-op in Québec', async () => {
    const box = new SecretBox(Buffer.from(s.masterKey, 'base64'));
    const uk = await createCoop(s, { jurisdiction: 'GB', legalRegime: 'uk_gdpr', name: 'Thames Co-op' });
    const qc = await createCoop(s, { jurisdiction: 'CA', legalRegime: 'eu_gdpr', name: 'Coop du Fleuve' });
    const ukCluster = await createCluster(s, uk.id, { country: 'GB', apiUrl: source.url, secret: 'uk-secret-1' });
    const qcCluster = await createCluster(s, qc.id, { country: 'CA', apiUrl: target.url, secret: 'qc-secret-1' });
    expect((await s.api('PUT', `/api/v1/clusters/${ukCluster.id}/storage`, { body: { url: `file://${dirs.source}` } })).status).toBe(200);
    const sftp = await s.api('PUT', `/api/v1/clusters/${qcCluster.id}/storage`, {
      body: { url: `sftp://${sshd.user}@127.0.0.1:${sshd.port}${dirs.target}`, privateKey: sshd.privateKey, hostKeySha256: sshd.hostKeySha256 },
    });
    expect(sftp.status, sftp.text).toBe(200);
    expect(sftp.text).not.toContain('PRIVATE KEY');
    await pollClusters(s.database.db, box, { outbound: s.outbound });

    const tenancy = await createTenancy(s, uk.id, ukCluster.id, { name: 'Riverside Choir' });
    const owner = await memberWithToken(s, uk.id);
    await s.api('PUT', `/api/v1/tenancies/${tenancy.id}/members/${owner.accountId}`, { body: { role: 'owner' } });
    for (let i = 0; i < 2; i++) await s.api('PUT', `/api/v1/tenancies/${tenancy.id}/members/${(await memberWithToken(s, uk.id)).accountId}`, { body: { role: 'member' } });
    const expected = new Map<string, string>();
    const recs = [];
    for (let i = 0; i < 2; i++) {
      const files = { 'video/webcams.webm': Buffer.alloc(500_000 + i, 3 + i), 'shapes.svg': `<svg id="${i}"/>` };
      const r = await writeRecording(dirs.source, { meetingId: `choir-${i}`, name: `Rehearsal ${i}`, host: source.origin, meta: { 'meetplane-tenancy': tenancy.id }, files });
      recs.push(r);
      for (const [name, content] of Object.entries(files)) expected.set(path.relative(dirs.source, path.join(r.dir, name)), sha(content));
    }

    const sourceAdmin = await coopAdminWithToken(s, uk.id);
    const targetAdmin = await coopAdminWithToken(s, qc.id);
    await s.api('POST', '/api/v1/processing-agreements', { token: sourceAdmin.token, body: { tenancy: tenancy.id, coop: qc.id, documentSha256: 'd'.repeat(64), signedOn: '2026-01-01' } });
    const evidence = { claimedBasis: 'adequacy', dpfListed: false, pipedaSubject: true, sccsDocuments: [], impactAssessment: null };
    const created = await s.api('POST', '/api/v1/transfers', { token: sourceAdmin.token, body: { tenancy: tenancy.id, targetCoop: qc.id, targetCluster: qcCluster.id, noticeDays: 0, evidence } });
    expect(created.status, created.text).toBe(201);
    const id = created.json.id;
    expect((await transferAction(s, id, 'check', { token: sourceAdmin.token })).json.state).toBe('checked');
    await transferAction(s, id, 'approve', { token: sourceAdmin.token, body: { as: 'source_admin' } });
    await transferAction(s, id, 'approve', { token: targetAdmin.token, body: { as: 'target_admin' } });
    expect((await transferAction(s, id, 'approve', { token: owner.token, body: { as: 'owner' } })).json.state).toBe('notice');
    await deliverOutbox(s.database.db); // the notice reaches the owner: the freeze counts from then

    const signer = await CheckpointSigner.load(s.database.db, box, auditOrigin(s.url));
    const deps = { db: s.database.db, box, log: createLogger('silent'), signer, outbound: s.outbound, ...transferDeps(s.database.db, { transferMinNoticeDays: 0 }) };
    expect(await advanceTransfer(deps, id)).toEqual({ state: 'completed', waiting: 'source-grace' });

    // Every file arrived over SFTP, byte for byte; the player links name the Québec server.
    for (const [file, hash] of expected) expect(sha(readFileSync(path.join(dirs.target, file))), file).toBe(hash);
    for (const r of recs) {
      const rel = path.relative(dirs.source, r.dir);
      expect(existsSync(path.join(dirs.target, rel, 'metadata.xml.partial'))).toBe(false);
      expect(readFileSync(path.join(dirs.target, rel, 'metadata.xml'), 'utf8')).toContain(target.origin);
    }
    const listed = await new BbbClient({ apiUrl: target.url, secret: 'qc-secret-1', algorithm: 'sha256', fetch }).getRecordings({ meta: { 'meetplane-tenancy': tenancy.id } });
    expect(listed.map((r) => r.recordID).sort()).toEqual(recs.map((r) => r.recordId).sort());
    for (const r of listed) for (const f of r.playback) expect((await fetch(f.url)).status).toBe(200);
    expect((await s.api('GET', `/api/v1/tenancies/${tenancy.id}`)).json).toMatchObject({ coopId: qc.id, clusterId: qcCluster.id, state: 'active' });
    const members = (await s.api('GET', `/api/v1/tenancies/${tenancy.id}/members`)).json.items;
    expect(members).toHaveLength(3);

    const receipt = await loadReceipt(s.database.db, id);
    const verified = await verifyReceipt(receipt!, { sourceJwks: await coopJwks(s.database.db, uk.id), targetJwks: await coopJwks(s.database.db, qc.id) });
    expect(verified.summary).toMatchObject({ transferId: id, sourceCoopId: uk.id, targetCoopId: qc.id });
  });
});
