// A tenancy moved to another cluster of its co-op (PATCH cluster, e.g. to drain a
// server) while some of its meetings run: those stay reachable on the cluster they
// run on until they end, new meetings start on the new cluster, and its recordings
// are listed, changed and deleted on whichever cluster holds them. A transfer to
// another co-op never sends calls back to the source cluster. Two BBB doubles, the
// real server, and a real BBB client that only knows the tenancy's gateway URL.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { BbbClient } from '../../server/bbb/client.js';
import { signQuery } from '../../server/bbb/checksum.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { LOCAL_OPERATOR } from '../../server/auth/principal.js';
import { switchTenancy } from '../../server/transfers/switch.js';
import type { transfers } from '../../server/transfers/table.js';
import { rooms } from '../../server/inventory/table.js';
import { noteRunningMeetings } from '../../server/inventory/service.js';
import { uuidv7 } from '../../server/ids.js';
import { startBbbPair, type BbbPair } from '../support/bbb/pair.js';
import type { BbbDouble } from '../support/bbb/server.js';
import { writeRecording } from '../support/bbb/recordings.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCluster, createCoop, createTenancy } from '../support/fixtures.js';

const SECRET_1 = 'cluster-one-secret-0123456789';
const SECRET_2 = 'cluster-two-secret-9876543210';

let s: TestServer;
let pair: BbbPair;
let a1: BbbDouble;
let a2: BbbDouble;
let coop: { id: string };
let cluster1: { id: string };
let cluster2: { id: string };

const clientFor = (t: { slug: string; bbbSecret: string }) =>
  new BbbClient({ apiUrl: `${s.url}/t/${t.slug}/bigbluebutton/api`, secret: t.bbbSecret, algorithm: 'sha256', retries: 0, fetch });

/** The calls that reached a double about one meeting. */
const callsAbout = (bbb: BbbDouble, meetingId: string) =>
  bbb.requests.filter((r) => new URLSearchParams(r.query).get('meetingID') === meetingId).map((r) => r.call);

async function moveTo(tenancyId: string, clusterId: string) {
  const path = `/api/v1/tenancies/${tenancyId}`;
  const etag = (await s.api('GET', path)).headers.get('etag')!;
  const res = await s.api('PATCH', path, { body: { cluster: clusterId }, headers: { 'if-match': etag } });
  expect(res.status, res.text).toBe(200);
}

/** What a moderator ending the meeting inside the client does: the cluster ends it, the gateway is not asked. */
async function endOnCluster(bbb: BbbDouble, secret: string, meetingId: string) {
  const res = await fetch(`${bbb.url}/end?${signQuery('end', { meetingID: meetingId }, secret, 'sha1')}`);
  expect(await res.text()).toContain('SUCCESS');
}

beforeAll(async () => {
  pair = await startBbbPair({ source: SECRET_1, target: SECRET_2 });
  ({ source: a1, target: a2 } = pair);
  s = await startTestServer({ WORKER: 'off' });
  coop = await createCoop(s);
  cluster1 = await createCluster(s, coop.id, { apiUrl: a1.url, secret: SECRET_1, checksumAlgorithm: 'sha1' });
  cluster2 = await createCluster(s, coop.id, { apiUrl: a2.url, secret: SECRET_2, checksumAlgorithm: 'sha512' });
}, 60_000);

afterAll(async () => {
  await s?.stop();
  await pair?.close();
});

