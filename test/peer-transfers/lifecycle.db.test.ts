// A transfer to another instance lives the local lifecycle at the source: three different people
// approve (the source admin and the owner at A, the target's co-op admin at B by accepting), the
// members are told and may object until the freeze, the rules decide again at the freeze, and only
// then is the package sent. A waits for B to pull and verify it, switches (the tenancy is moved out
// of A and A's gateway forwards its calls to B's), tells B, which makes the tenancy active there.
// A (a UK co-op) and B (a Québec co-op) on loopback, each with its own database and BBB double,
// trusting each other through a trust anchor (TA) that enrolled both (no pins).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { eq } from 'drizzle-orm';
import { startSsoServer } from '../oidc/helpers.js';
import { startBbbPair, type BbbPair } from '../support/bbb/pair.js';
import { writeRecording } from '../support/bbb/recordings.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';
import { coopAdminWithToken, createTenancy, memberWithToken } from '../support/fixtures.js';
import { deliverAllMail, entityOf as self, peerDepsOf as peerDeps, sourceRunner, ukAndQuebec, type Entity, type Person } from '../support/peer-pair.js';
import type { TestServer } from '../support/server.js';
import { runCli } from '../support/cli.js';
import { signQuery } from '../../server/bbb/checksum.js';
import { advanceTransfer, type ExecutionDeps } from '../../server/transfers/execute.js';
import { memberExports } from '../../server/transfers/table.js';
import { tenancies } from '../../server/tenancies/table.js';
import { deliverDueMessages } from '../../server/peer-transfers/due.js';

let a: TestServer, b: TestServer, ta: TestServer;
let A: Entity, B: Entity;
let bbb: BbbPair;
let smtp: SmtpSink;
let uk: { id: string };
let ukCluster: { id: string };
let quebec: { id: string; slug: string };
let montreal: { id: string; slug: string };
let aAdmin: Person, bAdmin: Person;
const agreement = createHash('sha256').update('processing agreement, signed').digest('hex');
const GRACE_MS = 3_600_000;

let execA: ExecutionDeps;

/** POST /transfers/{id}/{action} at A with the ETag it has now. */
async function act(id: string, action: string, token: string, body?: unknown) {
  const etag = (await a.api('GET', `/api/v1/transfers/${id}`)).headers.get('etag');
  return a.api('POST', `/api/v1/transfers/${id}/${action}`, { token, body, headers: etag ? { 'If-Match': etag } : {} });
}
const transferAt = async (id: string) => (await a.api('GET', `/api/v1/transfers/${id}`)).json;
const actionsOn = async (s: TestServer, type: string, id: string) =>
  (await s.api('GET', `/api/v1/audit/entries?subjectType=${type}&subject=${id}&limit=200`)).json.items.map((e: { json: { action: string } }) => e.json.action) as string[];
const deliverMail = () => deliverAllMail(a, smtp);

/** A UK tenancy with an owner and three members, two recordings on A's cluster. */
async function ukTenancy(name: string) {
  const t = await createTenancy(a, uk.id, ukCluster.id, { name, retentionDays: 3650 });
  const owner = await memberWithToken(a, uk.id);
  const members = [await memberWithToken(a, uk.id), await memberWithToken(a, uk.id), await memberWithToken(a, uk.id)];
  await a.api('PUT', `/api/v1/tenancies/${t.id}/members/${owner.accountId}`, { body: { role: 'owner' } });
  for (const m of members) await a.api('PUT', `/api/v1/tenancies/${t.id}/members/${m.accountId}`, { body: { role: 'member' } });
  const written = [];
  for (const [i, format] of [['presentation'], ['video']].entries())
    written.push(
      await writeRecording(bbb.dirs.source, {
        meetingId: `${t.slug}-room-${i}`,
        name: `Lesson ${i}`,
        host: bbb.source.origin,
        meta: { 'meetplane-tenancy': t.id },
        format: format![0]!,
        files: { 'shapes.svg': `<svg id="${t.slug}-${i}"/>`, 'video/webcams.webm': `webm ${t.slug} ${i}` },
      }),
    );
  return { ...t, owner, members, written };
}

/** Offered by A's platform admin to B's Québec co-op. */
async function offer(tenancy: string) {
  const res = await a.api('POST', '/api/v1/peer-transfers', { body: { tenancy, peer: B.entityId, targetCoop: quebec.slug, targetCluster: montreal.slug, processingAgreement: agreement, noticeDays: 0 } });
  expect(res.status, res.text).toBe(201);
  return res.json.id as string;
}

