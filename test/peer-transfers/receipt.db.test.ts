// The receipt of a transfer between instances: after the switch the source sends its checkpoint
// (cosigned by the target's witness) with its terms, the target signs the summary naming its own
// checkpoint (cosigned by the source's witness), the source checks and countersigns it, and both keep
// it. The source's transfer completes only once the receipt is stored. Whatever does not hold (one
// signature, a changed summary, a checkpoint with a bad cosignature) is refused and audited, and the
// tenancy stays served at the target. A (UK) and B (Québec) on loopback, as in lifecycle.db.test.ts,
// pinned with witnessing on (the default).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { startSsoServer } from '../oidc/helpers.js';
import { startBbbPair, type BbbPair } from '../support/bbb/pair.js';
import { writeRecording } from '../support/bbb/recordings.js';
import { coopAdminWithToken, createTenancy, memberWithToken } from '../support/fixtures.js';
import { boxOf as box, deliverAllMail, entityOf as self, peerDepsOf as peerDeps, pinEachOther, sourceRunner, ukAndQuebec, type Entity, type Person } from '../support/peer-pair.js';
import type { TestServer } from '../support/server.js';
import { runCli } from '../support/cli.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';
import { auditOrigin } from '../../server/audit/checkpoints.js';
import { openNote } from '../../server/audit/note.js';
import { leafHash, verifyInclusion } from '../../server/audit/merkle.js';
import { armFailpoint } from '../../server/failpoints.js';
import { federationPublicKeys, federationSigningKey } from '../../server/federation/keys.js';
import { advanceTransfer, type ExecutionDeps } from '../../server/transfers/execute.js';
import { tenancies } from '../../server/tenancies/table.js';
import { MESSAGE_CONTENT_TYPE, RECEIPT_TYP, signMessage, type ReceiptClaims } from '../../federation/transfer-messages.js';
import { signAs, summaryOf, verifyPeerReceipt, type PeerReceiptJws, type PeerReceiptSummary } from '../../federation/peer-receipt.js';
import { deliverDueMessages } from '../../server/peer-transfers/due.js';
import { peerTransfers } from '../../server/peer-transfers/table.js';

let a: TestServer, b: TestServer;
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

async function act(id: string, action: string, token: string, body?: unknown) {
  const etag = (await a.api('GET', `/api/v1/transfers/${id}`)).headers.get('etag');
  return a.api('POST', `/api/v1/transfers/${id}/${action}`, { token, body, headers: etag ? { 'If-Match': etag } : {} });
}
type Entry = { index: number; leafHash: string; json: { action: string; details?: Record<string, unknown> } };
const entriesOn = async (s: TestServer, type: string, id: string) => (await s.api('GET', `/api/v1/audit/entries?subjectType=${type}&subject=${id}&limit=200`)).json.items as Entry[];
const actionsOn = async (s: TestServer, type: string, id: string) => (await entriesOn(s, type, id)).map((e) => e.json.action);
const row = async (s: TestServer, id: string) => (await s.database.db.select().from(peerTransfers).where(eq(peerTransfers.id, id)))[0]!;
const jwksOf = async (s: TestServer) => ({ keys: await federationPublicKeys(s.database.db) });