describe('meetings running when the tenancy moves to another cluster of its co-op', () => {
  it('stay reachable on the old cluster until they end, while new meetings start on the new one', async () => {
    const t = await createTenancy(s, coop.id, cluster1.id);
    const client = clientFor(t);
    await client.create({ meetingID: 'mv-live', name: 'Running at the move' });
    expect((await fetch(client.join({ meetingID: 'mv-live', fullName: 'Ada', role: 'MODERATOR' }), { redirect: 'manual' })).status).toBe(302);

    await moveTo(t.id, cluster2.id);

    // Everyone still finds the meeting where it runs.
    const join = await fetch(client.join({ meetingID: 'mv-live', fullName: 'Bob', role: 'VIEWER' }), { redirect: 'manual' });
    expect(join.status).toBe(302);
    expect(join.headers.get('location')).toMatch(new RegExp(`^${a1.origin}/html5client/join`));
    expect(a1.meetings.get('mv-live')?.attendees.map((a) => a.fullName)).toEqual(['Ada', 'Bob']);
    expect(await client.isMeetingRunning('mv-live')).toBe(true);
    expect(await client.getMeetingInfo('mv-live')).toMatchObject({ meetingID: 'mv-live', participantCount: 2 });
    // A front end's create before each join (Greenlight does this) answers the running meeting, not a new one on the new cluster.
    const again = await client.create({ meetingID: 'mv-live', name: 'Running at the move' });
    expect(again.internalMeetingID).toBe(a1.meetings.get('mv-live')!.internalMeetingID);
    expect(a2.meetings.has('mv-live')).toBe(false);

    // A new meeting starts on the new cluster; both are listed.
    await client.create({ meetingID: 'mv-new', name: 'After the move' });
    expect(a2.meetings.get('mv-new')?.metadata['meetplane-tenancy']).toBe(t.id);
    expect(a1.meetings.has('mv-new')).toBe(false);
    expect((await client.getMeetings()).map((m) => m.meetingID).sort()).toEqual(['mv-live', 'mv-new']);

    // Ending it through the gateway ends it where it runs.
    await client.end('mv-live');
    expect(a1.meetings.has('mv-live')).toBe(false);

    // From then on its calls go to the new cluster: the old one is not asked again.
    const askedBefore = callsAbout(a1, 'mv-live').length;
    expect(await client.isMeetingRunning('mv-live')).toBe(false);
    await expect(client.getMeetingInfo('mv-live')).rejects.toMatchObject({ messageKey: 'notFound' });
    expect(callsAbout(a2, 'mv-live')).toEqual(['isMeetingRunning', 'getMeetingInfo']);
    await client.create({ meetingID: 'mv-live', name: 'Next lesson' });
    expect(a2.meetings.has('mv-live')).toBe(true);
    const rejoin = await fetch(client.join({ meetingID: 'mv-live', fullName: 'Ada', role: 'MODERATOR' }), { redirect: 'manual' });
    expect(rejoin.headers.get('location')).toMatch(new RegExp(`^${a2.origin}/html5client/join`));
    expect(callsAbout(a1, 'mv-live').length).toBe(askedBefore);
    expect((await client.getMeetings()).map((m) => m.meetingID).sort()).toEqual(['mv-live', 'mv-new']);
  });

  it('follow a meeting that ended inside the client to the new cluster once the old one no longer has it', async () => {
    const t = await createTenancy(s, coop.id, cluster1.id);
    const client = clientFor(t);
    await client.create({ meetingID: 'mv-ended-inside', name: 'Ended by its moderator' });
    await client.create({ meetingID: 'mv-recreated', name: 'Restarted after the move' });
    await moveTo(t.id, cluster2.id);
    await endOnCluster(a1, SECRET_1, 'mv-ended-inside');
    await endOnCluster(a1, SECRET_1, 'mv-recreated');

    // The old cluster answers it has no such meeting: the new one is asked, and the gateway remembers.
    await expect(client.getMeetingInfo('mv-ended-inside')).rejects.toMatchObject({ messageKey: 'notFound' });
    expect(callsAbout(a2, 'mv-ended-inside')).toEqual(['getMeetingInfo']);
    const asked = callsAbout(a1, 'mv-ended-inside').length;
    expect(await client.isMeetingRunning('mv-ended-inside')).toBe(false);
    expect(callsAbout(a1, 'mv-ended-inside').length).toBe(asked);

    // create asks the old cluster whether the meeting still runs there; it does not, so it starts on the new one.
    await client.create({ meetingID: 'mv-recreated', name: 'Restarted after the move' });
    expect(a2.meetings.has('mv-recreated')).toBe(true);
    expect(a1.meetings.has('mv-recreated')).toBe(false);
    expect(callsAbout(a1, 'mv-recreated').at(-1)).toBe('getMeetingInfo');
    expect(await client.getMeetingInfo('mv-recreated')).toMatchObject({ meetingID: 'mv-recreated' });
    expect((await client.getMeetings()).map((m) => m.meetingID)).toEqual(['mv-recreated']);
  });

  it('that the old cluster fails to end (an error page, or a page that is no BBB answer) are not taken as ended there', async () => {
    const t = await createTenancy(s, coop.id, cluster1.id);
    const client = clientFor(t);
    await client.create({ meetingID: 'mv-end-fails', name: 'The old cluster fails to end it' });
    await moveTo(t.id, cluster2.id);
    for (const status of [500, 200]) {
      a1.failNext(1, status);
      await expect(client.end('mv-end-fails')).rejects.toBeDefined();
      expect(a1.meetings.has('mv-end-fails')).toBe(true);
      // Still looked for where it runs.
      const asked = callsAbout(a1, 'mv-end-fails').length;
      expect(await client.getMeetingInfo('mv-end-fails')).toMatchObject({ meetingID: 'mv-end-fails' });
      expect(callsAbout(a1, 'mv-end-fails').length).toBe(asked + 1);
    }
  });

  it('once the last of them has ended, leave the old cluster out of the meeting list at once (it can be switched off)', async () => {
    const t = await createTenancy(s, coop.id, cluster1.id);
    const client = clientFor(t);
    await client.create({ meetingID: 'mv-last-one', name: 'The last on the old cluster' });
    await moveTo(t.id, cluster2.id);
    expect((await client.getMeetings()).map((m) => m.meetingID)).toEqual(['mv-last-one']);
    await client.end('mv-last-one');
    const asked = a1.requests.length;
    expect(await client.getMeetings()).toEqual([]);
    expect(a1.requests.slice(asked)).toEqual([]);
  });

  it("learn from the health poll that a meeting ended on its old cluster, and not before its create could have arrived", async () => {
    const t = await createTenancy(s, coop.id, cluster1.id);
    const client = clientFor(t);
    await client.create({ meetingID: 'mv-polled', name: 'Polled' });
    await client.create({ meetingID: 'mv-just-created', name: 'Just created' });
    await moveTo(t.id, cluster2.id);
    await endOnCluster(a1, SECRET_1, 'mv-polled');
    await endOnCluster(a1, SECRET_1, 'mv-just-created');
    const db = s.database.db;
    // mv-polled was created long enough ago; mv-just-created's create might still be on its way.
    await db.update(rooms).set({ lastCreatedAt: sql`now() - interval '10 minutes'` }).where(eq(rooms.meetingId, 'mv-polled'));
    await noteRunningMeetings(db, cluster1.id, []);
    const endedAt = async (id: string) => (await db.select({ endedAt: rooms.endedAt }).from(rooms).where(eq(rooms.meetingId, id)))[0]!.endedAt;
    expect(await endedAt('mv-polled')).not.toBeNull();
    expect(await endedAt('mv-just-created')).toBeNull();

    const asked = a1.requests.length;
    expect(await client.isMeetingRunning('mv-polled')).toBe(false);
    expect(callsAbout(a2, 'mv-polled')).toEqual(['isMeetingRunning']);
    expect(a1.requests.length).toBe(asked);
  });
});

