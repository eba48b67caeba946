// Issue 18, finding 2: never stranded after the switch. A failure is injected
// (MEETPLANE_FAILPOINT's throw mode) at each step after the switch; each time
// the tenancy is served afterwards on the side that holds its complete data
// (the gateway's create answers SUCCESS there, not tenancyFrozen), the failure
// is audited and the status says what failed, where the tenancy is served and
// what an operator can do; then the operator's retry or resolve finishes it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeRecording } from '../support/bbb/recordings.js';
import { armFailpoint } from '../../server/failpoints.js';
import { advanceTransfer } from '../../server/transfers/execute.js';
import { loadReceipt } from '../../server/receipts/receipt.js';
import { transferFiles } from '../../server/transfers/table.js';
import { eq } from 'drizzle-orm';
import { gatewayCreate, useWorld, transferAction, transferAudit, transferEntries, transferInNotice, ukTenancy, type Tenancy } from './world.js';

const w = useWorld();

let n = 0;
/** A fresh tenancy with a published and an unpublished recording, its transfer run with `point` failing once. */
async function failAt(point: string) {
  const t = await ukTenancy(w, `Tenancy ${++n}`);
  const meta = { 'meetplane-tenancy': t.id };
  const recs = [
    await writeRecording(w.peers.dirs.source, { meetingId: `lesson-${n}`, name: 'Lesson', host: w.peers.source.origin, meta, files: { 'shapes.svg': `<svg id="${n}"/>` } }),
    await writeRecording(w.peers.dirs.source, { meetingId: `staff-${n}`, name: 'Staff', host: w.peers.source.origin, meta, state: 'unpublished', files: { 'shapes.svg': `<svg id="s${n}"/>` } }),
  ];
  const id = await transferInNotice(w, t);
  armFailpoint(`throw:${point}`);
  const advanced = await advanceTransfer(w.deps, id);
  armFailpoint(null);
  return { t, id, recs, advanced, status: (await w.s.api('GET', `/api/v1/transfers/${id}`)).json };
}

/** The tenancy's home now, and whether a front end can start a meeting there (on that side's BBB). */
async function servedAt(t: Tenancy, side: 'source' | 'target') {
  const tenancy = (await w.s.api('GET', `/api/v1/tenancies/${t.id}`)).json;
  expect(tenancy).toMatchObject(side === 'source' ? { coopId: w.uk.id, clusterId: w.ukCluster.id, state: 'active' } : { coopId: w.de.id, clusterId: w.deCluster.id, state: 'active' });
  const meeting = `m-${t.slug}-${Math.random().toString(36).slice(2, 8)}`;
  const answer = await gatewayCreate(w, t, meeting);
  expect(answer).toContain('<returncode>SUCCESS</returncode>');
  expect(answer).not.toContain('tenancyFrozen');
  expect(w.peers[side].meetings.has(meeting)).toBe(true);
}

/** The transfer's status, as `meetplane transfers show` reads it. */
const statusOf = async (id: string) => (await w.s.api('GET', `/api/v1/transfers/${id}`)).json;

/** The commands a failure offers an operator, each followed by what it does (in brackets). */
function commandsOffered(failure: { actions: string[] }): string[] {
  return failure.actions.map((a) => {
    const [command, why] = a.split(/\s{3}\(/);
    expect(why, a).toMatch(/\S.*\)$/);
    return command!;
  });
}

const at = (tree: string, r: { recordId: string }) => path.join(w.peers.dirs.target, tree, 'presentation', r.recordId);

