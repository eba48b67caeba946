// The control part of a transfer through its service: data-protection checks
// with rule ids, three distinct approvers, notices by e-mail through the
// outbox to a real SMTP server, objections, one transfer per tenancy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';
import { LOCAL_OPERATOR, type Principal } from '../../server/auth/principal.js';
import { createCoop } from '../../server/coops/service.js';
import { createCluster } from '../../server/clusters/service.js';
import { createTenancy } from '../../server/tenancies/service.js';
import { createAccount, setMembership } from '../../server/accounts/service.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { createLogger } from '../../server/logger.js';
import { Outbound } from '../../server/net/outbound.js';
import { rowsOf } from '../../server/db/index.js';
import { sequenceAudit } from '../../server/audit/sequencer.js';
import { DataProtectionRules } from '../../policies/data-protection/rules.js';
import { JurisdictionRegistry } from '../../server/transfers/jurisdictions.js';
import {
  approveTransfer,
  cancelTransfer,
  checkTransfer,
  createTransfer,
  decide,
  findTransfer,
  objectToTransfer,
  recordProcessingAgreement,
  type TransferDeps,
} from '../../server/transfers/service.js';
import { startNotice } from '../../server/transfers/notice.js';
import { deliverDue, outboxStatus, smtpTransport } from '../../server/mail/outbox.js';

let database: TestDatabase;
let smtp: SmtpSink;
const box = new SecretBox(Buffer.alloc(32, 7));
const log = createLogger('silent');
const deps: TransferDeps = {
  rules: new DataProtectionRules(),
  minNoticeDays: 30,
  registry: JurisdictionRegistry.load(),
  clusterStatus: async () => ({ online: true, load: 0 }),
};
const actorFor = (accountId: string, coopId: string | null): Principal => ({ accountId, coopId, platformAdmin: false, via: 'pat', tokenId: null });

let n = 0;
async function world(target: { jurisdiction: string; regime: 'eu_gdpr' | 'uk_gdpr' | 'ch_fadp' | 'other'; clusterCountry: string }, sourceRegime: 'uk_gdpr' | 'eu_gdpr' = 'uk_gdpr') {
  const db = database.db;
  const id = `${Date.now().toString(36)}${n++}`;
  const source = await createCoop(db, LOCAL_OPERATOR, { slug: `src-${id}`, name: 'Old Co-op', jurisdiction: sourceRegime === 'uk_gdpr' ? 'GB' : 'FR', contactEmail: 'ops@old.example', legalRegime: sourceRegime });
  const dest = await createCoop(db, LOCAL_OPERATOR, { slug: `dst-${id}`, name: 'New Co-op', jurisdiction: target.jurisdiction, contactEmail: 'ops@new.example', legalRegime: target.regime });
  const sourceCluster = await createCluster(db, box, LOCAL_OPERATOR, { coopId: source.id, name: 'old', apiUrl: 'https://old.example/bigbluebutton/api', secret: 'old-secret-123', checksumAlgorithm: 'sha256', country: source.jurisdiction, capacity: 100, state: 'enabled' });
  const targetCluster = await createCluster(db, box, LOCAL_OPERATOR, { coopId: dest.id, name: 'new', apiUrl: 'https://new.example/bigbluebutton/api', secret: 'new-secret-123', checksumAlgorithm: 'sha256', country: target.clusterCountry, capacity: 100, state: 'enabled' });
  const { tenancy } = await createTenancy(db, box, LOCAL_OPERATOR, { slug: `school-${id}`, name: 'School', coopId: source.id, clusterId: sourceCluster.id, residency: { kind: 'none' }, retentionDays: 365 });
  const person = async (name: string, coopId: string) => createAccount(db, LOCAL_OPERATOR, { email: `${name}-${id}@example.org`, name, coopId });
  const sourceAdmin = await person('sourceadmin', source.id);
  const targetAdmin = await person('targetadmin', dest.id);
  const owner = await person('owner', source.id);
  const members = [await person('member1', source.id), await person('member2', source.id)];
  await setMembership(db, LOCAL_OPERATOR, tenancy.id, owner.id, 'owner');
  for (const m of members) await setMembership(db, LOCAL_OPERATOR, tenancy.id, m.id, 'member');
  const agreement = () =>
    recordProcessingAgreement(db, LOCAL_OPERATOR, { tenancyId: tenancy.id, coopId: dest.id, documentSha256: 'a'.repeat(64), signedOn: '2026-01-01', validUntil: null });
  return { source, dest, targetCluster, tenancy, sourceAdmin, targetAdmin, owner, members, agreement };
}

const evidence = (e: Partial<Parameters<typeof createTransfer>[2]['evidence']> = {}) => ({
  dpfListed: false,
  pipedaSubject: false,
  sccsDocuments: [],
  impactAssessment: null,
  claimedBasis: 'adequacy' as const,
  ...e,
});

beforeAll(async () => {
  database = await freshDatabase();
  smtp = await startSmtpSink();
});
afterAll(async () => {
  await smtp?.close();
  await database?.close();
});