describe("a moved tenancy's recordings", () => {
  it('are listed from both clusters, and changed or deleted on the cluster that holds each', async () => {
    const t = await createTenancy(s, coop.id, cluster1.id);
    const client = clientFor(t);
    const meta = { 'meetplane-tenancy': t.id };
    const old1 = await writeRecording(pair.dirs.source, { meetingId: 'rec-old', name: 'Before the move', meta, host: a1.origin, startTime: 1_700_000_000_000 });
    const old2 = await writeRecording(pair.dirs.source, { meetingId: 'rec-old-2', name: 'Before the move too', meta, host: a1.origin, startTime: 1_700_000_100_000 });
    expect((await s.api('POST', `/api/v1/tenancies/${t.id}/recordings/refresh`)).json).toMatchObject({ recordings: 2, added: 2 });
    // A meeting running at the move, recorded: its recording appears on the old cluster after the move.
    await client.create({ meetingID: 'rec-live', name: 'Recorded at the move', record: true });

    await moveTo(t.id, cluster2.id);
    const fresh = await writeRecording(pair.dirs.target, { meetingId: 'rec-new', name: 'After the move', meta, host: a2.origin, startTime: 1_700_000_200_000 });
    await endOnCluster(a1, SECRET_1, 'rec-live');
    const late = await writeRecording(pair.dirs.source, { meetingId: 'rec-live', name: 'Recorded at the move', meta, host: a1.origin, startTime: 1_700_000_300_000 });

    const ids = async (q = {}) => (await client.getRecordings(q)).map((r) => r.recordID);
    expect(await ids()).toEqual([old1.recordId, old2.recordId, fresh.recordId, late.recordId]);
    // offset and limit apply to the merged list.
    expect(await ids({ offset: 1, limit: 2 })).toEqual([old2.recordId, fresh.recordId]);
    expect(await ids({ limit: 1 })).toEqual([old1.recordId]);
    expect(await ids({ offset: 3, limit: 1 })).toEqual([late.recordId]);
    // Past the end: SUCCESS with noRecordings, as bbb-web answers an empty list.
    const empty = await fetch(`${s.url}/t/${t.slug}/bigbluebutton/api/getRecordings?${signQuery('getRecordings', { offset: '4' }, t.bbbSecret, 'sha256')}`);
    expect(await empty.text()).toMatch(/<returncode>SUCCESS<\/returncode>.*<messageKey>noRecordings<\/messageKey>/s);
    expect(await ids({ meetingID: ['rec-old', 'rec-new'] })).toEqual([old1.recordId, fresh.recordId]);

    // The inventory reads both clusters too, the late recording included.
    const refreshed = await s.api('POST', `/api/v1/tenancies/${t.id}/recordings/refresh`);
    expect(refreshed.json).toMatchObject({ recordings: 4 });
    const inventory = (await s.api('GET', `/api/v1/tenancies/${t.id}/recordings`)).json.items as Array<{ recordId: string; clusterId: string }>;
    expect(Object.fromEntries(inventory.map((r) => [r.recordId, r.clusterId]))).toEqual({
      [old1.recordId]: cluster1.id,
      [old2.recordId]: cluster1.id,
      [fresh.recordId]: cluster2.id,
      [late.recordId]: cluster1.id,
    });

    // Each change goes to the cluster holding the recording; one call may name recordings on both.
    expect(await client.publishRecordings(`${old1.recordId},${fresh.recordId}`, false)).toBe(false);
    expect(a1.requests.at(-1)).toMatchObject({ call: 'publishRecordings' });
    expect(a2.requests.at(-1)).toMatchObject({ call: 'publishRecordings' });
    expect((await client.getRecordings({ state: ['unpublished'] })).map((r) => r.recordID)).toEqual([old1.recordId, fresh.recordId]);
    expect(await client.updateRecordings(old2.recordId, { note: 'kept' })).toBe(true);
    expect((await client.getRecordings({ recordID: [old2.recordId] }))[0]?.metadata).toMatchObject({ note: 'kept', 'meetplane-tenancy': t.id });
    expect(await client.deleteRecordings(late.recordId)).toBe(true);
    expect(await ids({ state: ['published', 'unpublished'] })).toEqual([old1.recordId, old2.recordId, fresh.recordId]);
    // Another tenancy's recording id on the old cluster is still nobody else's.
    const other = await createTenancy(s, coop.id, cluster2.id);
    await expect(clientFor(other).deleteRecordings(old2.recordId)).rejects.toMatchObject({ messageKey: 'notFound' });
  });
});

