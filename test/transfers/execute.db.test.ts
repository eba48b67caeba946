// A whole transfer, end to end, between two BBB servers (doubles) whose
// published recordings live in directories: a UK co-op hands a tenancy with
// members and recordings to a German co-op. After the notice the tenancy is
// frozen, its recordings are copied with checksums and rewritten for the target,
// the tenancy switches, the target lists and plays every recording, a receipt
// signed by both co-ops is stored, and the gateway sends the next meeting to
// the new cluster. A member who objected stays out.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { startTestServer, type TestServer } from '../support/server.js';
import { startBbbDouble, type BbbDouble } from '../support/bbb/server.js';
import { writeRecording } from '../support/bbb/recordings.js';
import { coopAdminWithToken, createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { createLogger } from '../../server/logger.js';
import { pollClusters } from '../../server/clusters/health.js';
import { clusterHealth } from '../../server/clusters/health-table.js';
import { CheckpointSigner, auditOrigin } from '../../server/audit/checkpoints.js';
import { DataProtectionRules } from '../../policies/data-protection/rules.js';
import { JurisdictionRegistry } from '../../server/transfers/jurisdictions.js';
import { advanceTransfer, type ExecutionDeps } from '../../server/transfers/execute.js';
import { jobHandlers, TRANSFERS_JOB } from '../../server/jobs/background.js';
import { loadReceipt } from '../../server/receipts/receipt.js';
import { coopJwks } from '../../server/receipts/keys.js';
import { verifyReceipt } from '../../federation/receipt-verify.js';
import { BbbClient } from '../../server/bbb/client.js';
import { signQuery } from '../../server/bbb/checksum.js';

let s: TestServer;
let source: BbbDouble;
let target: BbbDouble;
const dirs = { source: mkdtempSync(path.join(os.tmpdir(), 'mp-src-')), target: mkdtempSync(path.join(os.tmpdir(), 'mp-dst-')) };

beforeAll(async () => {
  // No background worker: the test runs the transfers job itself, once.
  s = await startTestServer({ TRANSFER_MIN_NOTICE_DAYS: '0', WORKER: 'off' });
  source = await startBbbDouble({ secret: 'source-secret-1', recordingsDir: dirs.source });
  target = await startBbbDouble({ secret: 'target-secret-1', recordingsDir: dirs.target });
}, 60_000);
afterAll(async () => {
  await source?.close();
  await target?.close();
  await s?.stop();
});

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('a transfer, executed', () => {
  it('moves a tenancy with its recordings from a UK co-op to a German one, and signs a receipt', async () => {
    const box = new SecretBox(Buffer.from(s.masterKey, 'base64'));
    const uk = await createCoop(s, { jurisdiction: 'GB', legalRegime: 'uk_gdpr', name: 'Old Co-op' });
    const de = await createCoop(s, { jurisdiction: 'DE', legalRegime: 'eu_gdpr', name: 'New Co-op' });
    const ukCluster = await createCluster(s, uk.id, { country: 'GB', apiUrl: source.url, secret: 'source-secret-1' });
    const deCluster = await createCluster(s, de.id, { country: 'DE', apiUrl: target.url, secret: 'target-secret-1' });
    for (const [cluster, dir] of [
      [ukCluster.id, dirs.source],
      [deCluster.id, dirs.target],
    ] as const) {
      const res = await s.api('PUT', `/api/v1/clusters/${cluster}/storage`, { body: { url: `file://${dir}` } });
      expect(res.status, res.text).toBe(200);
    }
    expect((await s.api('PUT', `/api/v1/clusters/${ukCluster.id}/storage`, { body: { url: 'sftp://u:pw@host/x' } })).status).toBe(400);
    await pollClusters(s.database.db, box, {});
    expect((await s.database.db.select().from(clusterHealth).where(eq(clusterHealth.clusterId, deCluster.id)))[0]!.state).toBe('online');

    const tenancy = await createTenancy(s, uk.id, ukCluster.id, { name: 'Riverside School' });
    const owner = await memberWithToken(s, uk.id);
    const members = [await memberWithToken(s, uk.id), await memberWithToken(s, uk.id), await memberWithToken(s, uk.id)];
    await s.api('PUT', `/api/v1/tenancies/${tenancy.id}/members/${owner.accountId}`, { body: { role: 'owner' } });
    for (const m of members) await s.api('PUT', `/api/v1/tenancies/${tenancy.id}/members/${m.accountId}`, { body: { role: 'member' } });
    const recs = [];
    for (let i = 0; i < 3; i++)
      recs.push(
        await writeRecording(dirs.source, {
          meetingId: `room-${i}`,
          name: `Lesson ${i}`,
          host: source.origin,
          meta: { 'meetplane-tenancy': tenancy.id },
          files: { 'video/webcams.webm': Buffer.alloc(200_000 + i, i), 'shapes.svg': `<svg id="${i}"/>` },
        }),
      );
    // Another tenancy's recording on the same server stays where it is.
    const foreign = await writeRecording(dirs.source, { meetingId: 'other', name: 'Not ours', host: source.origin, meta: { 'meetplane-tenancy': 'someone-else' }, files: { 'shapes.svg': '<svg/>' } });

    const sourceAdmin = await coopAdminWithToken(s, uk.id);
    const targetAdmin = await coopAdminWithToken(s, de.id);
    await s.api('POST', '/api/v1/processing-agreements', { token: sourceAdmin.token, body: { tenancy: tenancy.id, coop: de.id, documentSha256: 'c'.repeat(64), signedOn: '2026-01-01' } });
    const created = await s.api('POST', '/api/v1/transfers', { token: sourceAdmin.token, body: { tenancy: tenancy.id, targetCoop: de.id, targetCluster: deCluster.id, noticeDays: 0 } });
    expect(created.status, created.text).toBe(201);
    const id = created.json.id;
    expect((await s.api('POST', `/api/v1/transfers/${id}/check`, { token: sourceAdmin.token })).json.state).toBe('checked');
    await s.api('POST', `/api/v1/transfers/${id}/approve`, { token: sourceAdmin.token, body: { as: 'source_admin' } });
    await s.api('POST', `/api/v1/transfers/${id}/approve`, { token: targetAdmin.token, body: { as: 'target_admin' } });
    expect((await s.api('POST', `/api/v1/transfers/${id}/approve`, { token: owner.token, body: { as: 'owner' } })).json.state).toBe('notice');
    await s.api('POST', `/api/v1/transfers/${id}/object`, { token: members[0]!.token });

    const deps: ExecutionDeps = {
      db: s.database.db,
      box,
      log: createLogger('silent'),
      signer: await CheckpointSigner.load(s.database.db, box, auditOrigin(s.url)),
      rules: new DataProtectionRules(),
      registry: JurisdictionRegistry.load(),
      minNoticeDays: 0,
      clusterStatus: async (clusterId) => {
        const [h] = await s.database.db.select().from(clusterHealth).where(eq(clusterHealth.clusterId, clusterId));
        return { online: h?.state === 'online', load: h?.load ?? 0 };
      },
    };
    // The periodic background job moves every due transfer on (here: right after the notice, none being required).
    const handlers = jobHandlers({ db: s.database.db, box, log: deps.log, signer: deps.signer, config: { pollIntervalMs: 60_000, inventoryIntervalMs: 3_600_000, transferMinNoticeDays: 0 } });
    await handlers[TRANSFERS_JOB]!({ id: 'j', kind: TRANSFERS_JOB, key: TRANSFERS_JOB, payload: {}, attempts: 0, maxAttempts: 5, periodMs: 30_000 }, { signal: new AbortController().signal, log: deps.log });
    expect((await s.api('GET', `/api/v1/transfers/${id}`)).json.state).toBe('completed');
    expect(await advanceTransfer(deps, id)).toBe('completed'); // nothing left to do

    // Every recording is at the target, byte for byte, and the target's player links point to it.
    for (const r of recs) {
      const rel = path.relative(dirs.source, r.dir);
      expect(sha(path.join(dirs.target, rel, 'video/webcams.webm'))).toBe(sha(path.join(r.dir, 'video/webcams.webm')));
      expect(readFileSync(path.join(dirs.target, rel, 'metadata.xml'), 'utf8')).toContain(target.origin);
    }
    expect(readFileSync(path.join(dirs.target, path.relative(dirs.source, recs[0]!.dir), 'metadata.xml'), 'utf8')).not.toContain(source.origin);
    const client = new BbbClient({ apiUrl: target.url, secret: 'target-secret-1', algorithm: 'sha256' });
    const listed = await client.getRecordings({ meta: { 'meetplane-tenancy': tenancy.id } });
    expect(listed.map((r) => r.recordID).sort()).toEqual(recs.map((r) => r.recordId).sort());
    for (const r of listed) for (const f of r.playback) expect((await fetch(f.url)).status).toBe(200);
    expect(await new BbbClient({ apiUrl: target.url, secret: 'target-secret-1', algorithm: 'sha256' }).getRecordings({ recordID: foreign.recordId })).toEqual([]);

    // The tenancy now belongs to the target co-op, active; the objecting member stayed out.
    const moved = await s.api('GET', `/api/v1/tenancies/${tenancy.id}`);
    expect(moved.json).toMatchObject({ coopId: de.id, clusterId: deCluster.id, state: 'active' });
    const memberIds = (await s.api('GET', `/api/v1/tenancies/${tenancy.id}/members`)).json.items.map((m: { accountId: string }) => m.accountId);
    expect(memberIds).not.toContain(members[0]!.accountId);
    expect(memberIds).toContain(members[1]!.accountId);

    // The receipt is signed by the source co-op and countersigned by the target.
    const receipt = await loadReceipt(s.database.db, id);
    const verified = await verifyReceipt(receipt!, { sourceJwks: await coopJwks(s.database.db, uk.id), targetJwks: await coopJwks(s.database.db, de.id) });
    expect(verified.summary).toMatchObject({ transferId: id, tenancyId: tenancy.id, sourceCoopId: uk.id, targetCoopId: de.id });
    expect(verified.summary.approvals.map((a) => a.role).sort()).toEqual(['owner', 'source_admin', 'target_admin']);

    // Every step is in the audit log, in order.
    const actions = (await s.api('GET', `/api/v1/audit/entries?subjectType=transfer&subject=${id}&limit=100`)).json.items.map((e: { json: { action: string } }) => e.json.action);
    expect(actions.slice(-5)).toEqual(['transfer.freeze', 'transfer.copy-start', 'transfer.copied', 'transfer.switch', 'transfer.complete']);

    // The front end keeps its URL and secret: the next meeting is created on the new cluster.
    const q = signQuery('create', { meetingID: 'after-move', name: 'After', attendeePW: 'a', moderatorPW: 'm' }, tenancy.bbbSecret, 'sha256');
    const res = await fetch(`${s.url}/t/${tenancy.slug}/bigbluebutton/api/create?${q}`);
    expect(await res.text()).toContain('<returncode>SUCCESS</returncode>');
    expect(target.meetings.has('after-move')).toBe(true);
    expect(source.meetings.has('after-move')).toBe(false);
  });
});
