// A tenancy's rooms and recordings inventory: read from its cluster by meta tag,
// paged, stored, audited with counts; over REST and the CLI.
import { sequenceAudit } from '../../server/audit/sequencer.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BbbClient } from '../../server/bbb/client.js';
import { rowsOf } from '../../server/db/index.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { decodeMasterKey } from '../../server/crypto/master-key.js';
import { createLogger } from '../../server/logger.js';
import { createBackgroundWorker } from '../../server/jobs/background.js';
import { findJob } from '../../server/jobs/queue.js';
import { startBbbDouble, type BbbDouble } from '../support/bbb/server.js';
import { writeRecording, type WrittenRecording } from '../support/bbb/recordings.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { runCli } from '../support/cli.js';

const SECRET = 'inventory-secret-0123456789';
const T0 = Date.UTC(2025, 2, 3, 10);
let s: TestServer;
let bbb: BbbDouble;
let dir: string;
let coop: { id: string };
let cluster: { id: string };
let t1: { id: string; slug: string; bbbSecret: string };
let t2: { id: string; slug: string; bbbSecret: string };
const written: WrittenRecording[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inventory-'));
  bbb = await startBbbDouble({ secret: SECRET, recordingsDir: dir });
  s = await startTestServer({ WORKER: 'off' });
  coop = await createCoop(s);
  cluster = await createCluster(s, coop.id, { apiUrl: bbb.url, secret: SECRET, checksumAlgorithm: 'sha256' });
  t1 = await createTenancy(s, coop.id, cluster.id);
  t2 = await createTenancy(s, coop.id, cluster.id);
  // 105 recordings of t1 over 3 rooms (more than one getRecordings page), 1 of t2.
  for (let i = 0; i < 105; i++) {
    written.push(
      await writeRecording(dir, {
        meetingId: `inv-room-${i % 3}`,
        name: `Lecture ${i % 3}`,
        startTime: T0 + i * 60_000,
        meta: { 'meetplane-tenancy': t1.id },
        files: { 'video/webcams.webm': 'x'.repeat(100 + i) },
        host: bbb.origin,
      }),
    );
  }
  await writeRecording(dir, { meetingId: 'inv-t2', name: 'Other', meta: { 'meetplane-tenancy': t2.id }, host: bbb.origin });
});
afterAll(async () => {
  await s?.stop();
  await bbb?.close();
  await rm(dir, { recursive: true, force: true });
});

async function allPages(path: string, token?: string) {
  const items: Array<Record<string, unknown>> = [];
  let cursor: string | null = null;
  do {
    const res = await s.api('GET', `${path}?limit=40${cursor ? `&cursor=${cursor}` : ''}`, token ? { token } : {});
    expect(res.status).toBe(200);
    items.push(...res.json.items);
    cursor = res.json.nextCursor;
  } while (cursor);
  return items;
}

const refreshes = async (tenancyId: string) => {
  // The refresh runs in this process, not through a request: number its entries before reading the table.
  await sequenceAudit(s.database.db);
  return rowsOf<{ entry: Uint8Array }>(
    await s.database.db.execute(sql`select entry from audit_entries where subject_id = ${tenancyId} and action = 'tenancy.inventory-refresh' order by idx`),
  ).map((r) => JSON.parse(Buffer.from(r.entry).toString()).details);
};