describe("a tenancy moved with no meeting on its old cluster since its recordings were listed", () => {
  it('still lists, changes and keeps them there (the inventory records that they stayed behind); moved back, they are at the current cluster again', async () => {
    const t = await createTenancy(s, coop.id, cluster1.id);
    const client = clientFor(t);
    const old = await writeRecording(pair.dirs.source, { meetingId: 'drained-old', name: 'Before the drain', meta: { 'meetplane-tenancy': t.id }, host: a1.origin });
    expect((await s.api('POST', `/api/v1/tenancies/${t.id}/recordings/refresh`)).json).toMatchObject({ recordings: 1 });
    const inventory = async () => ((await s.api('GET', `/api/v1/tenancies/${t.id}/recordings`)).json.items as Array<{ recordId: string; clusterId: string }>).map((r) => [r.recordId, r.clusterId]);

    await moveTo(t.id, cluster2.id);
    expect(await inventory()).toEqual([[old.recordId, cluster1.id]]);
    expect((await client.getRecordings()).map((r) => r.recordID)).toEqual([old.recordId]);
    expect((await s.api('POST', `/api/v1/tenancies/${t.id}/recordings/refresh`)).json).toMatchObject({ recordings: 1, removed: 0 });
    expect(await inventory()).toEqual([[old.recordId, cluster1.id]]);
    expect(await client.publishRecordings(old.recordId, false)).toBe(false);
    expect(a1.requests.at(-1)).toMatchObject({ call: 'publishRecordings' });
    const move = (await s.api('GET', `/api/v1/audit/entries?action=tenancy.update&limit=1000`)).json.items.map((i: { json: any }) => i.json).filter((e: any) => e.subject.id === t.id).at(-1);
    expect(move.details).toEqual({ recordingsLeftOn: { cluster: cluster1.id, count: 1 } });

    await moveTo(t.id, cluster1.id);
    expect(await inventory()).toEqual([[old.recordId, cluster1.id]]);
    expect((await client.getRecordings({ state: ['unpublished'] })).map((r) => r.recordID)).toEqual([old.recordId]);
    expect((await s.api('POST', `/api/v1/tenancies/${t.id}/recordings/refresh`)).json).toMatchObject({ recordings: 1, removed: 0 });
  });
});

