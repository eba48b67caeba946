// Changing recordings through the gateway names them by id, several at once
// (recordID=a,b,c). Every id named must be the calling tenancy's: a list that
// hides another tenancy's recording beside one of its own changes nothing.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BbbClient } from '../../server/bbb/client.js';
import { startBbbDouble, type BbbDouble } from '../support/bbb/server.js';
import { readRecordings, writeRecording } from '../support/bbb/recordings.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCluster, createCoop, createTenancy } from '../support/fixtures.js';

const SECRET = 'cluster-secret-0123456789abc';

let s: TestServer;
let dir: string;
let bbb: BbbDouble;
let ours: { id: string; slug: string; bbbSecret: string };
let theirs: { id: string; slug: string; bbbSecret: string };

const clientFor = (t: { slug: string; bbbSecret: string }) =>
  new BbbClient({ apiUrl: `${s.url}/t/${t.slug}/bigbluebutton/api`, secret: t.bbbSecret, algorithm: 'sha256', retries: 0, fetch });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gw-own-'));
  bbb = await startBbbDouble({ secret: SECRET, algorithm: 'sha256', recordingsDir: dir });
  s = await startTestServer({ WORKER: 'off' });
  const coop = await createCoop(s);
  const cluster = await createCluster(s, coop.id, { apiUrl: bbb.url, secret: SECRET, checksumAlgorithm: 'sha256' });
  ours = await createTenancy(s, coop.id, cluster.id);
  theirs = await createTenancy(s, coop.id, cluster.id);
});

afterAll(async () => {
  await s?.stop();
  await bbb?.close();
  await rm(dir, { recursive: true, force: true });
});

async function recordingOf(t: { id: string }, meetingId: string) {
  return writeRecording(dir, { meetingId, name: meetingId, meta: { 'meetplane-tenancy': t.id }, host: bbb.origin });
}

/** Where each recording now is in the cluster's storage (published, unpublished, deleted). */
async function trees(): Promise<Map<string, string>> {
  return new Map((await readRecordings(dir)).map((r) => [r.recordId, r.tree]));
}

describe('a list of recordings with another tenancy\'s among them', () => {
  it('deletes none of them', async () => {
    const mine = await recordingOf(ours, 'own-delete');
    const other = await recordingOf(theirs, 'other-delete');
    const before = await trees();
    for (const ids of [`${mine.recordId},${other.recordId}`, `${other.recordId},${mine.recordId}`])
      await expect(clientFor(ours).deleteRecordings(ids)).rejects.toMatchObject({ messageKey: 'notFound' });
    expect(await trees()).toEqual(before);
    expect((await clientFor(theirs).getRecordings()).map((r) => r.recordID)).toContain(other.recordId);
    // Its own, alone, it may delete.
    expect(await clientFor(ours).deleteRecordings(mine.recordId)).toBe(true);
    expect((await trees()).get(mine.recordId)).toBe('deleted');
    expect((await trees()).get(other.recordId)).toBe(before.get(other.recordId));
  });

  it('publishes and unpublishes none of them', async () => {
    const mine = await recordingOf(ours, 'own-publish');
    const other = await recordingOf(theirs, 'other-publish');
    const before = await trees();
    await expect(clientFor(ours).publishRecordings(`${mine.recordId},${other.recordId}`, false)).rejects.toMatchObject({ messageKey: 'notFound' });
    expect(await trees()).toEqual(before);
  });

  it('updates none of them', async () => {
    const mine = await recordingOf(ours, 'own-update');
    const other = await recordingOf(theirs, 'other-update');
    await expect(clientFor(ours).updateRecordings(`${mine.recordId},${other.recordId}`, { note: 'changed' })).rejects.toMatchObject({ messageKey: 'notFound' });
    const [theirsNow] = (await clientFor(theirs).getRecordings({ recordID: other.recordId })) ?? [];
    expect(theirsNow?.metadata).not.toHaveProperty('note');
    const [oursNow] = await clientFor(ours).getRecordings({ recordID: mine.recordId });
    expect(oursNow?.metadata).not.toHaveProperty('note');
  });
});

describe('a list of recordings written loosely', () => {
  it('takes ids with spaces around them and empty entries, as BBB does', async () => {
    const one = await recordingOf(ours, 'loose-1');
    const two = await recordingOf(ours, 'loose-2');
    expect(await clientFor(ours).publishRecordings(` ${one.recordId} ,, ${two.recordId},`, false)).toBe(false);
    expect((await trees()).get(one.recordId)).toBe('unpublished');
    expect((await trees()).get(two.recordId)).toBe('unpublished');
  });

  it('naming none is passed to the cluster, which says a recordID is missing', async () => {
    for (const ids of ['', ' , '])
      await expect(clientFor(ours).deleteRecordings(ids)).rejects.toMatchObject({ messageKey: 'missingParamRecordID' });
  });
});
