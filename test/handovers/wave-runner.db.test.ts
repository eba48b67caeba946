// Waves that run on their own: the background job runs a wave of an
// automatic plan while its freeze window is open, not before, not after, and
// never a by-hand plan's. One run of a wave at a time: while another run (the
// job, or an admin in another process) holds the wave, an admin's run is
// refused with a problem naming it and the job leaves it for its next round.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { startBbbPair, type BbbPair } from '../support/bbb/pair.js';
import { coopAdminWithToken, createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { deliverOutbox, transferEtag } from '../support/transfers.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { pollClusters } from '../../server/clusters/health.js';
import { auditOrigin, CheckpointSigner } from '../../server/audit/checkpoints.js';
import { createLogger } from '../../server/logger.js';
import { transferDeps } from '../../server/transfers/deps.js';
import { runDueWaves } from '../../server/handovers/wave-runner.js';
import { claimWave } from '../../server/handovers/wave-lease.js';
import type { WaveDeps } from '../../server/handovers/waves.js';
import { approvePlan } from '../../server/handovers/approvals.js';
import { findHandover } from '../../server/handovers/plan.js';
import { principalOf } from '../../server/handovers/transfers-from-plan.js';
import { Authz } from '../../server/authz/authz.js';

let s: TestServer;
let peers: BbbPair;
let deps: WaveDeps;
let world: Awaited<ReturnType<typeof makeWorld>>;

const iso = (ms: number) => new Date(Date.now() + ms).toISOString();
const HOUR = 3_600_000;

async function storage(cluster: string, dir: string) {
  expect((await s.api('PUT', `/api/v1/clusters/${cluster}/storage`, { body: { url: `file://${dir}` } })).status).toBe(200);
}

async function makeWorld() {
  const box = new SecretBox(Buffer.from(s.masterKey, 'base64'));
  const old = await createCoop(s);
  const neu = await createCoop(s);
  const dst = await createCluster(s, neu.id, { apiUrl: peers.target.url, secret: 'dst-secret-0123456789' });
  await storage(dst.id, peers.dirs.target);
  await pollClusters(s.database.db, box, { outbound: s.outbound });
  return { box, old, neu, srcAdmin: await coopAdminWithToken(s, old.id), dstAdmin: await coopAdminWithToken(s, neu.id) };
}

beforeAll(async () => {
  s = await startTestServer({ TRANSFER_MIN_NOTICE_DAYS: '0', TRANSFER_MEETING_GRACE: '0', WORKER: 'off' });
  peers = await startBbbPair({ source: 'src-secret-0123456789', target: 'dst-secret-0123456789' });
  world = await makeWorld();
  const signer = await CheckpointSigner.load(s.database.db, world.box, auditOrigin(s.url));
  deps = {
    exec: {
      db: s.database.db,
      box: world.box,
      log: createLogger('silent'),
      signer,
      outbound: s.outbound,
      publicUrl: s.url,
      timing: { meetingGraceMs: 0, sourceGraceMs: 86_400_000, leaseMs: 60_000 },
      ...transferDeps(s.database.db, { transferMinNoticeDays: 0 }),
    },
  };
}, 60_000);
afterAll(async () => {
  await peers?.close();
  await s?.stop();
});

async function act(id: string, path: string, token: string, body?: unknown, method = 'POST') {
  const etag = (await s.api('GET', `/api/v1/handovers/${id}`)).headers.get('etag')!;
  return s.api(method, `/api/v1/handovers/${id}/${path}`, { token, body, headers: { 'if-match': etag } });
}

/** A plan of two tenancies in one wave (its window from 1 s to 1 h from now), approved by the source co-op's admin. */
async function halfApprovedPlan(runWaves?: 'automatic' | 'by-hand') {
  const { old, neu, srcAdmin } = world;
  // A cluster of its own: a plan covers every tenancy of its clusters.
  const src = await createCluster(s, old.id, { apiUrl: peers.source.url, secret: 'src-secret-0123456789' });
  await storage(src.id, peers.dirs.source);
  await pollClusters(s.database.db, world.box, { outbound: s.outbound });
  const ts = [];
  for (let i = 0; i < 2; i++) {
    const t = await createTenancy(s, old.id, src.id);
    const owner = await memberWithToken(s, old.id);
    await s.api('PUT', `/api/v1/tenancies/${t.id}/members/${owner.accountId}`, { body: { role: 'owner' } });
    ts.push({ ...t, owner });
  }
  const created = await s.api('POST', '/api/v1/handovers', {
    token: srcAdmin.token,
    body: {
      name: 'Wave runner',
      sourceCoop: old.id,
      targetCoop: neu.id,
      clusters: [{ cluster: src.id, mode: 'data-move' }],
      noticeDays: 0,
      announceAt: iso(0),
      waves: [{ freezeFrom: iso(1_000), freezeUntil: iso(HOUR), concurrency: 1, tenancies: ts.map((t) => t.id) }],
      cutoverAt: iso(2 * HOUR),
      decommissionAt: iso(20 * HOUR),
      agreement: { documentSha256: 'b'.repeat(64), signedOn: '2026-01-01' },
      ...(runWaves ? { runWaves } : {}),
    },
  });
  expect(created.status, created.text).toBe(201);
  const id = created.json.id as string;
  expect((await act(id, 'approve', srcAdmin.token, { as: 'source_admin' })).status).toBe(200);
  return { id, tenancies: ts, freezeFrom: new Date(created.json.waves[0].freezeFrom as string) };
}

/** The plan above approved by both co-ops, both owners accepted, its window open. */
async function approvedPlan(runWaves?: 'automatic' | 'by-hand') {
  const { id, tenancies: ts } = await halfApprovedPlan(runWaves);
  expect((await act(id, 'approve', world.dstAdmin.token, { as: 'target_admin' })).json.state).toBe('approved');
  for (const t of ts) {
    const transferId = (await s.api('GET', `/api/v1/handovers/${id}/status`)).json.tenancies.find((x: { tenancyId: string }) => x.tenancyId === t.id).transferId;
    const r = await s.api('POST', `/api/v1/handovers/${id}/tenancies/${t.id}/answer`, { token: t.owner.token, body: { answer: 'accept' }, headers: { 'if-match': await transferEtag(s, transferId) } });
    expect(r.status, r.text).toBe(200);
  }
  // The members' notices go out (the mail job's work); then the window opens.
  await deliverOutbox(s.database.db);
  await new Promise((r) => setTimeout(r, 1_100));
  return { id, tenancies: ts };
}

const moved = async (id: string) => (await s.api('GET', `/api/v1/handovers/${id}/status`)).json.waves[0].moved as number;
const runsOf = (runs: Awaited<ReturnType<typeof runDueWaves>>, id: string) => runs.filter((r) => r.handoverId === id);

describe('waves run by the background job', () => {
  it("runs an automatic plan's wave in its window, and not after the window closed", async () => {
    const { id } = await approvedPlan();
    // After the window: nothing runs (a late wave is an admin's to run).
    expect(runsOf(await runDueWaves(deps, new Date(Date.now() + 2 * HOUR)), id)).toEqual([]);
    expect(await moved(id)).toBe(0);
    const [run] = runsOf(await runDueWaves(deps), id);
    expect(run!.run!.results.map((r) => r.state)).toEqual(['moved', 'moved']);
    expect(run!.run!.peakInFlight).toBe(1);
    expect(await moved(id)).toBe(2);
    // The run is on the audit log, by the system, and a settled wave is not run again.
    const entries = (await s.api('GET', `/api/v1/audit/entries?subjectType=handover&subject=${id}&action=handover.wave-start`)).json.items;
    expect(entries).toHaveLength(1);
    // No person started it: the actor is meetplane itself (no person's reference, not through a token).
    expect(entries[0].json.actor).toEqual({ coop: null, ref: null, via: 'local' });
    expect(runsOf(await runDueWaves(deps), id)).toEqual([]);
  }, 120_000);

  it("leaves a by-hand plan's wave to its admins, and runs it once the plan is switched to automatic", async () => {
    const { id } = await approvedPlan('by-hand');
    expect(runsOf(await runDueWaves(deps), id)).toEqual([]);
    expect(await moved(id)).toBe(0);
    // Switching needs the plan's current version and someone who may run its waves.
    const outsider = await memberWithToken(s, world.old.id);
    expect([403, 404]).toContain((await act(id, 'run-waves', outsider.token, { runWaves: 'automatic' }, 'PUT')).status);
    expect((await s.api('PUT', `/api/v1/handovers/${id}/run-waves`, { token: world.dstAdmin.token, body: { runWaves: 'automatic' } })).status).toBe(428);
    expect((await act(id, 'run-waves', world.dstAdmin.token, { runWaves: 'sometimes' }, 'PUT')).status).toBe(400);
    const switched = await act(id, 'run-waves', world.dstAdmin.token, { runWaves: 'automatic' }, 'PUT');
    expect(switched.status, switched.text).toBe(200);
    expect(switched.json.runWaves).toBe('automatic');
    const audit = (await s.api('GET', `/api/v1/audit/entries?subjectType=handover&subject=${id}&action=handover.run-waves`)).json.items;
    expect(audit.map((e: { json: { before: unknown; after: unknown } }) => [e.json.before, e.json.after])).toEqual([[{ runWaves: 'by-hand' }, { runWaves: 'automatic' }]]);
    expect(runsOf(await runDueWaves(deps), id)[0]!.run!.results.map((r) => r.state)).toEqual(['moved', 'moved']);
  }, 120_000);

  it('runs a wave once at a time: a run in progress elsewhere holds off an admin and the job', async () => {
    const { id } = await approvedPlan();
    const elsewhere = await claimWave(s.database.db, id, 1);
    expect(elsewhere).not.toBeNull();
    const refused = await act(id, 'waves/1/run', world.dstAdmin.token);
    expect(refused.status).toBe(409);
    expect(refused.json.type).toBe('https://meetplane.org/problems/wave-running');
    expect(refused.json.detail).toContain('wave 1 is being run already');
    const [skipped] = runsOf(await runDueWaves(deps), id);
    expect(skipped).toMatchObject({ wave: 1, skipped: expect.stringContaining('being run already') });
    expect(await moved(id)).toBe(0);
    await elsewhere!.release();
    const ran = await act(id, 'waves/1/run', world.dstAdmin.token);
    expect(ran.status, ran.text).toBe(200);
    expect(ran.json.results.map((r: { state: string }) => r.state)).toEqual(['moved', 'moved']);
  }, 120_000);
});

describe('a plan approved as its first window opens', () => {
  it("makes every tenancy's transfer, judging the planned freeze by one reading of the clock", async () => {
    const { id, tenancies: ts, freezeFrom } = await halfApprovedPlan('by-hand');
    // The approval's clock reads 1 ms before the window opens; by the time each transfer is checked the window is open.
    // Read twice, the first reading planned the freeze and the second refused it: the tenancy failed instead of moving.
    while (Date.now() <= freezeFrom.getTime()) await new Promise((r) => setTimeout(r, 50));
    const hdeps = { exec: { ...deps.exec, now: () => new Date(freezeFrom.getTime() - 1) }, authz: new Authz(s.database.db), publicUrl: s.url };
    const approved = await approvePlan(hdeps, await principalOf(hdeps, world.dstAdmin.accountId), (await findHandover(s.database.db, id))!, 'target_admin');
    expect(approved.state).toBe('approved');
    const status = (await s.api('GET', `/api/v1/handovers/${id}/status`)).json;
    for (const t of ts) {
      const row = status.tenancies.find((x: { tenancyId: string }) => x.tenancyId === t.id);
      expect(row, JSON.stringify(row)).toMatchObject({ state: 'transfer', transferState: 'checked' });
      const transfer = (await s.api('GET', `/api/v1/transfers/${row.transferId}`)).json;
      expect(transfer.freezeAt).toBe(freezeFrom.toISOString());
    }
  }, 120_000);
});
