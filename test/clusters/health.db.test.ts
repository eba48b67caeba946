// Health polling through the leased job, driven one tick at a time: a BBB double that
// stops answering goes offline after two polls and comes back after one success.
import { sequenceAudit } from '../../server/audit/sequencer.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BbbClient } from '../../server/bbb/client.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { decodeMasterKey } from '../../server/crypto/master-key.js';
import { createLogger } from '../../server/logger.js';
import { rowsOf } from '../../server/db/index.js';
import { createBackgroundWorker, HEALTH_JOB } from '../../server/jobs/background.js';
import { runSoon } from '../../server/jobs/queue.js';
import type { Worker } from '../../server/jobs/worker.js';
import { startBbbDouble, type BbbDouble } from '../support/bbb/server.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCluster, createCoop } from '../support/fixtures.js';

const SECRET = 'health-secret-0123456789';
let s: TestServer;
let bbb: BbbDouble;
let dir: string;
let worker: Worker;
let cluster: { id: string };
let coop: { id: string; slug: string };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'health-'));
  bbb = await startBbbDouble({ secret: SECRET, recordingsDir: dir });
  s = await startTestServer({ WORKER: 'off' });
  coop = await createCoop(s);
  cluster = await createCluster(s, coop.id, { apiUrl: bbb.url, secret: SECRET, checksumAlgorithm: 'sha1' });
  const box = new SecretBox(decodeMasterKey(s.masterKey));
  worker = await createBackgroundWorker({ db: s.database.db, box, log: createLogger('silent'), config: { pollIntervalMs: 60_000, inventoryIntervalMs: 3_600_000 }, outbound: s.outbound });
});
afterAll(async () => {
  await worker?.stop();
  await s?.stop();
  await bbb?.close();
  await rm(dir, { recursive: true, force: true });
});

/** One poll now, as the periodic job would do it one interval later. */
async function poll() {
  await runSoon(s.database.db, HEALTH_JOB);
  expect(await worker.tick()).toBeGreaterThanOrEqual(1);
  const res = await s.api('GET', `/api/v1/clusters/${cluster.id}/health`);
  expect(res.status).toBe(200);
  return res.json;
}

const transitions = async () => {
  // The poll runs in this process, not through a request: number its entries before reading the table.
  await sequenceAudit(s.database.db);
  return rowsOf<{ entry: Uint8Array }>(
    await s.database.db.execute(sql`select entry from audit_entries where subject_id = ${cluster.id} and action = 'cluster.health' order by idx`),
  ).map((r) => JSON.parse(Buffer.from(r.entry).toString()) as { before: { state: string }; after: { state: string } });
};

describe('cluster health', () => {
  it('is unknown before the first poll', async () => {
    const res = await s.api('GET', `/api/v1/clusters/${cluster.id}/health`);
    expect(res.json).toMatchObject({ clusterId: cluster.id, state: 'unknown', checkedAt: null });
  });

  it('measures load as Scalelite does, the BBB version and the latency', async () => {
    const client = new BbbClient({ apiUrl: bbb.url, secret: SECRET, algorithm: 'sha1', fetch });
    await client.create({ meetingID: 'health-m1', name: 'Young meeting' });
    for (const name of ['A', 'B']) await fetch(client.join({ meetingID: 'health-m1', fullName: name, role: 'VIEWER' }), { redirect: 'manual' });
    const h = await poll();
    // Two participants, but a meeting younger than 15 minutes weighs 15.
    expect(h).toMatchObject({ state: 'online', meetings: 1, participants: 2, load: 15, bbbVersion: '3.0.0', apiVersion: '2.0', consecutiveFailures: 0, lastError: null });
    expect(h.latencyMs).toBeGreaterThanOrEqual(0);
    expect(bbb.requests.some((r) => r.call === 'getMeetings')).toBe(true);
    // The state shows in the cluster listing too.
    const listed = await s.api('GET', `/api/v1/clusters?coop=${coop.id}`);
    expect(listed.json.items.find((c: { id: string }) => c.id === cluster.id).health).toMatchObject({ state: 'online', load: 15 });
  });

  it('goes offline after two failed polls and back online after one success, auditing only the transitions', async () => {
    const before = (await transitions()).length;
    bbb.setOnline(false);
    const first = await poll();
    expect(first).toMatchObject({ state: 'online', consecutiveFailures: 1 });
    expect(first.lastError).toMatch(/unreachable/);
    expect(first.lastError).not.toContain(SECRET);
    const second = await poll();
    expect(second).toMatchObject({ state: 'offline', consecutiveFailures: 2 });
    await poll(); // a third failure changes nothing more
    bbb.setOnline(true);
    expect(await poll()).toMatchObject({ state: 'online', consecutiveFailures: 0, lastError: null });
    await poll();
    const audited = (await transitions()).slice(before);
    expect(audited.map((e) => [e.before.state, e.after.state])).toEqual([
      ['online', 'offline'],
      ['offline', 'online'],
    ]);
  });

  it('counts an HTTP error page as a failure too', async () => {
    bbb.failNext(2, 503);
    await poll();
    expect(await poll()).toMatchObject({ state: 'offline' });
    expect(await poll()).toMatchObject({ state: 'online' });
  });

  it('does not poll disabled clusters', async () => {
    const off = await createCluster(s, coop.id, { apiUrl: bbb.url, secret: SECRET, state: 'disabled' });
    await poll();
    expect((await s.api('GET', `/api/v1/clusters/${off.id}/health`)).json.state).toBe('unknown');
  });

  it('hides the health of other co-ops\' clusters', async () => {
    const { memberWithToken } = await import('../support/fixtures.js');
    const otherCoop = await createCoop(s);
    const member = await memberWithToken(s, otherCoop.id);
    expect((await s.api('GET', `/api/v1/clusters/${cluster.id}/health`, { token: member.token })).status).toBe(404);
  });
});
