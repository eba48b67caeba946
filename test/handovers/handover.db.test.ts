// A whole platform hand-over, end to end on loopback with BBB doubles: an old
// co-op hands its platform of 40 tenancies to a new one. Two clusters'
// tenancies move (data move, in three waves with a concurrency limit: two run
// by an admin, the third by the background job in its window), a third
// cluster changes hands (custody: new secret, roles on it revoked, tenancies
// keep it). Owners are asked in their language, and accept, object (their
// tenancy stays, or they take an export) or ask for a later wave; one tenancy
// fails mid-copy without holding up the others and is retried; a blocking
// task of the shared checklist holds the cut-over; the final report, signed
// by both co-ops, verifies offline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { startTestServer, type TestServer } from '../support/server.js';
import { startBbbPair, type BbbPair } from '../support/bbb/pair.js';
import { writeRecording } from '../support/bbb/recordings.js';
import { coopAdminWithToken, createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { deliverOutbox, transferEtag } from '../support/transfers.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { pollClusters } from '../../server/clusters/health.js';
import { armFailpoint } from '../../server/failpoints.js';
import { coopJwks } from '../../server/receipts/keys.js';
import { openClusterSecret } from '../../server/clusters/service.js';
import { verifyHandoverReport } from '../../federation/handover-report-verify.js';
import { ReceiptVerificationError } from '../../federation/receipt-verify.js';
import { transferApprovals } from '../../server/transfers/table.js';
import { mailOutbox } from '../../server/mail/table.js';
import { accounts } from '../../server/accounts/table.js';
import { auditOrigin, CheckpointSigner } from '../../server/audit/checkpoints.js';
import { createLogger } from '../../server/logger.js';
import { HANDOVER_WAVES_JOB, jobHandlers } from '../../server/jobs/background.js';

let s: TestServer;
let peers: BbbPair;

beforeAll(async () => {
  s = await startTestServer({ TRANSFER_MIN_NOTICE_DAYS: '0', TRANSFER_MEETING_GRACE: '0', WORKER: 'off' });
  peers = await startBbbPair({ source: 'old-secret-0123456789', target: 'new-secret-0123456789' });
}, 60_000);
afterAll(async () => {
  armFailpoint(null);
  await peers?.close();
  await s?.stop();
});

type Who = { token: string; accountId: string };
const iso = (ms: number) => new Date(Date.now() + ms).toISOString();

/** A source admin who may delegate (the operator roles for the target's team come from their grant). */
async function delegableCoopAdmin(coop: string): Promise<Who> {
  const who = await memberWithToken(s, coop);
  const [root] = (await s.api('GET', '/api/v1/grants?active=true')).json.items;
  const res = await s.api('POST', '/api/v1/grants', {
    body: { from: root.id, account: who.accountId, role: 'coop_admin', scope: { type: 'coop', id: coop }, delegable: true, transferApproval: true, expiresAt: iso(86_400_000), reason: 'runs the co-op' },
  });
  expect(res.status, res.text).toBe(201);
  return who;
}

/** POST with the hand-over's current ETag as If-Match. */
async function act(id: string, path: string, token: string, body?: unknown) {
  const etag = (await s.api('GET', `/api/v1/handovers/${id}`)).headers.get('etag')!;
  return s.api('POST', `/api/v1/handovers/${id}/${path}`, { token, body, headers: { 'if-match': etag } });
}

describe('a platform hand-over', () => {
  it('moves, keeps and hands over a co-op\'s tenancies in waves, holds the cut-over for a blocking task, and signs a report that verifies', async () => {
    const box = new SecretBox(Buffer.from(s.masterKey, 'base64'));
    const old = await createCoop(s, { name: 'Old Co-op' });
    const neu = await createCoop(s, { name: 'New Co-op' });
    const s1 = await createCluster(s, old.id, { apiUrl: peers.source.url, secret: 'old-secret-0123456789' });
    const s2 = await createCluster(s, old.id, { apiUrl: peers.source.url, secret: 'old-secret-0123456789' });
    const s3 = await createCluster(s, old.id, { secret: 'custody-secret-0123456789' });
    const t1 = await createCluster(s, neu.id, { apiUrl: peers.target.url, secret: 'new-secret-0123456789', capacity: 300 });
    for (const [c, dir] of [
      [s1.id, peers.dirs.source],
      [s2.id, peers.dirs.source],
      [t1.id, peers.dirs.target],
    ] as const)
      expect((await s.api('PUT', `/api/v1/clusters/${c}/storage`, { body: { url: `file://${dir}` } })).status).toBe(200);
    await pollClusters(s.database.db, box, { outbound: s.outbound });

    const srcAdmin = await delegableCoopAdmin(old.id);
    const dstAdmin = await coopAdminWithToken(s, neu.id);
    const techie = await memberWithToken(s, neu.id);
    const tenancy = async (cluster: string, name: string, language?: 'fr' | 'de') => {
      const t = await createTenancy(s, old.id, cluster, { name, retentionDays: 3650, ...(language ? { language } : {}) });
      const owner = await memberWithToken(s, old.id);
      await s.api('PUT', `/api/v1/tenancies/${t.id}/members/${owner.accountId}`, { body: { role: 'owner' } });
      return { ...t, name, owner };
    };
    const many = async (cluster: string, prefix: string, n: number) => {
      const out = [];
      for (let i = 1; i <= n; i++) out.push(await tenancy(cluster, `${prefix} ${i}`));
      return out;
    };
    // 40 tenancies. Wave 1 on S1: one accepts, one objects and stays, one objects and takes an export, one asks for
    // later, one fails mid-copy, one is French (the tenancy's language), one's owner chose German; 5 more accept.
    // Wave 2: the rest of S1 and 6 of S2. Wave 3: 10 of S2, run by the background job. S3: 8 tenancies, custody.
    const [accepts, objects, exports, later, fails] = [
      await tenancy(s1.id, 'Accepts'),
      await tenancy(s1.id, 'Objects'),
      await tenancy(s1.id, 'Exports'),
      await tenancy(s1.id, 'Later'),
      await tenancy(s1.id, 'Fails'),
    ];
    const french = await tenancy(s1.id, 'École du Fleuve', 'fr');
    const german = await tenancy(s1.id, 'Bergschule');
    await s.database.db.update(accounts).set({ language: 'de' }).where(eq(accounts.id, german.owner.accountId));
    const wave1Rest = await many(s1.id, 'First', 5);
    const wave2 = [...(await many(s1.id, 'Second S1', 4)), ...(await many(s2.id, 'Second S2', 6))];
    const wave3 = await many(s2.id, 'Third', 10);
    const kept = await many(s3.id, 'Kept', 8);
    const wave1 = [accepts, objects, exports, later, fails, french, german, ...wave1Rest];
    const moving = [...wave1, ...wave2, ...wave3];
    expect(moving.length + kept.length).toBe(40);
    // Recordings: in wave 1 only the tenancy whose copy fails has one (so the failure is its, whatever the order); waves 2 and 3 copy one each.
    for (const t of [fails, wave2[0]!, wave3[0]!])
      await writeRecording(peers.dirs.source, {
        meetingId: `room-${t.slug}`,
        name: 'Lesson',
        host: peers.source.origin,
        meta: { 'meetplane-tenancy': t.id },
        files: { 'video/webcams.webm': Buffer.alloc(300_000, 7), 'shapes.svg': '<svg/>' },
      });

    const plan = {
      name: 'Old Co-op to New Co-op',
      sourceCoop: old.id,
      targetCoop: neu.id,
      clusters: [
        { cluster: s1.id, mode: 'data-move' },
        { cluster: s2.id, mode: 'data-move' },
        { cluster: s3.id, mode: 'custody' },
      ],
      noticeDays: 0,
      announceAt: iso(0),
      waves: [
        { freezeFrom: iso(1_000), freezeUntil: iso(3_600_000), concurrency: 3, tenancies: wave1.map((t) => t.id) },
        { freezeFrom: iso(1_000), freezeUntil: iso(7_200_000), concurrency: 2, tenancies: wave2.map((t) => t.id) },
        { freezeFrom: iso(1_000), freezeUntil: iso(7_200_000), concurrency: 3, tenancies: wave3.map((t) => t.id) },
      ],
      cutoverAt: iso(7_200_000),
      decommissionAt: iso(20 * 3_600_000),
      agreement: { documentSha256: 'a'.repeat(64), signedOn: '2026-01-01' },
    };
    // A timeline that leaves less than the notice period is refused, naming the wave.
    const tooSoon = await s.api('POST', '/api/v1/handovers', { token: srcAdmin.token, body: { ...plan, noticeDays: 30 } });
    expect(tooSoon.status).toBe(400);
    expect(tooSoon.json.errors.map((e: { path: string }) => e.path)).toEqual(['waves.0.freezeFrom', 'waves.1.freezeFrom', 'waves.2.freezeFrom']);
    // The target co-op's admin cannot plan the source's hand-over.
    expect((await s.api('POST', '/api/v1/handovers', { token: dstAdmin.token, body: plan })).status).toBe(404);

    const created = await s.api('POST', '/api/v1/handovers', { token: srcAdmin.token, body: plan });
    expect(created.status, created.text).toBe(201);
    const id = created.json.id as string;
    expect(created.json.tenancies).toEqual({ total: 40, byState: { planned: 32, custody: 8 } });
    expect(created.json.runWaves).toBe('automatic');
    const placed = created.json.clusters.filter((c: { mode: string }) => c.mode === 'data-move');
    for (const c of placed) expect(c).toMatchObject({ targetClusterId: t1.id, placement: { basis: 'measured', targetCapacity: 300, targetLoad: 0 } });
    expect(created.json.waves.map((w: { tenancies: number }) => w.tenancies)).toEqual([12, 10, 10]);

    // Two approvals by two different people: one person cannot approve for both co-ops.
    expect((await act(id, 'approve', srcAdmin.token, { as: 'source_admin' })).status).toBe(200);
    const twice = await act(id, 'approve', srcAdmin.token, { as: 'target_admin' });
    expect(twice.status).toBe(403);
    expect(twice.json.policyIds).toContain('handover-approve-as-target');
    const approved = await act(id, 'approve', dstAdmin.token, { as: 'target_admin' });
    expect(approved.status, approved.text).toBe(200);
    expect(approved.json.state).toBe('approved');

    // Every moving tenancy now has a checked transfer carrying both co-ops' approvals, waiting for its owner.
    let status = (await s.api('GET', `/api/v1/handovers/${id}/status`, { token: dstAdmin.token })).json;
    const row = (tid: string) => status.tenancies.find((t: { tenancyId: string }) => t.tenancyId === tid);
    for (const t of moving) {
      expect(row(t.id), JSON.stringify(row(t.id))).toMatchObject({ state: 'transfer', transferState: 'checked' });
      const approvals = await s.database.db.select().from(transferApprovals).where(eq(transferApprovals.transferId, row(t.id).transferId));
      expect(approvals.map((a) => [a.role, a.accountId]).sort()).toEqual([
        ['source_admin', srcAdmin.accountId],
        ['target_admin', dstAdmin.accountId],
      ]);
    }

    // Each moving tenancy's owner is told and asked for an answer (custody tenancies keep their cluster: no mail),
    // in their own language, else their tenancy's, else English.
    const asked = await s.database.db.select().from(mailOutbox).where(eq(mailOutbox.topic, `handover:${id}`));
    const emailOf = async (t: { owner: Who }) => (await s.api('GET', `/api/v1/accounts/${t.owner.accountId}`)).json.email as string;
    expect(asked.map((m) => m.toAddress).sort()).toEqual((await Promise.all(moving.map(emailOf))).sort());
    const mailOf = async (t: { owner: Who }) => {
      const to = await emailOf(t);
      return asked.find((m) => m.toAddress === to)!;
    };
    const english = await mailOf(accepts);
    expect(english.subject).toBe('Accepts: Old Co-op hands its platform to New Co-op, your answer is needed');
    expect(english.body).toContain(`meetplane handovers answer ${id}`);
    expect(english.body).toContain(`/me/handovers/${id}/tenancies/${accepts.id}`);
    const inFrench = await mailOf(french);
    expect(inFrench.subject).toBe('École du Fleuve : Old Co-op confie sa plateforme à New Co-op, votre réponse est attendue');
    expect(inFrench.body).toMatch(new RegExp(`Répondez sur votre page : \\S+/me/handovers/${id}/tenancies/${french.id}\n`));
    const inGerman = await mailOf(german);
    expect(inGerman.subject).toBe('Bergschule: Old Co-op übergibt seine Plattform an New Co-op, Ihre Antwort wird gebraucht');
    expect(inGerman.body).toContain('Antworten Sie auf Ihrer Seite');

    // Owners answer on their transfer (its ETag as If-Match); another tenancy's owner cannot answer for them.
    const answer = async (t: { id: string; owner: Who }, body: unknown, token = t.owner.token) => {
      const transferId = (await s.api('GET', `/api/v1/handovers/${id}/status`)).json.tenancies.find((x: { tenancyId: string }) => x.tenancyId === t.id).transferId;
      return s.api('POST', `/api/v1/handovers/${id}/tenancies/${t.id}/answer`, { token, body, headers: { 'if-match': await transferEtag(s, transferId) } });
    };
    expect([403, 404]).toContain((await answer(accepts, { answer: 'accept' }, objects.owner.token)).status);
    for (const t of [accepts, fails, french, german, ...wave1Rest, ...wave2, ...wave3]) expect((await answer(t, { answer: 'accept' })).json.state).toBe('transfer');
    expect((await answer(objects, { answer: 'object', choice: 'stay' })).json.state).toBe('stayed');
    expect((await answer(exports, { answer: 'object', choice: 'export' })).json.state).toBe('stayed');
    const movedLater = await answer(later, { answer: 'later' });
    expect(movedLater.json).toMatchObject({ state: 'transfer', wave: 2 });
    expect((await answer(later, { answer: 'accept' })).json.state).toBe('transfer');
    await deliverOutbox(s.database.db);

    // The target's tech team operates the source clusters for the duration (until the decommission date).
    const ops = await s.api('POST', `/api/v1/handovers/${id}/operators`, { token: srcAdmin.token, body: { account: techie.accountId } });
    expect(ops.status, ops.text).toBe(201);
    expect(ops.json.grants).toHaveLength(3);
    expect((await s.api('GET', `/api/v1/clusters/${s1.id}`, { token: techie.token })).status).toBe(200);

    // Wave 1: one tenancy fails mid-copy; the others move all the same, three at a time.
    await new Promise((r) => setTimeout(r, 1_000));
    armFailpoint('throw:copy.chunk');
    const w1 = await act(id, 'waves/1/run', dstAdmin.token);
    armFailpoint(null);
    expect(w1.status, w1.text).toBe(200);
    expect(w1.json.peakInFlight).toBeLessThanOrEqual(3);
    const result = (tid: string) => w1.json.results.find((r: { tenancyId: string }) => r.tenancyId === tid);
    expect(result(fails.id)).toMatchObject({ state: 'failed', transferState: 'rolled_back' });
    expect(result(fails.id).failure).toContain('failpoint copy.chunk');
    for (const t of [accepts, french, german, ...wave1Rest]) expect(result(t.id), t.name).toMatchObject({ state: 'moved', transferState: 'completed' });
    expect(result(objects.id)).toMatchObject({ state: 'stayed' });
    expect(result(exports.id)).toMatchObject({ state: 'stayed' });
    expect((await s.api('GET', `/api/v1/tenancies/${accepts.id}`)).json).toMatchObject({ coopId: neu.id, clusterId: t1.id });
    expect((await s.api('GET', `/api/v1/tenancies/${objects.id}`)).json).toMatchObject({ coopId: old.id, clusterId: s1.id });
    status = (await s.api('GET', `/api/v1/handovers/${id}/status`)).json;
    expect(status.failures).toEqual([{ tenancyId: fails.id, reason: expect.stringContaining('copy') }]);

    // The retry makes a new transfer carrying the plan's approvals and the owner's acceptance; the rerun moves it.
    const retried = await s.api('POST', `/api/v1/handovers/${id}/tenancies/${fails.id}/retry`, { token: srcAdmin.token });
    expect(retried.status, retried.text).toBe(200);
    expect(retried.json.state).toBe('transfer');
    await deliverOutbox(s.database.db);
    expect((await act(id, 'waves/1/run', srcAdmin.token)).json.results.find((r: { tenancyId: string }) => r.tenancyId === fails.id)).toMatchObject({ state: 'moved' });
    const w2 = await act(id, 'waves/2/run', dstAdmin.token);
    expect(w2.json.results.map((r: { state: string }) => r.state)).toEqual(Array(11).fill('moved'));
    // Eleven transfers (the ten and the one that asked for later), two at a time.
    expect(w2.json.peakInFlight).toBe(2);
    let progress = (await s.api('GET', `/api/v1/handovers/${id}/status`, { token: srcAdmin.token })).json;
    expect(progress.waves[1]).toMatchObject({ tenancies: 11, moved: 11, onTheWay: 0 });
    expect(progress.waves[1].bytesDone).toBeGreaterThan(300_000);

    // Wave 3 is nobody's to run by hand: the plan runs its waves automatically, and the background job runs it in its window.
    const signer = await CheckpointSigner.load(s.database.db, box, auditOrigin(s.url));
    const handlers = jobHandlers({
      db: s.database.db,
      box,
      log: createLogger('silent'),
      signer,
      outbound: s.outbound,
      config: { pollIntervalMs: 60_000, inventoryIntervalMs: 3_600_000, transferMinNoticeDays: 0, publicUrl: s.url, transferTiming: { meetingGraceMs: 0, sourceGraceMs: 86_400_000, leaseMs: 60_000 } },
    });
    await handlers[HANDOVER_WAVES_JOB]!(
      { id: 'j', kind: HANDOVER_WAVES_JOB, key: HANDOVER_WAVES_JOB, payload: {}, attempts: 0, maxAttempts: 5, periodMs: 30_000 },
      { signal: new AbortController().signal, log: createLogger('silent') },
    );
    progress = (await s.api('GET', `/api/v1/handovers/${id}/status`, { token: srcAdmin.token })).json;
    expect(progress.waves[2]).toMatchObject({ tenancies: 10, moved: 10, onTheWay: 0 });
    expect(progress.waves[2].bytesDone).toBeGreaterThan(300_000);
    for (const t of wave3) expect((await s.api('GET', `/api/v1/tenancies/${t.id}`)).json).toMatchObject({ coopId: neu.id, clusterId: t1.id });

    // The operations guide is generated from what meetplane holds: clusters with their polled versions, storage, contacts, runbook.
    const guide = await s.api('GET', `/api/v1/handovers/${id}/guide`, { token: dstAdmin.token });
    expect(guide.status).toBe(200);
    expect(guide.headers.get('content-type')).toContain('text/markdown');
    expect(guide.text).toContain('# Operations guide: Old Co-op to New Co-op');
    expect(guide.text).toContain(`file://${peers.dirs.target}`);
    expect(guide.text).toMatch(/\| source, custody: changes hands \| https:\/\/bbb\.north\.example\/bigbluebutton\/api \|/);
    expect(guide.text).toContain('ops@north.example');
    expect(guide.text).toContain(`meetplane handovers retry ${id} --tenancy <id>`);
    expect(guide.text).not.toContain('secret-0123456789');

    // Custody: the third cluster changes hands with a new secret; its tenancies keep it; roles on it end.
    const custody = await act(id, `clusters/${s3.id}/custody`, srcAdmin.token, { secret: 'rotated-secret-0123456789' });
    expect(custody.status, custody.text).toBe(200);
    expect(custody.json.tenancies).toBe(8);
    expect((await s.api('GET', `/api/v1/clusters/${s3.id}`)).json.coopId).toBe(neu.id);
    expect(await openClusterSecret(s.database.db, box, s3.id)).toBe('rotated-secret-0123456789');
    for (const t of kept) expect((await s.api('GET', `/api/v1/tenancies/${t.id}`)).json).toMatchObject({ coopId: neu.id, clusterId: s3.id });
    expect(custody.json.grantsRevoked).toContain(ops.json.grants.find((g: { clusterId: string }) => g.clusterId === s3.id).grantId);

    // A blocking task of the checklist holds the cut-over; done, the cut-over goes ahead.
    const task = await s.api('POST', `/api/v1/handovers/${id}/tasks`, { token: dstAdmin.token, body: { title: 'DNS and TLS for the gateway host', assignee: techie.accountId, dueOn: '2026-12-31', blocking: true } });
    expect(task.status, task.text).toBe(201);
    await s.api('POST', `/api/v1/handovers/${id}/tasks`, { token: srcAdmin.token, body: { title: 'Monitoring moved' } });
    await s.api('POST', `/api/v1/handovers/${id}/tasks/${task.json.id}/comments`, { token: srcAdmin.token, body: { body: 'Zone file sent over' } });
    const held = await act(id, 'cut-over', srcAdmin.token);
    expect(held.status).toBe(409);
    expect(held.json.type).toBe('https://meetplane.org/problems/blocking-tasks');
    expect(held.json.tasks.map((t: { title: string }) => t.title)).toEqual(['DNS and TLS for the gateway host']);
    const done = await s.api('PATCH', `/api/v1/handovers/${id}/tasks/${task.json.id}`, { token: dstAdmin.token, body: { status: 'done' }, headers: { 'if-match': task.headers.get('etag')! } });
    expect(done.status, done.text).toBe(200);
    expect((await act(id, 'cut-over', srcAdmin.token)).json.state).toBe('cut-over');
    expect((await act(id, 'complete', dstAdmin.token)).json.state).toBe('completed');

    // The report, signed by both co-ops, verifies with their published keys alone.
    const report = (await s.api('GET', `/api/v1/handovers/${id}/report`, { token: srcAdmin.token })).json;
    const keys = { sourceJwks: await coopJwks(s.database.db, old.id), targetJwks: await coopJwks(s.database.db, neu.id) };
    const verified = await verifyHandoverReport(report, keys);
    expect(verified.moved.map((m) => m.tenancyId).sort()).toEqual(moving.filter((t) => t !== objects && t !== exports).map((t) => t.id).sort());
    expect(verified.moved).toHaveLength(30);
    expect(verified.optedOut).toEqual(
      [
        { tenancyId: objects.id, choice: 'stay' },
        { tenancyId: exports.id, choice: 'export' },
      ].sort((a, b) => a.tenancyId.localeCompare(b.tenancyId)),
    );
    expect(verified.failed).toEqual([]);
    expect(verified.custody).toEqual([{ clusterId: s3.id, tenancies: kept.map((t) => t.id).sort() }]);
    for (const who of [srcAdmin, dstAdmin]) expect(Buffer.from(report.payload, 'base64url').toString()).not.toContain(who.accountId);
    // Swapped keys, or a changed payload, do not verify.
    await expect(verifyHandoverReport(report, { sourceJwks: keys.targetJwks, targetJwks: keys.sourceJwks })).rejects.toThrow(ReceiptVerificationError);
    const forged = { ...report, payload: Buffer.from(Buffer.from(report.payload, 'base64url').toString().replace('"stay"', '"export"')).toString('base64url') };
    await expect(verifyHandoverReport(forged, keys)).rejects.toThrow(/does not verify/);

    // Every step is on the audit log.
    const actions = (await s.api('GET', `/api/v1/audit/entries?subjectType=handover&subject=${id}&limit=1000`)).json.items.map((e: { json: { action: string } }) => e.json.action);
    for (const a of ['handover.create', 'handover.approve', 'handover.approved', 'handover.run', 'handover.wave-start', 'handover.tenancy', 'handover.cut-over', 'handover.complete'])
      expect(actions).toContain(a);
  }, 600_000);
});
