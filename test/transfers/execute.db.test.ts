// A whole transfer, end to end, between two BBB servers (doubles) whose
// published recordings live in directories: a UK co-op hands a tenancy with
// members and recordings to a German co-op. After the notice the tenancy is
// frozen, its recordings are copied with checksums and rewritten for the target,
// the tenancy switches, the target lists and plays every recording, a receipt
// signed by both co-ops is stored, and the gateway sends the next meeting to
// the new cluster. A member who objected stays out.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { deliverOutbox, transferAction } from '../support/transfers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import type { BbbDouble } from '../support/bbb/server.js';
import { startBbbPair, type BbbPair } from '../support/bbb/pair.js';
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
import { memberExportOwner, memberExportsOf, openMemberExport } from '../../server/transfers/member-export.js';
import { mailOutbox } from '../../server/mail/table.js';

let s: TestServer;
let source: BbbDouble;
let target: BbbDouble;
let peers: BbbPair;
let dirs: BbbPair['dirs'];

beforeAll(async () => {
  // No background worker: the test runs the transfers job itself, once.
  s = await startTestServer({ TRANSFER_MIN_NOTICE_DAYS: '0', WORKER: 'off' });
  peers = await startBbbPair({ source: 'source-secret-1', target: 'target-secret-1' });
  ({ source, target, dirs } = peers);
}, 60_000);
afterAll(async () => {
  await peers?.close();
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
    await pollClusters(s.database.db, box, { outbound: s.outbound });
    expect((await s.database.db.select().from(clusterHealth).where(eq(clusterHealth.clusterId, deCluster.id)))[0]!.state).toBe('online');

    const tenancy = await createTenancy(s, uk.id, ukCluster.id, { name: 'Riverside School', retentionDays: 365 });
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
          // A video is binary: every byte value, sequences that are no UTF-8 among them.
          files: { 'video/webcams.webm': Buffer.from(Array.from({ length: 200_000 + i }, (_, k) => (k * 7 + i) % 256)), 'shapes.svg': `<svg id="${i}"/>` },
        }),
      );
    // A recording past the tenancy's retention (365 days) is deleted at the source, never moved.
    const expired = await writeRecording(dirs.source, {
      meetingId: 'old-room',
      name: 'Old lesson',
      host: source.origin,
      startTime: Date.now() - 400 * 86_400_000,
      meta: { 'meetplane-tenancy': tenancy.id },
      files: { 'shapes.svg': '<svg id="old"/>' },
    });
    // Another tenancy's recording on the same server stays where it is.
    const foreign = await writeRecording(dirs.source, { meetingId: 'other', name: 'Not ours', host: source.origin, meta: { 'meetplane-tenancy': 'someone-else' }, files: { 'shapes.svg': '<svg/>' } });

    const sourceAdmin = await coopAdminWithToken(s, uk.id);
    const targetAdmin = await coopAdminWithToken(s, de.id);
    await s.api('POST', '/api/v1/processing-agreements', { token: sourceAdmin.token, body: { tenancy: tenancy.id, coop: de.id, documentSha256: 'c'.repeat(64), signedOn: '2026-01-01' } });
    const created = await s.api('POST', '/api/v1/transfers', { token: sourceAdmin.token, body: { tenancy: tenancy.id, targetCoop: de.id, targetCluster: deCluster.id, noticeDays: 0 } });
    expect(created.status, created.text).toBe(201);
    const id = created.json.id;
    expect((await transferAction(s, id, 'check', { token: sourceAdmin.token })).json.state).toBe('checked');
    await transferAction(s, id, 'approve', { token: sourceAdmin.token, body: { as: 'source_admin' } });
    await transferAction(s, id, 'approve', { token: targetAdmin.token, body: { as: 'target_admin' } });
    expect((await transferAction(s, id, 'approve', { token: owner.token, body: { as: 'owner' } })).json.state).toBe('notice');
    await transferAction(s, id, 'object', { token: members[0]!.token });
    // The mail server accepts the notices: the notice period (none required here) counts from then.
    expect(await deliverOutbox(s.database.db)).toBe(4);

    const deps: ExecutionDeps = {
      db: s.database.db,
      box,
      log: createLogger('silent'),
      signer: await CheckpointSigner.load(s.database.db, box, auditOrigin(s.url)),
      outbound: s.outbound,
      rules: new DataProtectionRules(),
      registry: JurisdictionRegistry.load(),
      minNoticeDays: 0,
      clusterStatus: async (clusterId) => {
        const [h] = await s.database.db.select().from(clusterHealth).where(eq(clusterHealth.clusterId, clusterId));
        return { online: h?.state === 'online', load: h?.load ?? 0 };
      },
    };
    // A meeting of the tenancy is running when the tenancy freezes: it gets its grace period.
    const live = signQuery('create', { meetingID: 'live-lesson', name: 'Live', attendeePW: 'a', moderatorPW: 'm' }, tenancy.bbbSecret, 'sha256');
    expect(await (await fetch(`${s.url}/t/${tenancy.slug}/bigbluebutton/api/create?${live}`)).text()).toContain('SUCCESS');
    const join = signQuery('join', { meetingID: 'live-lesson', fullName: 'Teacher', password: 'm', redirect: 'false' }, tenancy.bbbSecret, 'sha256');
    expect(await (await fetch(`${s.url}/t/${tenancy.slug}/bigbluebutton/api/join?${join}`)).text()).toContain('SUCCESS');
    const sourceClient = new BbbClient({ apiUrl: source.url, secret: 'source-secret-1', algorithm: 'sha256', fetch });
    expect(await sourceClient.isMeetingRunning('live-lesson')).toBe(true);
    // Another tenancy's meeting runs on the same server: the transfer must leave it alone.
    await sourceClient.create({ meetingID: 'other-tenancy-live', name: 'Not ours', attendeePW: 'a', moderatorPW: 'm' });
    expect((await fetch(`${source.url}/join?${signQuery('join', { meetingID: 'other-tenancy-live', fullName: 'Someone', password: 'm', redirect: 'false' }, 'source-secret-1', 'sha256')}`)).status).toBe(200);
    expect(await sourceClient.isMeetingRunning('other-tenancy-live')).toBe(true);

    // The periodic background job moves every due transfer on (here: right after the notice, none being required);
    // with the default grace (30 minutes) it freezes the tenancy and leaves the meeting running.
    const handlers = jobHandlers({ db: s.database.db, box, log: deps.log, signer: deps.signer, outbound: s.outbound, config: { pollIntervalMs: 60_000, inventoryIntervalMs: 3_600_000, transferMinNoticeDays: 0, publicUrl: s.url } });
    await handlers[TRANSFERS_JOB]!({ id: 'j', kind: TRANSFERS_JOB, key: TRANSFERS_JOB, payload: {}, attempts: 0, maxAttempts: 5, periodMs: 30_000 }, { signal: new AbortController().signal, log: deps.log });
    expect((await s.api('GET', `/api/v1/transfers/${id}`)).json.state).toBe('frozen');
    expect(await sourceClient.isMeetingRunning('live-lesson')).toBe(true);
    const later = (minutes: number) => new Date(Date.now() + minutes * 60_000);
    expect(await advanceTransfer({ ...deps, publicUrl: s.url }, id, later(10))).toEqual({ state: 'frozen', waiting: 'meetings' });
    // Once the grace period is over (30 minutes after the freeze, to the millisecond) the meeting is ended and the transfer runs to the end.
    const frozenAt = Date.parse((await s.api('GET', `/api/v1/transfers/${id}`)).json.stateSince);
    expect(await advanceTransfer({ ...deps, publicUrl: s.url }, id, new Date(frozenAt + 30 * 60_000))).toEqual({ state: 'completed', waiting: 'source-grace' });
    expect(await sourceClient.isMeetingRunning('live-lesson')).toBe(false);
    expect(await sourceClient.isMeetingRunning('other-tenancy-live')).toBe(true);
    const status = (await s.api('GET', `/api/v1/transfers/${id}`)).json;
    expect(status.state).toBe('completed');
    // The copy reported its progress as it went: all three recordings (the expired one left out), every byte.
    expect(status.progress).toMatchObject({ recordingsDone: 3, recordingsTotal: 3 });
    expect(status.progress.filesDone).toBe(status.progress.filesTotal);
    expect(status.progress.bytesDone).toBe(status.progress.bytesTotal);
    expect(status.progress.bytesTotal).toBeGreaterThan(600_000);

    // The expired recording was deleted at the source before the copy, and recorded; it is nowhere now.
    expect(existsSync(expired.dir)).toBe(false);
    expect(existsSync(path.join(dirs.target, path.relative(dirs.source, expired.dir)))).toBe(false);

    // Every recording is at the target, byte for byte, and the target's player links point to it.
    for (const r of recs) {
      const rel = path.relative(dirs.source, r.dir);
      expect(sha(path.join(dirs.target, rel, 'video/webcams.webm'))).toBe(sha(path.join(r.dir, 'video/webcams.webm')));
      expect(readFileSync(path.join(dirs.target, rel, 'metadata.xml'), 'utf8')).toContain(target.origin);
    }
    expect(readFileSync(path.join(dirs.target, path.relative(dirs.source, recs[0]!.dir), 'metadata.xml'), 'utf8')).not.toContain(source.origin);
    const client = new BbbClient({ apiUrl: target.url, secret: 'target-secret-1', algorithm: 'sha256', fetch });
    const listed = await client.getRecordings({ meta: { 'meetplane-tenancy': tenancy.id } });
    expect(listed.map((r) => r.recordID).sort()).toEqual(recs.map((r) => r.recordId).sort());
    for (const r of listed) for (const f of r.playback) expect((await fetch(f.url)).status).toBe(200);
    expect(await new BbbClient({ apiUrl: target.url, secret: 'target-secret-1', algorithm: 'sha256', fetch }).getRecordings({ recordID: foreign.recordId })).toEqual([]);

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
    // It names the approvers as the audit log does, by pseudonymous references, never by account id.
    expect(verified.summary.version).toBe(2);
    const approved = (await s.api('GET', `/api/v1/audit/entries?subjectType=transfer&subject=${id}&action=transfer.approve&limit=10`)).json.items.map(
      (e: { json: { details: { role: string; approver: string } } }) => [e.json.details.role, e.json.details.approver],
    );
    expect(verified.summary.approvals.map((a) => [a.role, a.ref]).sort()).toEqual(approved.sort());
    for (const a of verified.summary.approvals) expect(a.ref).toMatch(/^p:[0-9a-f]{32}$/);
    const payload = Buffer.from(receipt!.payload, 'base64url').toString('utf8');
    for (const who of [owner, sourceAdmin, targetAdmin]) expect(payload).not.toContain(who.accountId);

    // The accounts that belonged to the tenancy alone moved with it; the objector's stayed.
    const homeOf = async (accountId: string) => (await s.api('GET', `/api/v1/accounts/${accountId}`)).json.coopId;
    expect(await homeOf(members[1]!.accountId)).toBe(de.id);
    expect(await homeOf(owner.accountId)).toBe(de.id);
    expect(await homeOf(members[0]!.accountId)).toBe(uk.id);
    expect(await homeOf(sourceAdmin.accountId)).toBe(uk.id);

    // The objector got an Art. 20 export of their data instead, announced by mail, readable by them only.
    const [exp] = await memberExportsOf(s.database.db, members[0]!.accountId);
    const opened = await openMemberExport(s.database.db, box, exp!.id);
    const data = JSON.parse(opened!.json);
    expect(data).toMatchObject({ format: 'meetplane.member-export/1', tenancy: { id: tenancy.id, name: 'Riverside School' }, membership: { role: 'member' } });
    expect(data.account.email).toMatch(/@example.org$/);
    expect(createHash('sha256').update(opened!.json).digest('hex')).toBe(exp!.sha256);
    expect(await memberExportOwner(s.database.db, exp!.id)).toBe(members[0]!.accountId);
    const mails = await s.database.db.select().from(mailOutbox).where(eq(mailOutbox.topic, `transfer:${id}:export`));
    expect(mails.map((m) => m.toAddress)).toEqual([data.account.email]);
    expect(mails[0]!.body).toContain(`${s.url}/me/exports/${exp!.id}`);
    expect(await memberExportsOf(s.database.db, members[1]!.accountId)).toEqual([]);

    // The source keeps its copy for the grace period (14 days by default), then it is deleted and recorded.
    for (const r of recs) expect(existsSync(r.dir)).toBe(true);
    expect(await advanceTransfer(deps, id, later(13 * 24 * 60))).toEqual({ state: 'completed', waiting: 'source-grace' });
    const waiting = (await s.api('GET', `/api/v1/transfers/${id}`)).json.sourceDeletion;
    expect(waiting.doneAt).toBeNull();
    expect(Date.parse(waiting.dueAt) - Date.parse(status.stateSince)).toBe(14 * 86_400_000);
    expect(await advanceTransfer(deps, id, later(15 * 24 * 60))).toEqual({ state: 'completed' });
    expect((await s.api('GET', `/api/v1/transfers/${id}`)).json.sourceDeletion.doneAt).not.toBeNull();
    for (const r of recs) expect(existsSync(r.dir)).toBe(false);
    expect(existsSync(foreign.dir)).toBe(true);
    expect(await sourceClient.getRecordings({ meta: { 'meetplane-tenancy': tenancy.id } })).toEqual([]);
    // ...while the target still serves every recording.
    for (const r of await client.getRecordings({ meta: { 'meetplane-tenancy': tenancy.id } })) for (const f of r.playback) expect((await fetch(f.url)).status).toBe(200);

    // Every step is in the audit log, in order.
    const entries = (await s.api('GET', `/api/v1/audit/entries?subjectType=transfer&subject=${id}&limit=100`)).json.items.map((e: { json: { action: string; details?: Record<string, unknown> } }) => e.json);
    const actions = entries.map((e: { action: string }) => e.action);
    expect(actions.slice(-8)).toEqual([
      'transfer.freeze',
      'transfer.retention-delete',
      'transfer.copy-start',
      'transfer.copied',
      'transfer.member-export',
      'transfer.switch',
      'transfer.complete',
      'transfer.source-delete',
    ]);
    expect(entries.find((e: { action: string }) => e.action === 'transfer.retention-delete').details).toMatchObject({ recordings: 1, recordIds: [expired.recordId], policyIds: ['dp-retention'], policySetHash: deps.rules.policySetHash });
    // What was copied, as the status counted it.
    expect(entries.find((e: { action: string }) => e.action === 'transfer.copied').details).toMatchObject({ recordings: 3, files: status.progress.filesTotal, bytes: status.progress.bytesTotal });
    expect(entries.find((e: { action: string }) => e.action === 'transfer.copy-start').details).toMatchObject({ meetingsEnded: 1, retentionDeleted: 1 });
    expect(entries.find((e: { action: string }) => e.action === 'transfer.switch').details).toMatchObject({ membershipsLeftOut: 1, exports: 1, accountsMoved: 3 });
    expect(entries.find((e: { action: string }) => e.action === 'transfer.source-delete').details).toMatchObject({ recordings: 3 });
    // The audit log holds no personal data: the export's e-mail address is nowhere in it.
    expect(JSON.stringify(entries)).not.toContain(data.account.email);

    // The front end keeps its URL and secret: the next meeting is created on the new cluster.
    const q = signQuery('create', { meetingID: 'after-move', name: 'After', attendeePW: 'a', moderatorPW: 'm' }, tenancy.bbbSecret, 'sha256');
    const res = await fetch(`${s.url}/t/${tenancy.slug}/bigbluebutton/api/create?${q}`);
    expect(await res.text()).toContain('<returncode>SUCCESS</returncode>');
    expect(target.meetings.has('after-move')).toBe(true);
    expect(source.meetings.has('after-move')).toBe(false);
  });
});