describe('a failure after the switch', () => {
  it('in the file verification: back at the source, which holds everything; retry freezes, copies and switches again', async () => {
    const { t, id, status } = await failAt('verify.files');
    expect(status.state).toBe('failed');
    expect(status.failure).toMatchObject({ step: 'verify-files', servedBy: 'source' });
    expect(commandsOffered(status.failure)).toEqual([`meetplane transfers retry ${id}`, `meetplane transfers resolve ${id} --roll-back --reason TEXT`]);
    expect(await transferAudit(w, id)).toContain('transfer.fail');
    await servedAt(t, 'source');
    // The members are home again, with their accounts.
    expect((await w.s.api('GET', `/api/v1/accounts/${t.member.accountId}`)).json.coopId).toBe(w.uk.id);

    const retried = await transferAction(w, id, 'retry', { token: w.sourceAdmin.token });
    expect(retried.status, retried.text).toBe(200);
    expect(retried.json.state).toBe('frozen');
    // The failure is behind it while the step runs again.
    expect((await statusOf(id)).failure).toBeNull();
    expect(await advanceTransfer(w.deps, id)).toEqual({ state: 'completed' });
    expect((await w.s.api('GET', `/api/v1/transfers/${id}`)).json.failure).toBeNull();
    await servedAt(t, 'target');
    expect((await w.s.api('GET', `/api/v1/accounts/${t.member.accountId}`)).json.coopId).toBe(w.de.id);
  });

  // The reason an operator reads: what could not be done, then the cause (here the failpoint's).
  for (const [point, step, reason] of [
    ['verify.listing', 'verify-listing', /^the target's recordings could not be listed: .*verify\.listing/],
    ['verify.playback', 'verify-playback', /^playback http\S+ of recording \S+: .*verify\.playback/],
    ['verify.receipt', 'receipt', /^the receipt could not be signed: .*verify\.receipt/],
    ['transfer.before:completed', 'complete', /^the completion could not be stored: .*transfer\.before:completed/],
  ] as const)
    it(`in ${step}, with the files verified: served at the target; retry completes it`, async () => {
      const { t, id, recs, status } = await failAt(point);
      expect(status.state).toBe('failed');
      expect(status.failure).toMatchObject({ step, servedBy: 'target' });
      expect(status.failure.reason).toMatch(reason);
      expect(commandsOffered(status.failure)).toEqual([
        `meetplane transfers retry ${id}`,
        `meetplane transfers resolve ${id} --roll-forward --reason TEXT`,
        `meetplane transfers resolve ${id} --roll-back --reason TEXT`,
      ]);
      expect(await transferAudit(w, id)).toContain('transfer.fail');
      await servedAt(t, 'target');
      // Nothing is deleted at the source before the transfer completes.
      for (const r of recs) expect(existsSync(path.join(r.dir, 'metadata.xml'))).toBe(true);

      expect((await transferAction(w, id, 'retry', { token: w.targetAdmin.token })).json.state).toBe('verifying');
      expect((await statusOf(id)).failure).toBeNull();
      expect(await advanceTransfer(w.deps, id)).toEqual({ state: 'completed' });
      expect(await loadReceipt(w.s.database.db, id)).toBeTruthy();
      await servedAt(t, 'target');
    });

  it('a file damaged at the target before it is verified: failed naming the file, served at the source, nothing deleted there', async () => {
    // The listing fails first (files verified, served at the target); the operator retries after the
    // target's storage damaged a file (one byte changed, same size): the retry's file check must find it.
    const { t, id, recs } = await failAt('verify.listing');
    const damaged = path.join(at('published', recs[0]!), 'shapes.svg');
    const bytes = readFileSync(damaged);
    bytes[0] = bytes[0]! ^ 0x20;
    writeFileSync(damaged, bytes);
    expect((await transferAction(w, id, 'retry', { token: w.targetAdmin.token })).json.state).toBe('verifying');
    expect(await advanceTransfer(w.deps, id)).toMatchObject({ state: 'failed' });
    const status = (await w.s.api('GET', `/api/v1/transfers/${id}`)).json;
    expect(status.failure).toMatchObject({ step: 'verify-files', servedBy: 'source' });
    expect(status.failure.reason).toContain(`${recs[0]!.recordId}/shapes.svg`);
    expect(await transferAudit(w, id)).not.toContain('transfer.complete');
    expect(await loadReceipt(w.s.database.db, id)).toBeFalsy();
    await servedAt(t, 'source');
    for (const r of recs) expect(existsSync(path.join(r.dir, 'shapes.svg'))).toBe(true);
  });

  it('resolve --roll-forward completes a failed transfer at the target, with the reason on record', async () => {
    const { id } = await failAt('verify.playback');
    const res = await transferAction(w, id, 'resolve', { token: w.sourceAdmin.token, body: { direction: 'roll-forward', reason: 'playback checked by hand behind the proxy' } });
    expect(res.status, res.text).toBe(200);
    expect(res.json.state).toBe('completed');
    expect(await loadReceipt(w.s.database.db, id)).toBeTruthy();
    const entries = (await w.s.api('GET', `/api/v1/audit/entries?subjectType=transfer&subject=${id}&limit=100`)).json.items.map((e: { json: unknown }) => e.json);
    expect(entries.find((e: { action: string }) => e.action === 'transfer.complete')).toMatchObject({ details: { resolution: 'roll-forward', reason: 'playback checked by hand behind the proxy' } });
  });

  it('resolve --roll-back moves the tenancy back to the source, ends the transfer and removes the copies at the target', async () => {
    const { t, id, recs } = await failAt('verify.listing');
    expect(existsSync(at('unpublished', recs[1]!))).toBe(true);
    // A refusal changes nothing: the reason is required.
    expect((await transferAction(w, id, 'resolve', { token: w.sourceAdmin.token, body: { direction: 'roll-back', reason: '' } })).status).toBe(400);
    const res = await transferAction(w, id, 'resolve', { token: w.sourceAdmin.token, body: { direction: 'roll-back', reason: 'the target cluster is being rebuilt' } });
    expect(res.status, res.text).toBe(200);
    expect(res.json.state).toBe('rolled_back');
    // Settled: no failure waits for an operator any more; the resolution is on record.
    expect((await statusOf(id)).failure).toBeNull();
    await servedAt(t, 'source');
    for (const r of recs) expect(existsSync(path.join(r.dir, 'metadata.xml'))).toBe(true);
    expect(existsSync(at('published', recs[0]!))).toBe(false);
    expect(existsSync(at('unpublished', recs[1]!))).toBe(false);
    expect((await transferAction(w, id, 'retry', { token: w.sourceAdmin.token })).status).toBe(409);
  });

  it('in the source deletion: the tenancy stays served at the target, the failure waits for a retry', async () => {
    const { t, id, recs, advanced, status } = await failAt('transfer.before:source-deleted');
    expect(advanced).toEqual({ state: 'completed', waiting: 'operator' });
    expect(status.state).toBe('completed');
    expect(status.failure).toMatchObject({ step: 'source-delete', servedBy: 'target' });
    expect(commandsOffered(status.failure)).toEqual([`meetplane transfers retry ${id}`]);
    expect(status.sourceDeletion.doneAt).toBeNull();
    expect(await last(id, 'transfer.source-delete-fail')).toMatchObject({ details: { step: 'source-delete', servedBy: 'target', reason: status.failure.reason } });
    await servedAt(t, 'target');
    // The runner leaves it to the operator.
    expect(await advanceTransfer(w.deps, id)).toEqual({ state: 'completed', waiting: 'operator' });

    // A completed transfer is not resolved: its failed step is retried.
    const resolve = await transferAction(w, id, 'resolve', { token: w.sourceAdmin.token, body: { direction: 'roll-back', reason: 'x' } });
    expect(resolve.json.detail).toBe('only a failed transfer can be resolved; this one is completed (retry its failed step instead)');
    const retried = await transferAction(w, id, 'retry', { token: w.sourceAdmin.token });
    expect(retried.status).toBe(200);
    expect(await statusOf(id)).toMatchObject({ state: 'completed', failure: null });
    expect(await last(id, 'transfer.retry')).toMatchObject({ details: { retried: true, step: 'source-delete', servedBy: 'target' } });
    expect(await advanceTransfer(w.deps, id)).toEqual({ state: 'completed' });
    expect((await w.s.api('GET', `/api/v1/transfers/${id}`)).json.sourceDeletion.doneAt).not.toBeNull();
    for (const r of recs) for (const tree of ['published', 'unpublished', 'deleted']) expect(existsSync(path.join(w.peers.dirs.source, tree, 'presentation', r.recordId))).toBe(false);
  });

  it('retry and resolve are decided by the policies: a member of the tenancy may do neither', async () => {
    const { t, id } = await failAt('verify.playback');
    expect((await transferAction(w, id, 'retry', { token: t.member.token })).status).toBe(403);
    expect((await transferAction(w, id, 'resolve', { token: t.owner.token, body: { direction: 'roll-back', reason: 'x' } })).status).toBe(403);
    expect((await w.s.api('GET', `/api/v1/transfers/${id}`)).json.state).toBe('failed');
  });
});

/**
 * The target cluster's BBB API behind a proxy that can change one recording in
 * getRecordings answers (as a broken or half-restored BBB would): leave it out,
 * list it in another state, or point its playback at a page that is not there.
 */
/** The transfer's audit entries, oldest first, as an auditor reads them. */
const entriesOf = (id: string) => transferEntries(w, id);
const last = async (id: string, action: string) => (await entriesOf(id)).filter((e) => e.action === action).at(-1);

describe("an operator's retry and resolve", () => {
  it('a retry from the source freezes the tenancy there again before anything is copied, and the log says which failure it retried', async () => {
    const { t, id } = await failAt('verify.files');
    expect(await last(id, 'transfer.fail')).toMatchObject({ details: { step: 'verify-files', rolledBack: true } });
    expect((await transferAction(w, id, 'retry', { token: w.sourceAdmin.token })).json.state).toBe('frozen');
    // Frozen at once, not at the runner's next step: no meeting starts (and no recording is made) while it copies again.
    expect((await w.s.api('GET', `/api/v1/tenancies/${t.id}`)).json).toMatchObject({ state: 'frozen', clusterId: w.ukCluster.id });
    expect(await gatewayCreate(w, t, `m-frozen-${n}`)).toContain('tenancyFrozen');
    expect(await last(id, 'transfer.retry')).toMatchObject({ details: { retried: true, step: 'verify-files' } });
    expect(await advanceTransfer(w.deps, id)).toEqual({ state: 'completed' });
  });

  it('a retry from the source is refused when the tenancy is no longer active at its source cluster; nothing changes', async () => {
    const { t, id } = await failAt('verify.files');
    const tenancy = await w.s.api('GET', `/api/v1/tenancies/${t.id}`);
    const frozen = await w.s.api('PATCH', `/api/v1/tenancies/${t.id}`, { body: { state: 'archived' }, headers: { 'if-match': tenancy.headers.get('etag')! } });
    expect(frozen.status, frozen.text).toBe(200);
    const res = await transferAction(w, id, 'retry', { token: w.sourceAdmin.token });
    expect(res.status).toBe(409);
    expect(res.json.detail).toContain('no longer active at the source cluster');
    expect((await w.s.api('GET', `/api/v1/transfers/${id}`)).json).toMatchObject({ state: 'failed', failure: { step: 'verify-files' } });
    expect(await transferAudit(w, id)).not.toContain('transfer.retry');
  });

  it('a transfer rolled back before the switch cannot be retried or resolved: its failure stays on record', async () => {
    const { t, id, status } = await failAt('copy.chunk');
    expect(status).toMatchObject({ state: 'rolled_back', failure: { step: 'copying', servedBy: 'source' } });
    expect(status.failure.actions).toEqual(['nothing is lost: fix the cause (see reason), then request a new transfer (meetplane transfers create ...)']);
    expect(await last(id, 'transfer.roll-back')).toMatchObject({ details: { step: 'copying', servedBy: 'source', reason: status.failure.reason, copiesRemoved: expect.any(Number) } });
    for (const [action, body, detail] of [
      ['retry', undefined, 'a rolled back transfer cannot be retried'],
      // Nothing is left to retry: the hint is only for a completed transfer's failed step.
      ['resolve', { direction: 'roll-back', reason: 'try again' }, 'only a failed transfer can be resolved; this one is rolled back'],
    ] as const) {
      const res = await transferAction(w, id, action, { token: w.sourceAdmin.token, body });
      expect(res.status, `${action}: ${res.text}`).toBe(409);
      expect(res.json).toMatchObject({ type: expect.stringMatching(/\/transfer-state$/), detail });
    }
    expect((await w.s.api('GET', `/api/v1/transfers/${id}`)).json).toMatchObject({ state: 'rolled_back', failure: { step: 'copying' } });
    await servedAt(t, 'source');
  });

  it('a failure at the target is recorded as rolled forward, its retry goes back to verifying', async () => {
    const { id } = await failAt('verify.receipt');
    expect(await last(id, 'transfer.fail')).toMatchObject({ details: { step: 'receipt', rolledForward: true } });
    expect((await transferAction(w, id, 'retry', { token: w.targetAdmin.token })).json.state).toBe('verifying');
    expect(await last(id, 'transfer.retry')).toMatchObject({ details: { retried: true, step: 'receipt' } });
  });

  it('resolve refuses a transfer that has not failed, and a roll-forward whose target was never verified; nothing changes', async () => {
    const t = await ukTenancy(w, `Tenancy ${++n}`);
    const waiting = await transferInNotice(w, t);
    const early = await transferAction(w, waiting, 'resolve', { token: w.sourceAdmin.token, body: { direction: 'roll-back', reason: 'changed our minds' } });
    expect(early.status).toBe(409);
    expect(early.json.detail).toContain('only a failed transfer can be resolved; this one is notice');
    const retry = await transferAction(w, waiting, 'retry', { token: w.sourceAdmin.token });
    expect(retry.status).toBe(409);
    expect(retry.json.detail).toBe('a notice transfer with no failure on record has nothing to retry');

    const { id } = await failAt('verify.files');
    const forward = await transferAction(w, id, 'resolve', { token: w.sourceAdmin.token, body: { direction: 'roll-forward', reason: 'looks fine' } });
    expect(forward.status).toBe(409);
    expect(forward.json.detail).toContain('the target was not verified to hold every file');
    expect((await w.s.api('GET', `/api/v1/transfers/${id}`)).json.state).toBe('failed');
    expect(await loadReceipt(w.s.database.db, id)).toBeFalsy();
  });

  it('roll back from the target is refused while the target holds recordings made since the switch; the tenancy stays there', async () => {
    const { t, id } = await failAt('verify.listing');
    const made = await writeRecording(w.peers.dirs.target, { meetingId: `after-${n}`, name: 'Made at the target', host: w.peers.target.origin, meta: { 'meetplane-tenancy': t.id }, files: { 'shapes.svg': '<svg/>' } });
    const res = await transferAction(w, id, 'resolve', { token: w.sourceAdmin.token, body: { direction: 'roll-back', reason: 'the target is being rebuilt' } });
    expect(res.status).toBe(409);
    expect(res.json.detail).toContain(`the target holds 1 recordings of the tenancy made since the switch (first: ${made.recordId})`);
    expect((await w.s.api('GET', `/api/v1/transfers/${id}`)).json.state).toBe('failed');
    await servedAt(t, 'target');
  });

  it('a roll back of a transfer served at the source needs nothing of the target: it is done while the target cannot be reached', async () => {
    const { t, id } = await failAt('verify.files');
    w.peers.target.setOnline(false);
    try {
      const res = await transferAction(w, id, 'resolve', { token: w.sourceAdmin.token, body: { direction: 'roll-back', reason: 'the target co-op closed' } });
      expect(res.status, res.text).toBe(200);
      expect(await statusOf(id)).toMatchObject({ state: 'rolled_back', failure: null });
      // Nothing moved back: the failure had moved it home already.
      const resolved = await last(id, 'transfer.resolve');
      expect(resolved?.details).toEqual({ resolution: 'roll-back', reason: 'the target co-op closed', failedStep: 'verify-files', failure: expect.any(String) });
    } finally {
      w.peers.target.setOnline(true);
    }
    await servedAt(t, 'source');
  });

  it('an ETag read before a failure never matches again: a stale If-Match is refused', async () => {
    const { id } = await failAt('verify.receipt');
    const seen = [(await w.s.api('GET', `/api/v1/transfers/${id}`)).headers.get('etag')!];
    const retried = await transferAction(w, id, 'retry', { token: w.targetAdmin.token });
    seen.push(retried.headers.get('etag')!);
    armFailpoint('throw:transfer.before:source-deleted');
    expect(await advanceTransfer(w.deps, id)).toEqual({ state: 'completed', waiting: 'operator' });
    armFailpoint(null);
    const now = (await w.s.api('GET', `/api/v1/transfers/${id}`)).headers.get('etag')!;
    expect(seen).not.toContain(now);
    for (const etag of seen) {
      const stale = await w.s.api('POST', `/api/v1/transfers/${id}/retry`, { token: w.sourceAdmin.token, headers: { 'If-Match': etag } });
      expect(stale.status, etag).toBe(412);
    }
    expect((await w.s.api('GET', `/api/v1/transfers/${id}`)).json.failure).toMatchObject({ step: 'source-delete' });
  });

  it('a member who objected gets their membership back, with its role, when a failure moves the tenancy home', async () => {
    const t = await ukTenancy(w, `Tenancy ${++n}`);
    const id = await transferInNotice(w, t);
    expect((await transferAction(w, id, 'object', { token: t.member.token })).status).toBe(200);
    armFailpoint('throw:verify.files');
    expect(await advanceTransfer(w.deps, id)).toMatchObject({ state: 'failed' });
    armFailpoint(null);
    expect(await last(id, 'transfer.fail')).toMatchObject({ details: { rolledBack: true, membershipsGivenBack: 1, accountsMovedBack: 1 } });
    const members = (await w.s.api('GET', `/api/v1/tenancies/${t.id}/members`)).json.items as Array<{ accountId: string; role: string }>;
    expect(members.map((m) => [m.accountId, m.role]).sort()).toEqual([[t.member.accountId, 'member'], [t.owner.accountId, 'owner']].sort());
    await servedAt(t, 'source');
  });

  it('a roll back is on record with its reason and what moved back', async () => {
    const { t, id } = await failAt('verify.listing');
    const res = await transferAction(w, id, 'resolve', { token: w.sourceAdmin.token, body: { direction: 'roll-back', reason: 'the target cluster is being rebuilt' } });
    expect(res.status, res.text).toBe(200);
    expect(await last(id, 'transfer.resolve')).toMatchObject({
      details: { resolution: 'roll-back', reason: 'the target cluster is being rebuilt', failedStep: 'verify-listing', accountsMovedBack: 2, membershipsGivenBack: 0 },
    });
    for (const who of [t.owner, t.member]) expect((await w.s.api('GET', `/api/v1/accounts/${who.accountId}`)).json.coopId).toBe(w.uk.id);
  });
});

describe('a target whose BBB answers wrong once the files are verified', () => {
  let proxy: Server;
  let alter: ((recording: string) => string) | null = null;
  let recordId = '';
  let directUrl = '';

  const pointClusterAt = async (apiUrl: string) => {
    const path = `/api/v1/clusters/${w.deCluster.id}`;
    const etag = (await w.s.api('GET', path)).headers.get('etag')!;
    const res = await w.s.api('PATCH', path, { body: { apiUrl }, headers: { 'if-match': etag } });
    expect(res.status, res.text).toBe(200);
  };

  beforeAll(async () => {
    directUrl = w.peers.target.url;
    proxy = createServer(async (req, res) => {
      const upstream = await fetch(`${directUrl.replace(/\/bigbluebutton\/api\/?$/, '')}${req.url}`, { redirect: 'manual' });
      let body = await upstream.text();
      if (alter && req.url!.includes('/getRecordings?'))
        body = body.replace(/<recording>[\s\S]*?<\/recording>/g, (r) => (r.includes(`<recordID>${recordId}</recordID>`) ? alter!(r) : r));
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/xml' });
      res.end(body);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    await pointClusterAt(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}/bigbluebutton/api`);
  });
  afterAll(async () => {
    await pointClusterAt(directUrl);
    await new Promise<void>((r) => proxy.close(() => r()));
  });
  afterEach(() => {
    alter = null;
  });

  for (const [what, step, change, reason] of [
    ['leaves a copied recording out of its list', 'verify-listing', () => '', 'does not list recording'],
    ['lists a published recording as unpublished', 'verify-listing', (r: string) => r.replace('<state>published</state>', '<state>unpublished</state>'), 'as unpublished, not published'],
    ['points a published recording\'s playback at a page that is not there', 'verify-playback', (r: string) => r.replace(/<url>([^<]*)<\/url>/, (_m, u: string) => `<url>${u.replace(/\/playback\/.*/, '/playback/presentation/2.3/not-there')}</url>`), 'answered 404'],
  ] as const)
    it(`${what}: failed at ${step} naming the recording, served at the target (its files are whole); a retry once it answers right completes it`, async () => {
      const { t, id, recs } = await failAt('verify.listing');
      recordId = recs[0]!.recordId; // the published one
      alter = change;
      expect((await transferAction(w, id, 'retry', { token: w.targetAdmin.token })).json.state).toBe('verifying');
      expect(await advanceTransfer(w.deps, id)).toMatchObject({ state: 'failed' });
      const status = (await w.s.api('GET', `/api/v1/transfers/${id}`)).json;
      expect(status.failure).toMatchObject({ step, servedBy: 'target', recordId });
      expect(await last(id, 'transfer.fail')).toMatchObject({ details: { step, recordId, rolledForward: true } });
      expect(status.failure.reason).toContain(reason);
      expect(status.failure.reason).toContain(recordId);
      expect(await transferAudit(w, id)).not.toContain('transfer.complete');
      await servedAt(t, 'target');
      for (const r of recs) expect(existsSync(path.join(r.dir, 'metadata.xml'))).toBe(true);

      alter = null;
      expect((await transferAction(w, id, 'retry', { token: w.targetAdmin.token })).json.state).toBe('verifying');
      expect(await advanceTransfer(w.deps, id)).toEqual({ state: 'completed' });
      expect((await w.s.api('GET', `/api/v1/transfers/${id}`)).json.failure).toBeNull();
      // The completion says what was verified: both recordings, each file of the manifest.
      const [completed] = (await w.s.api('GET', `/api/v1/audit/entries?subjectType=transfer&subject=${id}&action=transfer.complete`)).json.items;
      const copied = await w.s.database.db.select().from(transferFiles).where(eq(transferFiles.transferId, id));
      expect(copied.length).toBeGreaterThanOrEqual(4);
      expect(completed.json.details).toMatchObject({ recordings: 2, files: copied.length, inventoryManifestSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    });
});