/** A message signed with `from`'s federation key, posted to `to`'s transfer endpoint as a peer would. */
async function post(from: TestServer, to: TestServer, claims: Omit<ReceiptClaims, 'iat' | 'exp' | 'jti'>) {
  const jwt = await signMessage(RECEIPT_TYP, claims, await federationSigningKey(from.database.db, box(from)));
  const res = await fetch(`${to.url}/federation/transfers`, { method: 'POST', body: jwt, headers: { 'content-type': MESSAGE_CONTENT_TYPE } });
  return { status: res.status, json: (await res.json().catch(() => ({}))) as { type?: string; detail?: string } };
}
/** The last refusal audited at `s` for this transfer. */
const lastRefusal = async (s: TestServer, id: string) => {
  const refusals = (await entriesOn(s, 'peer-transfer', id)).filter((e) => e.json.action === 'peer-transfer.message-refused');
  return refusals.at(-1)?.json.details as { reason: string; typ: string } | undefined;
};
const resign = async (s: TestServer, summary: PeerReceiptSummary, role: 'source' | 'target') => signAs(summary, role, await federationSigningKey(s.database.db, box(s)));
/** A cosignature line with one byte of its signature changed. */
function badCosignature(note: string): string {
  const lines = note.split('\n');
  const last = lines.length - 2; // the note ends with "\n": the cosignature is the last line
  const [dash, name, sig] = lines[last]!.split(' ');
  const bytes = Buffer.from(sig!, 'base64');
  bytes[bytes.length - 1]! ^= 0x01;
  lines[last] = [dash, name, bytes.toString('base64')].join(' ');
  return lines.join('\n');
}

beforeAll(async () => {
  [a, b] = [await startSsoServer({ WORKER: 'off', TRANSFER_MIN_NOTICE_DAYS: '0' }), await startSsoServer({ WORKER: 'off' })];
  [A, B] = [await self(a), await self(b)];
  bbb = await startBbbPair({ source: 'src-secret-19', target: 'dst-secret-19' });
  smtp = await startSmtpSink();
  ({ uk, ukCluster, quebec, montreal, bAdmin } = await ukAndQuebec(a, b, bbb, { source: 'src-secret-19', target: 'dst-secret-19' }, { contactEmail: 'bonjour@erable.example' }));
  aAdmin = await coopAdminWithToken(a, uk.id);
  // Pinned with witnessing on: each witnesses the other's log and asks the other's witness to cosign its own.
  await pinEachOther(a, b);
  execA = await sourceRunner(a, GRACE_MS);
}, 120_000);

afterAll(async () => {
  armFailpoint(null);
  await bbb?.close();
  await smtp?.close();
  for (const s of [b, a]) await s?.stop();
});

/** A tenancy of A with an owner and a recording, moved to B through the lifecycle up to the switch: A then awaits the receipt. */
async function switchedAndAwaitingReceipt(name: string): Promise<{ id: string; tenancyId: string }> {
  const t = await createTenancy(a, uk.id, ukCluster.id, { name, retentionDays: 3650 });
  const owner = await memberWithToken(a, uk.id);
  await a.api('PUT', `/api/v1/tenancies/${t.id}/members/${owner.accountId}`, { body: { role: 'owner' } });
  await writeRecording(bbb.dirs.source, { meetingId: `${t.slug}-room`, name: 'Reading', host: bbb.source.origin, meta: { 'meetplane-tenancy': t.id }, format: 'presentation', files: { 'shapes.svg': `<svg id="${t.slug}"/>` } });
  const offered = await a.api('POST', '/api/v1/peer-transfers', { body: { tenancy: t.id, peer: B.entityId, targetCoop: quebec.slug, targetCluster: montreal.slug, processingAgreement: agreement, noticeDays: 0 } });
  expect(offered.status, offered.text).toBe(201);
  const id = offered.json.id as string;
  expect((await act(id, 'approve', aAdmin.token, { as: 'source_admin' })).status).toBe(200);
  expect((await act(id, 'approve', owner.token, { as: 'owner' })).status).toBe(200);
  expect((await b.api('POST', `/api/v1/peer-transfers/${id}/answer`, { token: bAdmin.token, body: { decision: 'accepted' } })).status).toBe(200);
  // The notice reaches the owner (the mail server takes it); with no notice period the freeze follows.
  await deliverAllMail(a, smtp);
  expect(await advanceTransfer(execA, id)).toMatchObject({ state: 'copying', waiting: 'peer' });
  await deliverDueMessages(peerDeps(b)); // B pulls and verifies
  // The switch, the announcement, then the terms of the receipt: A waits for B's signature.
  expect(await advanceTransfer(execA, id)).toMatchObject({ state: 'verifying', waiting: 'peer' });
  return { id, tenancyId: t.id };
}