/** A getRecordings call as a front end signs it with the tenancy's secret, at a gateway. */
async function recordingsVia(base: string, ref: string, secret: string): Promise<string> {
  const q = signQuery('getRecordings', {}, secret, 'sha256');
  return (await fetch(`${base}/t/${ref}/bigbluebutton/api/getRecordings?${q}`)).text();
}

beforeAll(async () => {
  [a, b, ta] = [await startSsoServer({ WORKER: 'off', TRANSFER_MIN_NOTICE_DAYS: '0' }), await startSsoServer({ WORKER: 'off' }), await startSsoServer({ WORKER: 'off' })];
  [A, B] = [await self(a), await self(b)];
  const TA = await self(ta);
  for (const s of [a, b]) expect((await s.api('POST', '/api/v1/federation/anchors', { body: TA })).status).toBe(201);
  for (const e of [A, B]) expect((await ta.api('POST', '/api/v1/federation/subordinates', { body: e })).status).toBe(201);
  // Trusted through the anchor, each witnesses the other's log and asks the other's witness by hand
  // (as the README shows): the receipt names both checkpoints, each cosigned by the other.
  for (const [s, other] of [[a, b], [b, a]] as const) {
    const logKey = (await other.api('GET', '/api/v1/audit/key')).text.trim();
    const witness = (await other.api('GET', '/api/v1/federation/witness')).json as { vkey: string; submissionPrefix: string };
    const log = await s.api('POST', '/api/v1/federation/witness/logs', { body: { origin: logKey.split('+')[0], vkey: logKey } });
    expect(log.status, log.text).toBe(201);
    const cosigner = await s.api('POST', '/api/v1/audit/witnesses', { body: { url: `${witness.submissionPrefix}/add-checkpoint`, vkey: witness.vkey } });
    expect(cosigner.status, cosigner.text).toBe(201);
  }
  bbb = await startBbbPair({ source: 'src-secret-18', target: 'dst-secret-18' });
  smtp = await startSmtpSink();
  ({ uk, ukCluster, quebec, montreal, bAdmin } = await ukAndQuebec(a, b, bbb, { source: 'src-secret-18', target: 'dst-secret-18' }, { contactEmail: 'bonjour@erable.example' }));
  aAdmin = await coopAdminWithToken(a, uk.id);
  execA = await sourceRunner(a, GRACE_MS);
}, 120_000);

afterAll(async () => {
  await smtp?.close();
  await bbb?.close();
  for (const s of [b, a, ta]) await s?.stop();
});

