// A tenancy drained from one cluster of its co-op to another (PATCH cluster) leaves
// its recordings on the first. A transfer copies from the tenancy's current cluster
// only, so it must stop before anything is moved rather than switch and cut those
// recordings off from their members unseen.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBbbDouble, type BbbDouble } from '../support/bbb/server.js';
import { writeRecording } from '../support/bbb/recordings.js';
import { createCluster } from '../support/fixtures.js';
import { advanceTransfer } from '../../server/transfers/execute.js';
import { transferInNotice, ukTenancy, type World, startWorld } from './world.js';

const OLD_SECRET = 'old-cluster-secret-18';
let w: World;
let old: BbbDouble;
let oldDir: string;
let oldCluster: { id: string; slug: string };

beforeAll(async () => {
  w = await startWorld();
  oldDir = mkdtempSync(path.join(os.tmpdir(), 'mp-bbb-old-'));
  old = await startBbbDouble({ secret: OLD_SECRET, recordingsDir: oldDir });
  oldCluster = await createCluster(w.s, w.uk.id, { country: 'GB', apiUrl: old.url, secret: OLD_SECRET });
}, 60_000);
afterAll(async () => {
  await w?.close();
  await old?.close();
  rmSync(oldDir, { recursive: true, force: true });
});

async function moveTo(tenancyId: string, clusterId: string) {
  const p = `/api/v1/tenancies/${tenancyId}`;
  const res = await w.s.api('PATCH', p, { body: { cluster: clusterId }, headers: { 'if-match': (await w.s.api('GET', p)).headers.get('etag')! } });
  expect(res.status, res.text).toBe(200);
}

describe('a transfer of a tenancy whose recordings are partly on a cluster it left', () => {
  it('stops before anything is moved, naming the cluster; the tenancy stays served at the source, every recording where it was', async () => {
    const t = await ukTenancy(w, 'Drained school');
    const meta = { 'meetplane-tenancy': t.id };
    await moveTo(t.id, oldCluster.id);
    const behind = await writeRecording(oldDir, { meetingId: 'before-the-drain', name: 'Before the drain', meta, host: old.origin });
    expect((await w.s.api('POST', `/api/v1/tenancies/${t.id}/recordings/refresh`)).json).toMatchObject({ recordings: 1 });
    await moveTo(t.id, w.ukCluster.id);
    const current = await writeRecording(w.peers.dirs.source, { meetingId: 'after-the-drain', name: 'After the drain', meta, host: w.peers.source.origin });

    const id = await transferInNotice(w, t);
    await advanceTransfer(w.deps, id);
    const status = (await w.s.api('GET', `/api/v1/transfers/${id}`)).json;
    expect(status.state).toBe('rolled_back');
    expect(status.failure).toMatchObject({ step: 'copy', recordId: behind.recordId, servedBy: 'source' });
    expect(status.failure.reason).toContain(`on cluster ${oldCluster.slug}, which the tenancy left`);
    expect(status.failure.reason).toContain('nothing was moved');
    expect((await w.s.api('GET', `/api/v1/tenancies/${t.id}`)).json).toMatchObject({ coopId: w.uk.id, clusterId: w.ukCluster.id, state: 'active' });
    expect(existsSync(path.join(w.peers.dirs.target, 'published', 'presentation', current.recordId))).toBe(false);
    const inventory = (await w.s.api('GET', `/api/v1/tenancies/${t.id}/recordings`)).json.items as Array<{ recordId: string; clusterId: string }>;
    expect(inventory.find((r) => r.recordId === behind.recordId)?.clusterId).toBe(oldCluster.id);
  });
});