describe('the receipt of a transfer from A to B', () => {
  let id: string;
  let tenancyId: string;
  let signedByB: PeerReceiptJws;

  it('switches without waiting for the receipt; the source waits for it before completing', async () => {
    ({ id, tenancyId } = await switchedAndAwaitingReceipt('Harbour Library'));
    const [atB] = await b.database.db.select({ state: tenancies.state }).from(tenancies).where(eq(tenancies.id, tenancyId));
    expect(atB!.state).toBe('active');
    expect((await row(b, id)).receiptParts?.peer).toBeDefined(); // B took A's checkpoint and terms
    expect((await a.api('GET', `/api/v1/peer-transfers/${id}/receipt`)).status).toBe(404);
    expect(await actionsOn(a, 'peer-transfer', id)).toContain('peer-transfer.receipt-terms');
  });

  it("B signs the summary naming both checkpoints (A's delivery held back here, to tamper with it)", async () => {
    armFailpoint('throw:peer-transfers.deliver');
    try {
      await deliverDueMessages(peerDeps(b));
    } finally {
      armFailpoint(null);
    }
    const atB = await row(b, id);
    expect(atB.lastError).toMatch(/failpoint/);
    signedByB = (decodeJwt(atB.outgoingJwt!) as unknown as ReceiptClaims).receipt!;
    expect(signedByB.signatures).toHaveLength(1);
    expect(await actionsOn(b, 'peer-transfer', id)).toEqual(expect.arrayContaining(['peer-transfer.receipt-terms', 'peer-transfer.receipt-sign']));
  });

  it('A refuses a summary that differs from what it knows, audited; the transfer stays waiting', async () => {
    const changed = { ...summaryOf(signedByB), manifestSha256: 'f'.repeat(64) };
    const res = await post(b, a, { iss: B.entityId, aud: A.entityId, transfer_id: id, receipt: await resign(b, changed, 'target') });
    expect(res.status).toBe(422);
    expect(res.json.detail).toContain('manifestSha256');
    expect((await lastRefusal(a, id))?.reason).toContain('manifestSha256');
    expect((await row(a, id)).receipt).toBeNull();
    expect(await advanceTransfer(execA, id)).toMatchObject({ state: 'verifying', waiting: 'peer' });
  });

  it("A refuses B's checkpoint with a bad cosignature (A's own witness line changed), audited", async () => {
    const s = summaryOf(signedByB);
    const tampered = { ...s, target: { ...s.target, checkpoint: { ...s.target.checkpoint, note: badCosignature(s.target.checkpoint.note) } } };
    const res = await post(b, a, { iss: B.entityId, aud: A.entityId, transfer_id: id, receipt: await resign(b, tampered, 'target') });
    expect(res.status).toBe(422);
    expect(res.json.detail).toMatch(/cosignature by .* does not verify/);
    expect((await lastRefusal(a, id))?.reason).toMatch(/cosignature by .* does not verify/);
    expect((await row(a, id)).receipt).toBeNull();
  });

  it('A refuses a receipt signed by A’s key in B’s place, audited', async () => {
    const res = await post(b, a, { iss: B.entityId, aud: A.entityId, transfer_id: id, receipt: await resign(a, summaryOf(signedByB), 'target') });
    expect(res.status).toBe(422);
    expect((await lastRefusal(a, id))?.reason).toMatch(/target's signature: key .* is not among/);
    expect((await row(a, id)).receipt).toBeNull();
  });

  it("B refuses A's terms with a checkpoint whose cosignature is bad, audited", async () => {
    const own = (await row(a, id)).receiptParts!.own!;
    const parts = (await row(a, id)).receiptParts!;
    const res = await post(a, b, { iss: A.entityId, aud: B.entityId, transfer_id: id, checkpoint: { ...own, note: badCosignature(own.note) }, approvals: parts.approvals!, policy_set_hash: parts.policySetHash! });
    expect(res.status).toBe(422);
    expect((await lastRefusal(b, id))?.reason).toMatch(/cosignature by .* does not verify/);
  });

  it('A countersigns and stores the genuine receipt; only then does its transfer complete', async () => {
    // B's signed receipt, sent again when its retry is due (an hour on, past any back-off).
    const later = peerDeps(b);
    await deliverDueMessages({ ...later, transfer: { ...later.transfer, now: () => new Date(Date.now() + 3_600_000) } });
    const atA = await row(a, id);
    expect(atA.receipt?.signatures).toHaveLength(2);
    expect(await actionsOn(a, 'peer-transfer', id)).toContain('peer-transfer.receipt');
    expect((await advanceTransfer(execA, id)).state).toBe('completed');
    expect(await actionsOn(a, 'transfer', id)).toContain('transfer.complete');
    await deliverDueMessages(peerDeps(a)); // the receipt signed by both, back to B
    expect((await row(b, id)).receipt).toEqual(atA.receipt);
  });

  it('both sides serve the same receipt; it verifies with both instances’ keys and names both checkpoints, each cosigned by the other', async () => {
    const fromA = await a.api('GET', `/api/v1/peer-transfers/${id}/receipt`);
    const fromB = await b.api('GET', `/api/v1/peer-transfers/${id}/receipt`, { token: bAdmin.token });
    expect(fromA.status, fromA.text).toBe(200);
    expect(fromB.status, fromB.text).toBe(200);
    expect(fromB.json).toEqual(fromA.json);
    const { summary, checkpoints } = await verifyPeerReceipt(fromA.json, { sourceJwks: await jwksOf(a), targetJwks: await jwksOf(b) });
    expect(summary).toMatchObject({ transferId: id, tenancyId, source: { entityId: A.entityId }, target: { entityId: B.entityId } });
    expect(summary.approvals.map((x) => x.role).sort()).toEqual(['owner', 'source_admin', 'target_admin']);
    for (const x of summary.approvals) expect(x.ref).toMatch(/^p:[0-9a-f]{32}$/); // pseudonyms, no account ids
    // Each checkpoint: signed by its log's key as that instance publishes it, cosigned by the other's witness.
    const fed = async (s: TestServer) => (await s.api('GET', '/api/v1/federation/witness')).json;
    expect(summary.source.checkpoint.witnessKey).toBe((await fed(b)).vkey);
    expect(summary.target.checkpoint.witnessKey).toBe((await fed(a)).vkey);
    expect(checkpoints.source.origin).toBe(auditOrigin(a.url));
    expect(checkpoints.target.origin).toBe(auditOrigin(b.url));
    // Checked with the wrong instance's keys, it does not verify.
    await expect(verifyPeerReceipt(fromA.json, { sourceJwks: await jwksOf(b), targetJwks: await jwksOf(a) })).rejects.toThrow(/source's signature: key .* is not among/);
  });

  it('an auditor verifies the saved receipt with `meetplane receipts verify` and the two entity configurations, and nothing else', async () => {
    const fromA = await a.api('GET', `/api/v1/peer-transfers/${id}/receipt`);
    const dir = mkdtempSync(join(tmpdir(), 'receipt-'));
    const file = join(dir, 'receipt.json');
    writeFileSync(file, fromA.text);
    const ec = (s: TestServer) => `${s.url}/.well-known/openid-federation`;
    const ok = await runCli(['receipts', 'verify', file, '--source-jwks', ec(a), '--target-jwks', ec(b)], {});
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`OK: transfer ${id} of tenancy ${tenancyId} between instances`);
    expect(ok.stdout).toContain(`its log ${auditOrigin(a.url)}`);
    expect(ok.stdout).toContain(`its log ${auditOrigin(b.url)}`);
    const slug = (await b.api('GET', `/api/v1/tenancies/${tenancyId}`)).json.slug as string;
    expect(ok.stdout).toContain(`the tenancy's gateway now: ${b.url}/t/${slug}/bigbluebutton/api`);
    // The instances' keys swapped: refused, exit 3.
    const swapped = await runCli(['receipts', 'verify', file, '--source-jwks', ec(b), '--target-jwks', ec(a)], {});
    expect(swapped.code).toBe(3);
    expect(swapped.stderr).toMatch(/VERIFICATION FAILED: the source's signature: key .* is not among/);
    // The summary changed (its completion date) under the original signatures: they no longer match.
    const receipt = JSON.parse(fromA.text) as PeerReceiptJws;
    const summary = summaryOf(receipt);
    const forged = { ...summary, completedAt: new Date(0).toISOString() };
    writeFileSync(file, JSON.stringify({ payload: (await resign(a, forged, 'source')).payload, signatures: receipt.signatures }));
    const changed = await runCli(['receipts', 'verify', file, '--source-jwks', ec(a), '--target-jwks', ec(b)], {});
    expect(changed.code).toBe(3);
    expect(changed.stderr).toMatch(/VERIFICATION FAILED: the source's signature does not match the summary/);
    rmSync(dir, { recursive: true, force: true });
  });

  it("each checkpoint includes that instance's entries of the transfer (inclusion proofs)", async () => {
    const summary = summaryOf((await row(a, id)).receipt!);
    const cases = [
      [a, summary.source.checkpoint, [['transfer', 'transfer.switch'], ['peer-transfer', 'peer-transfer.switch']]],
      [b, summary.target.checkpoint, [['peer-transfer', 'peer-transfer.switched'], ['tenancy', 'tenancy.update'], ['peer-transfer', 'peer-transfer.receipt-terms']]],
    ] as const;
    for (const [s, cp, wanted] of cases) {
      const { size, rootHash } = openNote(cp.note, cp.logKey);
      for (const [type, action] of wanted) {
        const subject = type === 'tenancy' ? tenancyId : id;
        const entry = (await entriesOn(s, type, subject)).find((e) => e.json.action === action && (type !== 'tenancy' || e.json.details?.transfer === id));
        expect(entry, `${action} at ${s.url}`).toBeDefined();
        expect(entry!.index).toBeLessThan(size);
        const proof = await s.api('GET', `/api/v1/audit/proof/inclusion?index=${entry!.index}&treeSize=${size}`);
        expect(proof.status, proof.text).toBe(200);
        const hashes = (proof.json.hashes as string[]).map((h) => new Uint8Array(Buffer.from(h, 'base64')));
        const leaf = new Uint8Array(Buffer.from(entry!.leafHash, 'base64'));
        expect(verifyInclusion(leaf, entry!.index, size, hashes, rootHash)).toBe(true);
      }
    }
  });

  it('B refuses a receipt with one signature, and one whose summary differs from what B signed, audited; the tenancy stays served', async () => {
    const stored = (await row(b, id)).receipt!;
    const one = { payload: stored.payload, signatures: [stored.signatures[0]!] };
    const res = await post(a, b, { iss: A.entityId, aud: B.entityId, transfer_id: id, receipt: one });
    expect(res.status).toBe(422);
    expect(res.json.detail).toContain('expected 2 signatures');
    expect((await lastRefusal(b, id))?.reason).toContain('expected 2 signatures');
    // A summary changed under B's signature: B's signature no longer matches.
    const changed = { ...summaryOf(stored), completedAt: new Date(0).toISOString() };
    const bySource = await resign(a, changed, 'source');
    const res2 = await post(a, b, { iss: A.entityId, aud: B.entityId, transfer_id: id, receipt: { payload: bySource.payload, signatures: [bySource.signatures[0]!, stored.signatures[1]!] } });
    expect(res2.status).toBe(422);
    expect((await lastRefusal(b, id))?.reason).toMatch(/target's signature does not match the summary/);
    expect((await row(b, id)).receipt).toEqual(stored);
    const tenancy = await b.api('GET', `/api/v1/tenancies/${tenancyId}`);
    expect(tenancy.json.state).toBe('active');
  });
});

describe('a receipt that never comes', () => {
  it('keeps the transfer waiting; once overdue, an admin of the source co-op completes it without the receipt, with a reason, audited', async () => {
    // B verified every file and the tenancy is served there, but B never signs the receipt (its deliveries never run here).
    const { id } = await switchedAndAwaitingReceipt('Harbour Archive');
    const reason = 'Érable retired its instance; its operator confirmed by phone that the tenancy runs there';
    const early = await act(id, 'resolve', aAdmin.token, { direction: 'roll-forward', reason });
    expect(early.status).toBe(409);
    expect(early.json.detail).toMatch(/not overdue: .* completed without it from \d{4}-\d\d-\d\dT/);
    const back = await act(id, 'resolve', aAdmin.token, { direction: 'roll-back', reason });
    expect(back.status).toBe(409);
    expect(back.json.detail).toMatch(/served at .* cannot be rolled back/);
    // The status says since when the receipt is awaited, from when it is overdue, and what to type then.
    const waiting = (await a.api('GET', `/api/v1/transfers/${id}`)).json;
    expect(waiting.receiptWait).toEqual({ awaitedSince: waiting.stateSince, overdueAt: new Date(Date.parse(waiting.stateSince) + 24 * 3_600_000).toISOString(), action: expect.stringContaining(`meetplane transfers resolve ${id} --roll-forward --reason TEXT`) });
    const status = await runCli(['transfers', 'status', id], { MEETPLANE_URL: a.url, MEETPLANE_TOKEN: a.adminToken });
    expect(status.stdout).toContain(`receipt awaited from the target instance since ${waiting.stateSince}; overdue from ${waiting.receiptWait.overdueAt}`);
    expect(status.stdout).toContain(`meetplane transfers resolve ${id} --roll-forward --reason TEXT`);
    // A day and an hour after the switch: the runner still waits for B.
    await a.database.db.execute(sql`update transfers set state_since = now() - interval '25 hours' where id = ${id}`);
    expect(await advanceTransfer(execA, id)).toMatchObject({ state: 'verifying', waiting: 'peer' });
    const member = await memberWithToken(a, uk.id);
    expect((await act(id, 'resolve', member.token, { direction: 'roll-forward', reason })).status).toBe(404); // not theirs to see, let alone settle
    const done = await act(id, 'resolve', aAdmin.token, { direction: 'roll-forward', reason });
    expect(done.status, done.text).toBe(200);
    expect(done.json.state).toBe('completed');
    expect((await a.api('GET', `/api/v1/transfers/${id}`)).json.receiptWait).toBeNull();
    // Audited: the member's attempt as denied by the policies, the admin's resolution with its reason.
    const resolved = (await entriesOn(a, 'transfer', id)).filter((e) => e.json.action === 'transfer.resolve');
    expect(resolved.map((e) => (e.json as { outcome?: string }).outcome)).toEqual(['denied', 'success']);
    expect(resolved[1]!.json.details).toMatchObject({ resolution: 'roll-forward', reason, receipt: 'missing', verifiedBy: B.entityId });
    expect(await actionsOn(a, 'transfer', id)).not.toContain('transfer.complete');
    const receipt = await a.api('GET', `/api/v1/transfers/${id}/receipt`);
    expect(receipt.status).toBe(404);
    expect(receipt.json.detail).toMatch(/completed but has no receipt/);
    // Settled: nothing more to resolve, and the runner no longer waits for B.
    expect((await act(id, 'resolve', aAdmin.token, { direction: 'roll-forward', reason })).status).toBe(409);
    expect((await advanceTransfer(execA, id)).state).toBe('completed');
  });
});