describe('UK to Québec, the whole lifecycle', () => {
  let t: Awaited<ReturnType<typeof ukTenancy>>;
  let id: string;

  it('is a transfer at the source, checked by the rules on what B states, waiting for three approvals', async () => {
    t = await ukTenancy('Harbour School');
    id = await offer(t.id);
    const view = await transferAt(id);
    expect(view).toMatchObject({ state: 'checked', peer: B.entityId, targetCoopId: null, targetClusterId: null, tenancyId: t.id });
    expect(view.decision.decision).toBe('allow');
    // The target admin approves at the target, by accepting: not here.
    const here = await act(id, 'approve', aAdmin.token, { as: 'target_admin' });
    expect(here.status).toBe(409);
    expect(here.json.detail).toContain(`approves on the target instance (${B.entityId})`);
    expect((await act(id, 'approve', aAdmin.token, { as: 'source_admin' })).status).toBe(200);
    const byOwner = await act(id, 'approve', t.owner.token, { as: 'owner' });
    expect(byOwner.status, byOwner.text).toBe(200);
    // Two of three: the target has not accepted yet.
    expect((await transferAt(id)).state).toBe('checked');
  });

  it("starts the members' notice when B's co-op admin accepts (the third approval), naming the target as it states itself", async () => {
    const accepted = await b.api('POST', `/api/v1/peer-transfers/${id}/answer`, { token: bAdmin.token, body: { decision: 'accepted' } });
    expect(accepted.status, accepted.text).toBe(200);
    expect((await transferAt(id)).state).toBe('notice');
    expect(await actionsOn(a, 'transfer', id)).toEqual(expect.arrayContaining(['transfer.create', 'transfer.approve', 'transfer.approved', 'transfer.notice']));
    await deliverMail();
    const mails = smtp.mails.filter((m) => m.text.includes('Harbour School'));
    expect(mails.length).toBe(4); // the owner and three members
    expect(mails[0]!.text).toContain('Coop Érable (CA)');
  });

  it('takes a member’s objection until the freeze; the package is sent only once frozen, and A waits for B', async () => {
    const objector = t.members[2]!;
    const objected = await act(id, 'object', objector.token);
    expect(objected.status, objected.text).toBe(200);
    const first = await advanceTransfer(execA, id);
    expect(first).toMatchObject({ state: 'copying', waiting: 'peer' });
    const [tenancy] = await a.database.db.select({ state: tenancies.state }).from(tenancies).where(eq(tenancies.id, t.id));
    expect(tenancy!.state).toBe('frozen');
    // B has the manifest and pulls; A does not move without B's confirmation.
    expect((await b.api('GET', `/api/v1/peer-transfers/${id}`, { token: bAdmin.token })).json.state).toBe('pulling');
    expect(await advanceTransfer(execA, id)).toMatchObject({ state: 'copying', waiting: 'peer' });
    expect(await actionsOn(a, 'transfer', id)).toEqual(expect.arrayContaining(['transfer.object', 'transfer.freeze', 'transfer.copy-start']));
  });

  it('switches once B verified every file: the tenancy is moved out of A, forwarded to B, and active at B', async () => {
    await deliverDueMessages(peerDeps(b));
    expect((await a.api('GET', `/api/v1/peer-transfers/${id}`)).json.state).toBe('verified');
    // Switched: A sent the terms of the receipt and completes only once B signed it too.
    expect(await advanceTransfer(execA, id)).toMatchObject({ state: 'verifying', waiting: 'peer' });
    await deliverDueMessages(peerDeps(b)); // B signs; A countersigns and stores the receipt
    const done = await advanceTransfer(execA, id);
    expect(done.state).toBe('completed');
    await deliverDueMessages(peerDeps(a)); // the receipt signed by both, back to B
    const receipt = await a.api('GET', `/api/v1/peer-transfers/${id}/receipt`);
    expect(receipt.status, receipt.text).toBe(200);
    expect((await b.api('GET', `/api/v1/peer-transfers/${id}/receipt`, { token: bAdmin.token })).json).toEqual(receipt.json);
    const [atA] = await a.database.db.select({ state: tenancies.state }).from(tenancies).where(eq(tenancies.id, t.id));
    expect(atA!.state).toBe('moved');
    // B took the switch: the tenancy is served there now, with the same id and secret.
    expect((await b.api('GET', `/api/v1/peer-transfers/${id}`, { token: bAdmin.token })).json.state).toBe('completed');
    const atB = await b.api('GET', `/api/v1/tenancies/${t.id}`);
    expect(atB.status, atB.text).toBe(200);
    expect(atB.json.state).toBe('active');
    const ids = t.written.map((w) => w.recordId).sort();
    const direct = await recordingsVia(b.url, t.id, t.bbbSecret);
    for (const r of ids) expect(direct).toContain(`<recordID>${r}</recordID>`);
    // A front end still calling A is answered by B through A's gateway.
    const forwarded = await recordingsVia(a.url, t.slug, t.bbbSecret);
    for (const r of ids) expect(forwarded).toContain(`<recordID>${r}</recordID>`);
    expect(await actionsOn(a, 'transfer', id)).toEqual(expect.arrayContaining(['transfer.copied', 'transfer.switch', 'transfer.complete']));
  });

  it("tells the tenancy's owner, with the switch, where its front end points now and until when the old address forwards", async () => {
    await deliverMail();
    const ownerEmail = (await a.api('GET', `/api/v1/accounts/${t.owner.accountId}`)).json.email as string;
    const moved = smtp.mails.filter((m) => m.text.includes('is now hosted by Coop Érable'));
    expect(moved.map((m) => m.to)).toEqual([[ownerEmail]]); // the owner only: members have no front end to point
    const slugAtB = (await b.api('GET', `/api/v1/tenancies/${t.id}`)).json.slug as string;
    expect(moved[0]!.text).toContain(`${b.url}/t/${slugAtB}/bigbluebutton/api`);
    expect(moved[0]!.text).toMatch(/forwards calls until/);
  });

  it('is followed with `meetplane transfers watch` on both sides: the lifecycle at A, the pull at B', async () => {
    const atA = await runCli(['transfers', 'watch', id, '--interval', '100'], { MEETPLANE_URL: a.url, MEETPLANE_TOKEN: a.adminToken });
    expect(atA.code, atA.stderr).toBe(0);
    expect(atA.stdout).toContain('completed');
    const files = t.written.length * 3; // each recording's two files and its metadata.xml
    const atB = await runCli(['transfers', 'watch', id, '--interval', '100'], { MEETPLANE_URL: b.url, MEETPLANE_TOKEN: bAdmin.token });
    expect(atB.code, atB.stderr).toBe(0);
    expect(atB.stdout).toContain(`completed: ${files}/${files} files`);
    const status = await runCli(['transfers', 'status', id], { MEETPLANE_URL: a.url, MEETPLANE_TOKEN: a.adminToken });
    expect(status.stdout).toContain(B.entityId);
    expect(status.stdout).toMatch(/protocol\s+switched/);
  });

  it('leaves the objecting member out: an export at A, no account or membership at B', async () => {
    const objector = t.members[2]!;
    const exports = await a.database.db.select().from(memberExports).where(eq(memberExports.transferId, id));
    expect(exports.map((e) => e.accountId)).toEqual([objector.accountId]);
    const membersAtB = (await b.api('GET', `/api/v1/tenancies/${t.id}/members`)).json.items as Array<{ email: string }>;
    const emailsAtA = async (who: Person) => (await a.api('GET', `/api/v1/accounts/${who.accountId}`)).json.email as string;
    const expected = await Promise.all([t.owner, t.members[0]!, t.members[1]!].map(emailsAtA));
    expect(membersAtB.map((m) => m.email).sort()).toEqual(expected.sort());
    expect(membersAtB.map((m) => m.email)).not.toContain(await emailsAtA(objector));
  });
});