describe('mail outbox job', () => {
  it('delivers queued mail over SMTP_URL from the background job', async () => {
    const { enqueueMail } = await import('../../server/mail/outbox.js');
    const { jobHandlers, MAIL_JOB } = await import('../../server/jobs/background.js');
    await enqueueMail(database.db, [{ to: 'job-test@example.org', subject: 'Hello from the job', body: 'body', topic: 'test:job' }]);
    const handlers = jobHandlers({ db: database.db, box, log, config: { pollIntervalMs: 60_000, inventoryIntervalMs: 3_600_000, smtpUrl: smtp.url, mailFrom: 'meetplane@meet.example' }, outbound: new Outbound() });
    await handlers[MAIL_JOB]!({ id: 'j', kind: MAIL_JOB, key: MAIL_JOB, payload: {}, attempts: 0, maxAttempts: 5, periodMs: 30_000 }, { signal: new AbortController().signal, log });
    expect(smtp.mails.find((m) => m.to[0] === 'job-test@example.org')).toMatchObject({ subject: 'Hello from the job', from: 'meetplane@meet.example' });
    expect(await outboxStatus(database.db, 'test:job')).toEqual({ queued: 0, sent: 1, failing: 0, refused: 0 });
  });
});

describe('transfer control flow', () => {
  it('moves a UK tenancy towards a Québec co-op: checked, approved by three people, members notified by e-mail', async () => {
    const w = await world({ jurisdiction: 'CA', regime: 'other', clusterCountry: 'CA' });
    await w.agreement();
    const requester = actorFor(w.sourceAdmin.id, w.source.id);
    let t = await createTransfer(database.db, requester, { tenancyId: w.tenancy.id, targetCoopId: w.dest.id, targetClusterId: w.targetCluster.id, evidence: evidence({ pipedaSubject: true }), noticeDays: 30 });
    expect(t.state).toBe('draft');
    t = await checkTransfer(database.db, deps, requester, t);
    expect(t.state).toBe('checked');
    expect(t.lastDecision).toMatchObject({ stage: 'check', decision: 'allow', policySetHash: deps.rules.policySetHash, registryVersion: deps.registry.version });

    t = await approveTransfer(database.db, requester, t, 'source_admin');
    // The same person cannot also approve as the owner.
    await expect(approveTransfer(database.db, requester, t, 'owner')).rejects.toMatchObject({ status: 403, extensions: { policyIds: ['dp-approvals'] } });
    t = await approveTransfer(database.db, actorFor(w.targetAdmin.id, w.dest.id), t, 'target_admin');
    expect(t.state).toBe('checked');
    t = await approveTransfer(database.db, actorFor(w.owner.id, w.source.id), t, 'owner');
    expect(t.state).toBe('approved');

    const now = new Date('2026-11-23T10:00:00Z');
    t = await startNotice(database.db, requester, t, 'https://meet.example', now);
    expect(t.state).toBe('notice');
    expect(await outboxStatus(database.db, `transfer:${t.id}`)).toEqual({ queued: 3, sent: 0, failing: 0, refused: 0 });

    // The mail server is down: nothing is lost, delivery is retried later.
    smtp.failing = true;
    expect(await deliverDue(database.db, smtpTransport(smtp.url), 'meetplane@meet.example', log)).toEqual({ sent: 0, failed: 3 });
    expect(await outboxStatus(database.db, `transfer:${t.id}`)).toEqual({ queued: 3, sent: 0, failing: 3, refused: 0 });
    smtp.failing = false;
    await database.db.execute(sql`update mail_outbox set next_attempt_at = now() where sent_at is null`);
    expect(await deliverDue(database.db, smtpTransport(smtp.url), 'meetplane@meet.example', log)).toEqual({ sent: 3, failed: 0 });

    const mine = smtp.mails.filter((m) => m.text.includes(`/me/transfers/${t.id}`));
    expect(mine.map((m) => m.to[0]).sort()).toEqual([w.owner.email, ...w.members.map((m) => m.email)].sort());
    expect(mine[0]!.subject).toContain('is moving to New Co-op on 2026-12-23');
    const ownerMail = mine.find((m) => m.to[0] === w.owner.email)!;
    expect(ownerMail.text).toContain('your objection stops the transfer');
    expect(mine.find((m) => m.to[0] === w.members[0]!.email)!.text).toContain('machine-readable export');

    // Before freezing the rules want the notice period to have passed since the notice reached the last member:
    // the mail server accepted the mails only now, not when the notice started.
    const [{ sent_at: delivered }] = rowsOf<{ sent_at: Date | string }>(await database.db.execute(sql`select max(sent_at) as sent_at from mail_outbox where topic = ${`transfer:${t.id}`}`)) as [{ sent_at: Date | string }];
    const deliveredAt = new Date(delivered).getTime();
    const early = await decide(database.db, { ...deps, now: () => new Date('2026-12-24T00:00:00Z') }, t, 'freeze');
    expect(early.decision).toMatchObject({ decision: 'deny', policyIds: ['dp-notice-period'] });
    const almost = await decide(database.db, { ...deps, now: () => new Date(deliveredAt + 29 * 86_400_000) }, t, 'freeze');
    expect(almost.decision).toMatchObject({ decision: 'deny', policyIds: ['dp-notice-period'] });
    const due = await decide(database.db, { ...deps, now: () => new Date(deliveredAt + 30 * 86_400_000) }, t, 'freeze');
    expect(due.decision.decision).toBe('allow');

    // A member's objection is recorded and keeps the transfer going; the owner's stops it.
    const member = await objectToTransfer(database.db, actorFor(w.members[0]!.id, w.source.id), t);
    expect(member).toMatchObject({ kind: 'member', transfer: { state: 'notice' } });
    const owner = await objectToTransfer(database.db, actorFor(w.owner.id, w.source.id), (await findTransfer(database.db, t.id))!);
    expect(owner.kind).toBe('owner');
    expect(owner.transfer.state).toBe('rejected');
    expect(owner.transfer.lastDecision?.policyIds).toEqual(['dp-owner-objection']);
  });

  it('hands a UK tenancy to a German co-op under adequacy, but not with short notice', async () => {
    const w = await world({ jurisdiction: 'DE', regime: 'eu_gdpr', clusterCountry: 'DE' });
    await w.agreement();
    const requester = actorFor(w.sourceAdmin.id, w.source.id);
    const short = await createTransfer(database.db, requester, { tenancyId: w.tenancy.id, targetCoopId: w.dest.id, targetClusterId: w.targetCluster.id, evidence: evidence(), noticeDays: 7 });
    const refused = await checkTransfer(database.db, deps, requester, short);
    expect(refused.state).toBe('rejected');
    expect(refused.lastDecision!.policyIds).toEqual(['dp-notice-period']);
    const t = await createTransfer(database.db, requester, { tenancyId: w.tenancy.id, targetCoopId: w.dest.id, targetClusterId: w.targetCluster.id, evidence: evidence(), noticeDays: 30 });
    expect((await checkTransfer(database.db, deps, requester, t)).state).toBe('checked');
  });

  it('refuses a US host without a Data Privacy Framework listing, and a missing processing agreement, naming the rules and auditing the decision', async () => {
    const w = await world({ jurisdiction: 'US', regime: 'other', clusterCountry: 'US' }, 'eu_gdpr');
    const requester = actorFor(w.sourceAdmin.id, w.source.id);
    const t = await createTransfer(database.db, requester, { tenancyId: w.tenancy.id, targetCoopId: w.dest.id, targetClusterId: w.targetCluster.id, evidence: evidence(), noticeDays: 30 });
    const checked = await checkTransfer(database.db, deps, requester, t);
    expect(checked.state).toBe('rejected');
    expect(checked.lastDecision!.policyIds.sort()).toEqual(['dp-destination-dpf-not-listed', 'dp-processing-agreement']);
    await sequenceAudit(database.db); // the read barrier every reader of the log runs
    const [entry] = rowsOf<{ entry: Uint8Array }>(
      await database.db.execute(sql`select entry from audit_entries where subject_id = ${t.id} and action = 'transfer.check'`),
    );
    const json = JSON.parse(Buffer.from(entry!.entry).toString());
    expect(json.details.dataProtection).toMatchObject({ stage: 'check', decision: 'deny', policyIds: checked.lastDecision!.policyIds, policySetHash: deps.rules.policySetHash });
    expect(json.after).toEqual({ state: 'rejected' });
    // A rejected transfer is over: a new one may be requested.
    await expect(cancelTransfer(database.db, requester, checked)).rejects.toMatchObject({ status: 409 });
  });

  it('lets exactly one of two simultaneous transfers of a tenancy proceed', async () => {
    const w = await world({ jurisdiction: 'DE', regime: 'eu_gdpr', clusterCountry: 'DE' });
    const requester = actorFor(w.sourceAdmin.id, w.source.id);
    const input = { tenancyId: w.tenancy.id, targetCoopId: w.dest.id, targetClusterId: w.targetCluster.id, evidence: evidence(), noticeDays: 30 };
    const results = await Promise.allSettled([createTransfer(database.db, requester, input), createTransfer(database.db, requester, input)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ status: 409, problemType: 'transfer-in-progress' });
  });

  it('refuses a target cluster of another co-op and the tenancy\'s own co-op', async () => {
    const w = await world({ jurisdiction: 'DE', regime: 'eu_gdpr', clusterCountry: 'DE' });
    const requester = actorFor(w.sourceAdmin.id, w.source.id);
    await expect(
      createTransfer(database.db, requester, { tenancyId: w.tenancy.id, targetCoopId: w.dest.id, targetClusterId: w.tenancy.clusterId, evidence: evidence(), noticeDays: 30 }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      createTransfer(database.db, requester, { tenancyId: w.tenancy.id, targetCoopId: w.source.id, targetClusterId: w.tenancy.clusterId, evidence: evidence(), noticeDays: 30 }),
    ).rejects.toMatchObject({ status: 400 });
  });
});