describe('recording inventory', () => {
  it('reads every page of the tenancy\'s recordings and stores them, audited with counts', async () => {
    const res = await s.api('POST', `/api/v1/tenancies/${t1.id}/recordings/refresh`);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ recordings: 105, added: 105, updated: 0, removed: 0, rooms: 3 });
    expect(bbb.requests.filter((r) => r.call === 'getRecordings').map((r) => new URLSearchParams(r.query).get('offset'))).toEqual(['0', '100']);

    const items = await allPages(`/api/v1/tenancies/${t1.id}/recordings`);
    expect(items).toHaveLength(105);
    const first = items.find((r) => r.recordId === written[0]!.recordId)!;
    expect(first).toMatchObject({
      meetingId: 'inv-room-0',
      name: 'Lecture 0',
      state: 'published',
      published: true,
      startTime: new Date(T0).toISOString(),
      size: 100,
      formats: [{ type: 'presentation', url: written[0]!.playbackUrl }],
      metadata: { 'meetplane-tenancy': t1.id, meetingId: 'inv-room-0' },
      clusterId: cluster.id,
    });
    expect(await refreshes(t1.id)).toEqual([{ recordings: 105, added: 105, updated: 0, removed: 0, rooms: 3, cluster: cluster.id }]);

    const rooms = await allPages(`/api/v1/tenancies/${t1.id}/rooms`);
    expect(rooms.map((r) => r.meetingId).sort()).toEqual(['inv-room-0', 'inv-room-1', 'inv-room-2']);
  });

  it("keeps tenancies apart: one never sees the other's recordings", async () => {
    await s.api('POST', `/api/v1/tenancies/${t2.id}/recordings/refresh`);
    const items = await allPages(`/api/v1/tenancies/${t2.id}/recordings`);
    expect(items.map((r) => r.meetingId)).toEqual(['inv-t2']);
    expect((await allPages(`/api/v1/tenancies/${t1.id}/recordings`)).some((r) => r.meetingId === 'inv-t2')).toBe(false);
  });

  it('notices changed and removed recordings', async () => {
    const client = new BbbClient({ apiUrl: bbb.url, secret: SECRET, algorithm: 'sha1', fetch });
    await client.publishRecordings(written[1]!.recordId, false);
    await client.deleteRecordings(written[2]!.recordId);
    const res = await s.api('POST', `/api/v1/tenancies/${t1.slug}/recordings/refresh`);
    expect(res.json).toEqual({ recordings: 104, added: 0, updated: 1, removed: 1, rooms: 0 });
    const items = await allPages(`/api/v1/tenancies/${t1.id}/recordings`);
    expect(items.find((r) => r.recordId === written[1]!.recordId)).toMatchObject({ state: 'unpublished', published: false });
    expect(items.some((r) => r.recordId === written[2]!.recordId)).toBe(false);
  });

  it('lists the rooms created through the gateway, with their running state from health polls', async () => {
    const gw = new BbbClient({ apiUrl: `${s.url}/t/${t1.slug}/bigbluebutton/api`, secret: t1.bbbSecret, algorithm: 'sha1', fetch });
    await gw.create({ meetingID: 'inv-live', name: 'Live room' });
    await fetch(gw.join({ meetingID: 'inv-live', fullName: 'Ada', role: 'MODERATOR' }), { redirect: 'manual' });
    const box = new SecretBox(decodeMasterKey(s.masterKey));
    const worker = await createBackgroundWorker({ db: s.database.db, box, log: createLogger('silent'), config: { pollIntervalMs: 60_000, inventoryIntervalMs: 3_600_000 }, outbound: s.outbound });
    await worker.tick(); // the health poll (and the periodic inventory) are due at once
    await worker.stop();
    const rooms = await allPages(`/api/v1/tenancies/${t1.id}/rooms`);
    expect(rooms.find((r) => r.meetingId === 'inv-live')).toMatchObject({ name: 'Live room', running: true, participants: 1, clusterId: cluster.id });
    expect(rooms.find((r) => r.meetingId === 'inv-room-0')).toMatchObject({ running: false });
  });

  it('refreshes the inventory once per recording after a recording-ready callback', async () => {
    const jwt = await new SignJWT({ meeting_id: 'inv-live', record_id: 'inv-live-rec' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
    const post = () => fetch(`${s.url}/t/${t1.id}/bigbluebutton/recording-ready`, { method: 'POST', body: new URLSearchParams({ signed_parameters: jwt }) });
    expect((await post()).status).toBe(404); // no front-end URL was asked for: nothing to relay
    await post();
    const job = await findJob(s.database.db, `inventory.refresh:${t1.id}:inv-live-rec`);
    expect(job).toMatchObject({ kind: 'inventory.refresh', state: 'queued', payload: { tenancyId: t1.id } });
    const [n] = rowsOf<{ n: number }>(await s.database.db.execute(sql`select count(*)::int as n from jobs where kind = 'inventory.refresh'`));
    expect(Number(n!.n)).toBe(1);
  });

  it('answers 404 for tenancies of other co-ops and 403 for a refresh by a non-admin', async () => {
    const other = await createCoop(s);
    const outsider = await memberWithToken(s, other.id);
    expect((await s.api('GET', `/api/v1/tenancies/${t1.id}/recordings`, { token: outsider.token })).status).toBe(404);
    expect((await s.api('GET', `/api/v1/tenancies/${t1.id}/rooms`, { token: outsider.token })).status).toBe(404);
    // A member of the co-op without a role there sees nothing of its tenancies; an operator of
    // the co-op's clusters reads the inventory but may not refresh it.
    const insider = await memberWithToken(s, coop.id);
    expect((await s.api('GET', `/api/v1/tenancies/${t1.id}/rooms`, { token: insider.token })).status).toBe(404);
    const [root] = (await s.api('GET', '/api/v1/grants?active=true')).json.items;
    const g = await s.api('POST', '/api/v1/grants', {
      body: { from: root.id, account: insider.accountId, role: 'cluster_operator', scope: { type: 'coop', id: coop.id }, expiresAt: new Date(Date.now() + 86_400_000).toISOString(), reason: 'operates the clusters' },
    });
    expect(g.status).toBe(201);
    expect((await s.api('GET', `/api/v1/tenancies/${t1.id}/rooms`, { token: insider.token })).status).toBe(200);
    expect((await s.api('POST', `/api/v1/tenancies/${t1.id}/recordings/refresh`, { token: insider.token })).status).toBe(403);
    expect((await s.api('GET', `/api/v1/tenancies/${t1.id}/recordings?limit=0`)).status).toBe(400);
  });

  it('answers 502 problem+json when the cluster is down', async () => {
    bbb.setOnline(false);
    try {
      const res = await s.api('POST', `/api/v1/tenancies/${t2.id}/recordings/refresh`);
      expect(res.status).toBe(502);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
      expect(res.text).not.toContain(SECRET);
    } finally {
      bbb.setOnline(true);
    }
  });
});

describe('CLI', () => {
  const env = () => ({ MEETPLANE_URL: s.url, MEETPLANE_TOKEN: s.adminToken });

  it('lists rooms and recordings of a tenancy and the health of clusters', async () => {
    const rooms = await runCli(['tenancies', 'rooms', t1.slug], env());
    expect(rooms.code).toBe(0);
    expect(rooms.stdout).toMatch(/^MEETINGID/);
    expect(rooms.stdout).toContain('inv-live');

    const recs = await runCli(['--json', 'tenancies', 'recordings', t2.id, '--refresh'], env());
    expect(recs.code).toBe(0);
    expect(JSON.parse(recs.stdout).map((r: { meetingId: string }) => r.meetingId)).toEqual(['inv-t2']);

    const one = await runCli(['clusters', 'health', cluster.id], env());
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/state\s+online/);
    const list = await runCli(['clusters', 'health'], env());
    expect(list.stdout).toMatch(/^ID\s+SLUG\s+NAME\s+STATE\s+LOAD/);
    expect(list.stdout).toContain(cluster.id);

    const missing = await runCli(['tenancies', 'rooms', 'no-such-tenancy'], env());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not found/i);
  });
});