describe('after the grace period', () => {
  it('deletes the recordings at the source; the target keeps its copies', async () => {
    const t = await ukTenancy('Harbour Evening Classes');
    const id = await offer(t.id);
    await act(id, 'approve', aAdmin.token, { as: 'source_admin' });
    await act(id, 'approve', t.owner.token, { as: 'owner' });
    expect((await b.api('POST', `/api/v1/peer-transfers/${id}/answer`, { token: bAdmin.token, body: { decision: 'accepted' } })).status).toBe(200);
    await deliverMail();
    expect(await advanceTransfer(execA, id)).toMatchObject({ state: 'copying', waiting: 'peer' });
    await deliverDueMessages(peerDeps(b));
    expect(await advanceTransfer(execA, id)).toMatchObject({ state: 'verifying', waiting: 'peer' });
    await deliverDueMessages(peerDeps(b)); // the receipt
    expect(await advanceTransfer(execA, id)).toMatchObject({ state: 'completed', waiting: 'source-grace' });
    for (const w of t.written) expect(existsSync(w.dir)).toBe(true);
    const later = new Date(Date.now() + GRACE_MS + 60_000);
    expect(await advanceTransfer(execA, id, later)).toEqual({ state: 'completed' });
    for (const w of t.written) {
      expect(existsSync(w.dir)).toBe(false);
      expect(existsSync(w.dir.replace(bbb.dirs.source, bbb.dirs.target))).toBe(true);
    }
    expect(await actionsOn(a, 'transfer', id)).toContain('transfer.source-delete');
  });
});

describe('a lifecycle that ends before the switch', () => {
  it("withdraws the offer when the owner objects: B is told and forgets it", async () => {
    const t = await ukTenancy('Harbour Choir');
    const id = await offer(t.id);
    expect((await b.api('POST', `/api/v1/peer-transfers/${id}/answer`, { token: bAdmin.token, body: { decision: 'accepted' } })).status).toBe(200);
    const objected = await act(id, 'object', t.owner.token);
    expect(objected.status, objected.text).toBe(200);
    expect((await transferAt(id)).state).toBe('rejected');
    await deliverDueMessages(peerDeps(a));
    expect((await a.api('GET', `/api/v1/peer-transfers/${id}`)).json.state).toBe('cancelled');
    expect((await b.api('GET', `/api/v1/peer-transfers/${id}`, { token: bAdmin.token })).json.state).toBe('cancelled');
  });

  it("rejects the transfer when B refuses, with B's reason; cancelling it locally points to the withdrawal", async () => {
    const t = await ukTenancy('Harbour College');
    const id = await offer(t.id);
    expect((await act(id, 'cancel', aAdmin.token)).status).toBe(409);
    const refused = await b.api('POST', `/api/v1/peer-transfers/${id}/answer`, { token: bAdmin.token, body: { decision: 'refused', reason: 'no room before spring' } });
    expect(refused.status, refused.text).toBe(200);
    const view = await transferAt(id);
    expect(view.state).toBe('rejected');
    expect(view.decision).toMatchObject({ decision: 'deny', policyIds: ['peer-refused-by-target'], reasons: ['no room before spring'] });
  });
});