describe("a moved tenancy's recordings while one of its clusters is down", () => {
  // The first cluster again, behind a proxy that can stop answering (connections
  // dropped) or answer a web server's error page instead of BBB's XML.
  let proxy: Server;
  let mode: 'up' | 'down' | 'garbage' = 'up';
  let flaky: { id: string };

  beforeAll(async () => {
    proxy = createServer(async (req, res) => {
      if (mode === 'down') return req.socket.destroy();
      if (mode === 'garbage') return res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Welcome to nginx!</body></html>');
      const upstream = await fetch(`${a1.url.replace(/\/bigbluebutton\/api\/?$/, '')}${req.url}`);
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/xml' }).end(await upstream.text());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    flaky = await createCluster(s, coop.id, { apiUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/bigbluebutton/api`, secret: SECRET_1, checksumAlgorithm: 'sha1' });
  });
  afterAll(async () => {
    await new Promise<void>((r) => proxy.close(() => r()));
  });

  /** A tenancy with a recording on `first`, moved to `then`, with a recording there. */
  async function movedWithRecordings(first: { id: string }, then: { id: string }, tag: string) {
    const t = await createTenancy(s, coop.id, first.id);
    const meta = { 'meetplane-tenancy': t.id };
    const onFirst = await writeRecording(first === cluster2 ? pair.dirs.target : pair.dirs.source, { meetingId: `${tag}-before`, name: 'Before', meta, host: (first === cluster2 ? a2 : a1).origin, startTime: 1_700_000_000_000 });
    expect((await s.api('POST', `/api/v1/tenancies/${t.id}/recordings/refresh`)).json).toMatchObject({ recordings: 1 });
    await moveTo(t.id, then.id);
    const onThen = await writeRecording(then === cluster2 ? pair.dirs.target : pair.dirs.source, { meetingId: `${tag}-after`, name: 'After', meta, host: (then === cluster2 ? a2 : a1).origin, startTime: 1_700_000_100_000 });
    return { t, client: clientFor(t), onFirst, onThen };
  }

  it('a former cluster down: the list leaves its part out, its recordings cannot be changed, those on the current cluster can', async () => {
    const { client, onFirst, onThen } = await movedWithRecordings(flaky, cluster2, 'former-down');
    const ids = async () => (await client.getRecordings({ state: ['published', 'unpublished'] })).map((r) => r.recordID);
    expect(await ids()).toEqual([onFirst.recordId, onThen.recordId]);
    try {
      mode = 'down';
      expect(await ids()).toEqual([onThen.recordId]);
      await expect(client.deleteRecordings(onFirst.recordId)).rejects.toMatchObject({ messageKey: 'serverUnavailable' });
      await expect(client.deleteRecordings(`${onThen.recordId},${onFirst.recordId}`)).rejects.toMatchObject({ messageKey: 'serverUnavailable' });
      expect(await client.publishRecordings(onThen.recordId, false)).toBe(false);
      mode = 'garbage';
      expect(await ids()).toEqual([onThen.recordId]);
    } finally {
      mode = 'up';
    }
    // Nothing was deleted while it was down, on either cluster.
    expect(await ids()).toEqual([onFirst.recordId, onThen.recordId]);
  });

  it('the current cluster down: the list fails, rather than show only the former cluster\'s part', async () => {
    const { client, onFirst, onThen } = await movedWithRecordings(cluster2, flaky, 'current-down');
    expect((await client.getRecordings()).map((r) => r.recordID)).toEqual([onFirst.recordId, onThen.recordId]);
    try {
      mode = 'down';
      await expect(client.getRecordings()).rejects.toMatchObject({ messageKey: 'serverUnavailable' });
      await expect(client.deleteRecordings(onFirst.recordId)).rejects.toMatchObject({ messageKey: 'serverUnavailable' });
      mode = 'garbage';
      await expect(client.getRecordings()).rejects.toMatchObject({ messageKey: 'serverError' });
    } finally {
      mode = 'up';
    }
    expect((await client.getRecordings()).map((r) => r.recordID)).toEqual([onFirst.recordId, onThen.recordId]);
  });
});

describe('a tenancy transferred to another co-op', () => {
  it('never has its calls sent back to the source cluster after the switch', async () => {
    const t = await createTenancy(s, coop.id, cluster1.id);
    const client = clientFor(t);
    // The worst case: a meeting the grace period did not end, and a recording still at the source.
    await client.create({ meetingID: 'tr-left-running', name: 'Left running' });
    await fetch(client.join({ meetingID: 'tr-left-running', fullName: 'Ada', role: 'MODERATOR' }), { redirect: 'manual' });
    await writeRecording(pair.dirs.source, { meetingId: 'tr-left-running', name: 'Left running', meta: { 'meetplane-tenancy': t.id }, host: a1.origin });
    expect((await s.api('POST', `/api/v1/tenancies/${t.id}/recordings/refresh`)).json).toMatchObject({ recordings: 1 });

    const other = await createCoop(s, { name: 'Target Co-op' });
    const targetCluster = await createCluster(s, other.id, { apiUrl: a2.url, secret: SECRET_2, checksumAlgorithm: 'sha512' });
    // The switch step of a transfer, as the runner does it.
    const transfer = { id: uuidv7(), tenancyId: t.id, sourceCoopId: coop.id, targetCoopId: other.id, sourceClusterId: cluster1.id, targetClusterId: targetCluster.id } as typeof transfers.$inferSelect;
    const box = new SecretBox(Buffer.from(s.masterKey, 'base64'));
    await s.database.db.transaction((tx) => switchTenancy(tx, { box, actor: LOCAL_OPERATOR, publicUrl: s.url, now: new Date() }, transfer));

    const before = a1.requests.length;
    expect(await client.isMeetingRunning('tr-left-running')).toBe(false);
    await expect(client.getMeetingInfo('tr-left-running')).rejects.toMatchObject({ messageKey: 'notFound' });
    expect(await client.getMeetings()).toEqual([]);
    expect(await client.getRecordings()).toEqual([]);
    await client.create({ meetingID: 'tr-left-running', name: 'At the new co-op' });
    expect(a2.meetings.get('tr-left-running')?.metadata['meetplane-tenancy']).toBe(t.id);
    const join = await fetch(client.join({ meetingID: 'tr-left-running', fullName: 'Ada', role: 'MODERATOR' }), { redirect: 'manual' });
    expect(join.headers.get('location')).toMatch(new RegExp(`^${a2.origin}/`));
    await client.end('tr-left-running');
    expect(a1.requests.length).toBe(before);
    expect(a1.meetings.has('tr-left-running')).toBe(true);
  });
});
