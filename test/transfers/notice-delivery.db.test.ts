// The notice period counts from delivery. A tenancy with an owner and two
// members is handed from a UK co-op to a German one with two days' notice,
// while the mail server is down: the notices wait in the outbox, and however
// much time passes the tenancy is not frozen. When the mail server is back it
// takes two notices and refuses the third for good (550); the source co-op's
// admin sees who was not reached and how to reach them (the target's sees
// counts), records that the member was told by phone (audited without the
// note), and the freeze comes two days after that, not before. The recording's
// player links name a recordings host other than the API's: the copy at the
// target links the target's playback host instead.
// A planned freeze date (a weekend cut-over) is kept, and `transfers run` says
// what each transfer waits for.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { deliverOutbox, transferAction, transferEtag } from '../support/transfers.js';
import { startTestServer, TEST_OUTBOUND_ALLOW, type TestServer } from '../support/server.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';
import { backend } from '../support/db.js';
import { runCli } from '../support/cli.js';
import type { BbbDouble } from '../support/bbb/server.js';
import { startBbbPair, type BbbPair } from '../support/bbb/pair.js';
import { writeRecording } from '../support/bbb/recordings.js';
import { coopAdminWithToken, createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { createLogger } from '../../server/logger.js';
import { pollClusters } from '../../server/clusters/health.js';
import { CheckpointSigner, auditOrigin } from '../../server/audit/checkpoints.js';
import { transferDeps } from '../../server/transfers/deps.js';
import { advanceTransfer, type ExecutionDeps } from '../../server/transfers/execute.js';
import { mailOutbox } from '../../server/mail/table.js';

const DAY = 86_400_000;
let s: TestServer;
let smtp: SmtpSink;
let source: BbbDouble;
let target: BbbDouble;
let peers: BbbPair;
let deps: ExecutionDeps;
let w: Awaited<ReturnType<typeof world>>;

async function world() {
  const box = new SecretBox(Buffer.from(s.masterKey, 'base64'));
  const uk = await createCoop(s, { jurisdiction: 'GB', legalRegime: 'uk_gdpr', name: 'Old Co-op' });
  const de = await createCoop(s, { jurisdiction: 'DE', legalRegime: 'eu_gdpr', name: 'New Co-op' });
  // The source plays its recordings from a host of their own, not the API's.
  const ukCluster = await createCluster(s, uk.id, { country: 'GB', apiUrl: source.url, secret: 'notice-source', playbackHosts: ['recordings.old-coop.example'] });
  expect((await s.api('GET', `/api/v1/clusters/${ukCluster.id}`)).json.playbackHosts).toEqual(['recordings.old-coop.example']);
  const deCluster = await createCluster(s, de.id, { country: 'DE', apiUrl: target.url, secret: 'notice-target' });
  await s.api('PUT', `/api/v1/clusters/${ukCluster.id}/storage`, { body: { url: `file://${peers.dirs.source}` } });
  await s.api('PUT', `/api/v1/clusters/${deCluster.id}/storage`, { body: { url: `file://${peers.dirs.target}` } });
  await pollClusters(s.database.db, box, { outbound: s.outbound });
  const sourceAdmin = await coopAdminWithToken(s, uk.id);
  const targetAdmin = await coopAdminWithToken(s, de.id);
  deps = {
    db: s.database.db,
    box,
    log: createLogger('silent'),
    signer: await CheckpointSigner.load(s.database.db, box, auditOrigin(s.url)),
    outbound: s.outbound,
    publicUrl: s.url,
    ...transferDeps(s.database.db, { transferMinNoticeDays: 2 }),
  };
  return { uk, de, ukCluster, deCluster, sourceAdmin, targetAdmin };
}

/** A tenancy of the UK co-op with an owner and two members, and a transfer of it approved into its notice. */
async function tenancyInNotice(name: string, extra: Record<string, unknown> = {}) {
  const tenancy = await createTenancy(s, w.uk.id, w.ukCluster.id, { name });
  const people = [await memberWithToken(s, w.uk.id), await memberWithToken(s, w.uk.id), await memberWithToken(s, w.uk.id)];
  const [owner, m1, m2] = await Promise.all(people.map(async (p) => ({ ...p, email: (await s.api('GET', `/api/v1/accounts/${p.accountId}`)).json.email as string })));
  await s.api('PUT', `/api/v1/tenancies/${tenancy.id}/members/${owner!.accountId}`, { body: { role: 'owner' } });
  for (const m of [m1!, m2!]) await s.api('PUT', `/api/v1/tenancies/${tenancy.id}/members/${m.accountId}`, { body: { role: 'member' } });
  await s.api('POST', '/api/v1/processing-agreements', { token: w.sourceAdmin.token, body: { tenancy: tenancy.id, coop: w.de.id, documentSha256: 'c'.repeat(64), signedOn: '2026-01-01' } });
  const created = await s.api('POST', '/api/v1/transfers', { token: w.sourceAdmin.token, body: { tenancy: tenancy.id, targetCoop: w.de.id, targetCluster: w.deCluster.id, noticeDays: 2, ...extra } });
  expect(created.status, created.text).toBe(201);
  const id = created.json.id as string;
  expect((await transferAction(s, id, 'check', { token: w.sourceAdmin.token })).json.state).toBe('checked');
  await transferAction(s, id, 'approve', { token: w.sourceAdmin.token, body: { as: 'source_admin' } });
  await transferAction(s, id, 'approve', { token: w.targetAdmin.token, body: { as: 'target_admin' } });
  const approved = await transferAction(s, id, 'approve', { token: owner!.token, body: { as: 'owner' } });
  expect(approved.json.state, approved.text).toBe('notice');
  return { id, tenancy, owner: owner!, m1: m1!, m2: m2!, created: created.json };
}

const status = async (id: string, token?: string) => (await s.api('GET', `/api/v1/transfers/${id}`, { token })).json;
const later = (ms: number) => new Date(Date.now() + ms);

beforeAll(async () => {
  s = await startTestServer({ TRANSFER_MIN_NOTICE_DAYS: '2', WORKER: 'off', NOTICE_UNDELIVERABLE_ATTEMPTS: '3' });
  smtp = await startSmtpSink();
  peers = await startBbbPair({ source: 'notice-source', target: 'notice-target' });
  ({ source, target } = peers);
  w = await world();
}, 60_000);
afterAll(async () => {
  await peers?.close();
  await smtp?.close();
  await s?.stop();
});

describe('the notice period counts from delivery', () => {
  it('does not freeze while the notices wait in the outbox, lists whom they did not reach, and freezes the full period after the last was told', async () => {
    const t = await tenancyInNotice('Riverside School');
    const rec = await writeRecording(peers.dirs.source, {
      meetingId: 'riverside-1',
      name: 'Lesson',
      host: 'https://recordings.old-coop.example',
      meta: { 'meetplane-tenancy': t.tenancy.id },
      files: { 'shapes.svg': '<svg id="1"/>' },
    });
    expect(readFileSync(path.join(rec.dir, 'metadata.xml'), 'utf8')).toContain('https://recordings.old-coop.example/playback/presentation/2.3/');

    // The mail server is down: every notice is refused for now (451), and stays queued.
    smtp.failing = true;
    expect(await deliverOutbox(s.database.db, smtp)).toBe(0);
    smtp.failing = false;
    // A month later, the tenancy is still not frozen: nobody has been told.
    expect(await advanceTransfer(deps, t.id, later(30 * DAY))).toEqual({ state: 'notice', waiting: 'notice-delivery', undelivered: 3 });
    const waiting = await status(t.id, w.sourceAdmin.token);
    expect(waiting.notices).toEqual({ queued: 3, sent: 0, failing: 3, refused: 0 });
    expect(waiting.noticeDelivery).toMatchObject({ members: 3, reached: 0, notReached: 3, undeliverable: 0, allReachedAt: null, waiting: 'notice-delivery' });
    expect(waiting.noticeDelivery.unreached.map((u: { email: string }) => u.email).sort()).toEqual([t.owner.email, t.m1.email, t.m2.email].sort());

    // The mail server is back: it takes two notices and refuses the third for good.
    smtp.refused.add(t.m2.email);
    await s.database.db.execute(sql`update mail_outbox set next_attempt_at = now() where sent_at is null`);
    expect(await deliverOutbox(s.database.db, smtp)).toBe(2);
    expect(smtp.mails.filter((m) => m.text.includes(`/me/transfers/${t.id}`)).map((m) => m.to[0]).sort()).toEqual([t.owner.email, t.m1.email].sort());
    // A refused mail is not offered again.
    expect(await deliverOutbox(s.database.db, smtp)).toBe(0);
    const [refusedRow] = await s.database.db.select().from(mailOutbox).where(eq(mailOutbox.toAddress, t.m2.email));
    expect(refusedRow).toMatchObject({ attempts: 2, sentAt: null });
    expect(refusedRow!.failedAt).toBeInstanceOf(Date);
    expect(refusedRow!.lastError).toMatch(/^550/);

    expect(await advanceTransfer(deps, t.id, later(30 * DAY))).toEqual({ state: 'notice', waiting: 'notice-delivery', undelivered: 1 });
    // The source co-op's admins, who see the members, get who and why; the target's get the counts.
    const bySource = await status(t.id, w.sourceAdmin.token);
    expect(bySource.notices).toEqual({ queued: 0, sent: 2, failing: 0, refused: 1 });
    expect(bySource.noticeDelivery).toMatchObject({ members: 3, reached: 2, notReached: 1, undeliverable: 1, waiting: 'notice-delivery' });
    expect(bySource.noticeDelivery.unreached).toEqual([
      { accountId: t.m2.accountId, email: t.m2.email, mail: 'refused', attempts: 2, lastError: expect.stringMatching(/^550/), undeliverable: true },
    ]);
    const byTarget = await status(t.id, w.targetAdmin.token);
    expect(byTarget.noticeDelivery).toMatchObject({ members: 3, reached: 2, notReached: 1, undeliverable: 1 });
    expect(byTarget.noticeDelivery).not.toHaveProperty('unreached');
    expect(JSON.stringify(byTarget)).not.toContain(t.m2.email);

    // The admin phones the member and records it. Like every action it needs the transfer's ETag;
    // the target's admin may not record it, and an account outside the tenancy has no notice.
    const told = `/api/v1/transfers/${t.id}/notices/${t.m2.accountId}/told`;
    const body = { how: 'phone', note: `rang ${t.m2.email} on 2026-12-01` };
    const noEtag = await s.api('POST', told, { token: w.sourceAdmin.token, body });
    expect(noEtag.status).toBe(428);
    expect(noEtag.headers.get('content-type')).toContain('application/problem+json');
    const etag = await transferEtag(s, t.id);
    expect([403, 404]).toContain((await s.api('POST', told, { token: w.targetAdmin.token, body, headers: { 'if-match': etag } })).status);
    const stranger = await s.api('POST', `/api/v1/transfers/${t.id}/notices/${w.sourceAdmin.accountId}/told`, { token: w.sourceAdmin.token, body, headers: { 'if-match': etag } });
    expect(stranger.status).toBe(404);
    const badHow = await s.api('POST', told, { token: w.sourceAdmin.token, body: { how: 'carrier pigeon' }, headers: { 'if-match': etag } });
    expect(badHow.status).toBe(400);
    const before = Date.now();
    const ok = await s.api('POST', told, { token: w.sourceAdmin.token, body, headers: { 'if-match': etag } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.headers.get('etag')).toBe(etag);
    expect((await s.api('POST', told, { token: w.sourceAdmin.token, body, headers: { 'if-match': etag } })).status).toBe(409);
    const [entry] = (await s.api('GET', `/api/v1/audit/entries?subjectType=transfer&subject=${t.id}&action=transfer.notice-told`)).json.items;
    expect(entry.json.details).toMatchObject({ how: 'phone', member: expect.stringMatching(/^p:[0-9a-f]{32}$/) });
    expect(entry.json.evidence.note).toMatch(/^[0-9a-f]{64}$/);
    expect(entry.json.decision).toMatchObject({ decision: 'allow' });
    expect(JSON.stringify(entry.json)).not.toContain(t.m2.email);
    expect(JSON.stringify(entry.json)).not.toContain(t.m2.accountId);

    // Everyone is reached now: the member told last gets the full two days from the call.
    const reached = await status(t.id, w.sourceAdmin.token);
    expect(reached.noticeDelivery).toMatchObject({ members: 3, reached: 3, notReached: 0, undeliverable: 0, unreached: [], waiting: 'freeze-date' });
    const lastReached = Date.parse(reached.noticeDelivery.allReachedAt);
    expect(lastReached).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(reached.freezeNotBefore)).toBe(lastReached + 2 * DAY);
    const early = await advanceTransfer(deps, t.id, new Date(lastReached + 2 * DAY - 60_000));
    expect(early).toEqual({ state: 'notice', waiting: 'freeze-date', until: new Date(lastReached + 2 * DAY).toISOString() });

    // Two days after the call it freezes, and the transfer runs to its end.
    expect(await advanceTransfer(deps, t.id, new Date(lastReached + 2 * DAY + 60_000))).toEqual({ state: 'completed', waiting: 'source-grace' });
    const actions = (await s.api('GET', `/api/v1/audit/entries?subjectType=transfer&subject=${t.id}&limit=100`)).json.items.map((e: { json: { action: string } }) => e.json.action);
    expect(actions.indexOf('transfer.notice-told')).toBeLessThan(actions.indexOf('transfer.freeze'));

    // The recording's links named the source's recordings host: the copy names the target's playback host.
    const copied = readFileSync(path.join(peers.dirs.target, path.relative(peers.dirs.source, rec.dir), 'metadata.xml'), 'utf8');
    expect(copied).not.toContain('recordings.old-coop.example');
    expect(copied).toContain(`${target.origin}/playback/presentation/2.3/${rec.recordId}`);
  }, 120_000);
});

describe('a planned freeze date', () => {
  it('must leave at least the notice period, and is kept when the notice reached everyone sooner', async () => {
    const tooSoon = await s.api('POST', '/api/v1/transfers', {
      token: w.sourceAdmin.token,
      body: { tenancy: (await createTenancy(s, w.uk.id, w.ukCluster.id)).id, targetCoop: w.de.id, targetCluster: w.deCluster.id, noticeDays: 2, freezeAt: later(DAY).toISOString() },
    });
    expect(tooSoon.status).toBe(400);
    expect(tooSoon.json.errors).toEqual([expect.objectContaining({ path: 'freezeAt' })]);

    // A Saturday evening at least a week ahead, to the minute.
    const at = new Date(Date.now() + 7 * DAY);
    at.setUTCDate(at.getUTCDate() + ((6 - at.getUTCDay() + 7) % 7));
    at.setUTCHours(20, 0, 0, 0);
    const t = await tenancyInNotice('Harbour Choir', { freezeAt: at.toISOString().replace(':00.000Z', 'Z') });
    expect(t.created.freezeAt).toBe(at.toISOString());
    const mail = await s.database.db.select().from(mailOutbox).where(eq(mailOutbox.topic, `transfer:${t.id}`));
    expect(mail[0]!.subject).toContain(`on ${at.toISOString().slice(0, 10)}`);
    expect(await deliverOutbox(s.database.db, smtp)).toBe(3);
    expect((await status(t.id)).freezeNotBefore).toBe(at.toISOString());
    expect(await advanceTransfer(deps, t.id, new Date(at.getTime() - 60_000))).toEqual({ state: 'notice', waiting: 'freeze-date', until: at.toISOString() });
  });
});

describe.skipIf(backend() !== 'postgres')('meetplane transfers run', () => {
  it('says what each transfer in its notice waits for', async () => {
    const undelivered = await tenancyInNotice('Lakeside Club');
    const env = {
      DATABASE_URL: s.database.url!,
      MASTER_KEY: s.masterKey,
      DATA_DIR: s.dataDir,
      PUBLIC_URL: s.url,
      TRANSFER_MIN_NOTICE_DAYS: '2',
      OUTBOUND_ALLOW: TEST_OUTBOUND_ALLOW,
    };
    const run = await runCli(['transfers', 'run', '--wait', '0'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`${undelivered.id}  notice (waiting: notice not delivered to 3 members)\n`);
    expect(run.stdout).toMatch(new RegExp(`notice \\(waiting: freeze-date \\d{4}-\\d\\d-\\d\\dT20:00Z\\)\\n`));
    expect(run.stdout).not.toContain('no transfer is due');
  });
});
