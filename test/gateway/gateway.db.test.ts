// The gateway in front of two BBB doubles (two clusters), driven by a real BBB API
// client that only knows the tenancy's gateway URL and secret.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, jwtVerify } from 'jose';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BbbClient, BbbError } from '../../server/bbb/client.js';
import { signQuery, type ChecksumAlgorithm } from '../../server/bbb/checksum.js';
import { parseResponse, text, children } from '../../server/bbb/xml.js';
import { startBbbDouble, type BbbDouble } from '../support/bbb/server.js';
import { writeRecording } from '../support/bbb/recordings.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCluster, createCoop, createTenancy } from '../support/fixtures.js';
import { changeFeed } from '../../server/cache/change-feed.js';

const SECRET_A = 'cluster-a-secret-0123456789';
const SECRET_B = 'cluster-b-secret-9876543210';

let s: TestServer;
let dirA: string;
let dirB: string;
let bbbA: BbbDouble;
let bbbB: BbbDouble;
let clusterA: { id: string };
let clusterB: { id: string };
let t1: { id: string; slug: string; bbbSecret: string };
let t2: { id: string; slug: string; bbbSecret: string };
let coop: { id: string };

const gatewayUrl = (slug: string) => `${s.url}/t/${slug}/bigbluebutton/api`;
const clientFor = (t: { slug: string; bbbSecret: string }, algorithm: ChecksumAlgorithm = 'sha256') =>
  new BbbClient({ apiUrl: gatewayUrl(t.slug), secret: t.bbbSecret, algorithm, retries: 0, fetch });

/** A raw signed gateway call; the parsed BBB answer. */
async function call(ref: string, name: string, params: Record<string, string>, secret: string, alg: ChecksumAlgorithm = 'sha1') {
  const res = await fetch(`${s.url}/t/${ref}/bigbluebutton/api/${name}?${signQuery(name, params, secret, alg)}`, { redirect: 'manual' });
  return { status: res.status, xml: parseResponse(await res.text()) };
}

beforeAll(async () => {
  dirA = await mkdtemp(join(tmpdir(), 'gw-a-'));
  dirB = await mkdtemp(join(tmpdir(), 'gw-b-'));
  bbbA = await startBbbDouble({ secret: SECRET_A, algorithm: 'sha256', recordingsDir: dirA });
  bbbB = await startBbbDouble({ secret: SECRET_B, algorithm: 'sha512', recordingsDir: dirB });
  s = await startTestServer({ WORKER: 'off', GATEWAY_HOST_SUFFIX: 'gw.test' });
  coop = await createCoop(s);
  clusterA = await createCluster(s, coop.id, { apiUrl: bbbA.url, secret: SECRET_A, checksumAlgorithm: 'sha256' });
  clusterB = await createCluster(s, coop.id, { apiUrl: bbbB.url, secret: SECRET_B, checksumAlgorithm: 'sha512' });
  t1 = await createTenancy(s, coop.id, clusterA.id);
  t2 = await createTenancy(s, coop.id, clusterA.id);
});

afterAll(async () => {
  await s?.stop();
  await bbbA?.close();
  await bbbB?.close();
  await rm(dirA, { recursive: true, force: true });
  await rm(dirB, { recursive: true, force: true });
});

describe('forwarding', () => {
  it("creates a tenancy's meeting on its cluster, tagged, re-signed with the cluster's secret", async () => {
    const created = await clientFor(t1).create({ meetingID: 'gw-room-1', name: 'Room one', meta: { 'gl-listed': 'true' } });
    expect(created.meetingID).toBe('gw-room-1');
    const meeting = bbbA.meetings.get('gw-room-1');
    expect(meeting?.metadata).toMatchObject({ 'meetplane-tenancy': t1.id, 'gl-listed': 'true' });
    expect(bbbB.meetings.has('gw-room-1')).toBe(false);
    // What reached the cluster was signed with its own secret (the double checked it) and never carries the tenancy's.
    const last = bbbA.requests.at(-1)!;
    expect(last.call).toBe('create');
    expect(last.query).not.toContain(t1.bbbSecret);
  });

  it.each(['sha1', 'sha256', 'sha384', 'sha512'] as const)('accepts checksums made with %s', async (alg) => {
    expect(await clientFor(t1, alg).getMeetingInfo('gw-room-1')).toMatchObject({ meetingID: 'gw-room-1', meetingName: 'Room one' });
  });

  it('keeps the redirect of join and the JSON-free XML of join with redirect=false', async () => {
    const url = clientFor(t1).join({ meetingID: 'gw-room-1', fullName: 'Ada', role: 'MODERATOR' });
    expect(url.startsWith(gatewayUrl(t1.slug))).toBe(true);
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(new RegExp(`^${bbbA.origin}/html5client/join\\?sessionToken=`));
    const { xml } = await call(t1.slug, 'join', { meetingID: 'gw-room-1', fullName: 'Bob', role: 'VIEWER', redirect: 'false' }, t1.bbbSecret);
    expect(text(xml, 'messageKey')).toBe('successfullyJoined');
    expect(bbbA.meetings.get('gw-room-1')?.attendees.map((a) => a.fullName)).toEqual(['Ada', 'Bob']);
  });

  it('keeps the POST body of create (pre-uploaded slides)', async () => {
    const modules = '<modules><module name="presentation"><document url="https://slides.example/deck.pdf" filename="deck.pdf"/></module></modules>';
    await clientFor(t1).create({ meetingID: 'gw-slides', name: 'With slides' }, { presentationXml: modules });
    expect(bbbA.meetings.get('gw-slides')?.presentations).toEqual(['deck.pdf']);
    expect(bbbA.requests.at(-1)).toMatchObject({ method: 'POST', call: 'create' });
  });

  it("answers the API root itself, as Scalelite does: never the cluster's body", async () => {
    const before = bbbA.requests.length;
    const res = await fetch(`${gatewayUrl(t1.slug)}`);
    expect(res.status).toBe(200);
    const xml = parseResponse(await res.text());
    expect(text(xml, 'returncode')).toBe('SUCCESS');
    expect(text(xml, 'version')).toBe('2.0');
    expect(text(xml, 'bbbVersion')).toBeUndefined(); // the cluster's root says 3.0.0
    expect(bbbA.requests.length).toBe(before);
    // What a BBB client reads from it.
    expect(await clientFor(t1).version()).toEqual({ version: '2.0', apiVersion: '2.0' });
  });

  it('finds the tenancy by host name as well as by path', async () => {
    const query = signQuery('getMeetingInfo', { meetingID: 'gw-room-1' }, t1.bbbSecret, 'sha256');
    const body = await new Promise<string>((resolve, reject) => {
      const port = new URL(s.url).port;
      const req = request({ host: '127.0.0.1', port, path: `/bigbluebutton/api/getMeetingInfo?${query}`, headers: { host: `${t1.slug}.gw.test:${port}` } }, (res) => {
        let data = '';
        res.on('data', (d) => (data += d));
        res.on('end', () => resolve(data));
      });
      req.on('error', reject);
      req.end();
    });
    expect(text(parseResponse(body), 'meetingID')).toBe('gw-room-1');
    // A host outside the suffix names no tenancy.
    const plain = await fetch(`${s.url}/bigbluebutton/api/getMeetingInfo?${query}`);
    expect(text(parseResponse(await plain.text()), 'messageKey')).toBe('checksumError');
  });
});

describe('refusals, in BBB style', () => {
  const failure = (xml: Record<string, unknown>) => ({ returncode: text(xml as never, 'returncode'), messageKey: text(xml as never, 'messageKey') });

  it('refuses a wrong checksum, another tenancy\'s checksum and an unknown tenancy alike', async () => {
    const params = { meetingID: 'gw-room-1' };
    const good = await call(t1.slug, 'isMeetingRunning', params, t1.bbbSecret);
    expect(failure(good.xml)).toEqual({ returncode: 'SUCCESS', messageKey: undefined });
    const tampered = await fetch(`${s.url}/t/${t1.slug}/bigbluebutton/api/isMeetingRunning?${signQuery('isMeetingRunning', params, t1.bbbSecret, 'sha1')}x`);
    expect(failure(parseResponse(await tampered.text()))).toEqual({ returncode: 'FAILED', messageKey: 'checksumError' });
    const other = await call(t1.slug, 'isMeetingRunning', params, t2.bbbSecret);
    expect(other.status).toBe(200);
    expect(failure(other.xml)).toEqual({ returncode: 'FAILED', messageKey: 'checksumError' });
    const unknown = await call('no-such-tenancy', 'isMeetingRunning', params, t1.bbbSecret);
    expect(failure(unknown.xml)).toEqual({ returncode: 'FAILED', messageKey: 'checksumError' });
    const before = bbbA.requests.length;
    await call(t1.slug, 'create', { meetingID: 'never', name: 'Never' }, t2.bbbSecret);
    expect(bbbA.requests.length).toBe(before); // nothing reached the cluster
  });

  it('answers unsupportedRequest to calls it does not forward, like Scalelite', async () => {
    for (const name of ['insertDocument', 'getDefaultConfigXML', 'hooks', 'nonsense']) {
      const r = await call(t1.slug, name, { meetingID: 'gw-room-1' }, t1.bbbSecret);
      expect(failure(r.xml)).toEqual({ returncode: 'FAILED', messageKey: 'unsupportedRequest' });
    }
  });

  it('answers unsupportedRequest in BBB XML to deeper paths (bbb-webhooks, anything else), by path and by host name', async () => {
    const before = bbbA.requests.length;
    for (const name of ['hooks/create', 'hooks/list', 'hooks/destroy', 'a/b', 'create/x']) {
      const query = signQuery(name, { callbackURL: 'https://hooks.example/cb', meetingID: 'gw-room-1' }, t1.bbbSecret, 'sha1');
      for (const method of ['GET', 'POST']) {
        const res = await fetch(`${gatewayUrl(t1.slug)}/${name}?${query}`, { method });
        expect(res.status, `${method} ${name}`).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/xml/);
        expect(failure(parseResponse(await res.text()))).toEqual({ returncode: 'FAILED', messageKey: 'unsupportedRequest' });
      }
    }
    const port = new URL(s.url).port;
    const byHost = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/bigbluebutton/api/hooks/create?checksum=0', headers: { host: `${t1.slug}.gw.test:${port}` } }, (res) => {
        let data = '';
        res.on('data', (d) => (data += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(byHost.status).toBe(200);
    expect(failure(parseResponse(byHost.body))).toEqual({ returncode: 'FAILED', messageKey: 'unsupportedRequest' });
    expect(bbbA.requests.length).toBe(before);
  });

  it('compares checksums as lower-case hex: the right digest in upper case is a checksumError', async () => {
    const params = { meetingID: 'gw-room-1' };
    for (const alg of ['sha1', 'sha256'] as const) {
      const signed = signQuery('getMeetingInfo', params, t1.bbbSecret, alg);
      const upper = signed.replace(/checksum=([0-9a-f]+)$/, (_m, sum: string) => `checksum=${sum.toUpperCase()}`);
      expect(upper).not.toBe(signed);
      const before = bbbA.requests.length;
      const refused = await fetch(`${gatewayUrl(t1.slug)}/getMeetingInfo?${upper}`);
      expect(failure(parseResponse(await refused.text()))).toEqual({ returncode: 'FAILED', messageKey: 'checksumError' });
      expect(bbbA.requests.length).toBe(before);
      const accepted = await fetch(`${gatewayUrl(t1.slug)}/getMeetingInfo?${signed}`);
      expect(failure(parseResponse(await accepted.text()))).toEqual({ returncode: 'SUCCESS', messageKey: undefined });
    }
  });

  it('refuses create while the tenancy is frozen, and still lets people join a running meeting', async () => {
    const frozen = await createTenancy(s, coop.id, clusterA.id);
    const client = clientFor(frozen);
    await client.create({ meetingID: 'gw-frozen-room', name: 'Running before' });
    await fetch(client.join({ meetingID: 'gw-frozen-room', fullName: 'Early', role: 'MODERATOR' }), { redirect: 'manual' });
    await s.database.db.execute(sql`update tenancies set state = 'frozen' where id = ${frozen.id}`);
    // Written by SQL, not through the server: say so to its caches, as a write of its own does (the database's
    // notice arrives a few milliseconds later, and the next call may come first; across processes the
    // promise is within 1 s, tested in cross-process.db.test.ts).
    changeFeed(s.database.db).bump('tenancies');
    const err = await client.create({ meetingID: 'gw-frozen-new', name: 'New one' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BbbError);
    expect((err as BbbError).messageKey).toBe('tenancyFrozen');
    expect((err as BbbError).message).toMatch(/frozen while it moves/);
    expect(bbbA.meetings.has('gw-frozen-new')).toBe(false);
    const join = await fetch(client.join({ meetingID: 'gw-frozen-room', fullName: 'Late', role: 'VIEWER' }), { redirect: 'manual' });
    expect(join.status).toBe(302);
    expect(await client.isMeetingRunning('gw-frozen-room')).toBe(true);
  });

  it('refuses a POST body on anything but create', async () => {
    const res = await fetch(`${gatewayUrl(t1.slug)}/getMeetings?${signQuery('getMeetings', {}, t1.bbbSecret, 'sha1')}`, {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: '<x/>',
    });
    expect(failure(parseResponse(await res.text()))).toEqual({ returncode: 'FAILED', messageKey: 'unsupportedContentType' });
  });
});

describe('answers as BBB gives them', () => {
  it('a tenancy with no meetings gets SUCCESS with noMeetings, as bbb-web answers', async () => {
    const t = await createTenancy(s, coop.id, clusterA.id);
    const { xml } = await call(t.slug, 'getMeetings', {}, t.bbbSecret);
    expect([text(xml, 'returncode'), text(xml, 'messageKey'), text(xml, 'message')]).toEqual(['SUCCESS', 'noMeetings', 'no meetings were found on this server']);
  });

  it('create without a meetingID gets the cluster\'s own refusal every time', async () => {
    const t = await createTenancy(s, coop.id, clusterA.id);
    for (let i = 0; i < 2; i++) {
      const { xml } = await call(t.slug, 'create', { name: 'No id' }, t.bbbSecret);
      expect([text(xml, 'returncode'), text(xml, 'messageKey')]).toEqual(['FAILED', 'missingParamMeetingID']);
    }
  });

  it('create without a recording-ready URL gives the cluster none', async () => {
    await clientFor(t1).create({ meetingID: 'gw-no-callback', name: 'No callback', record: true });
    expect(bbbA.meetings.get('gw-no-callback')?.metadata).toEqual({ 'meetplane-tenancy': t1.id });
  });

  it("create's POST body is taken as application/xml with a charset, and as text/xml", async () => {
    const modules = '<modules><module name="presentation"><document url="https://slides.example/a.pdf" filename="a.pdf"/></module></modules>';
    for (const [meetingID, type] of [['gw-xml-charset', 'application/xml; charset=UTF-8'], ['gw-text-xml', 'text/xml']] as const) {
      const res = await fetch(`${gatewayUrl(t1.slug)}/create?${signQuery('create', { meetingID, name: meetingID }, t1.bbbSecret, 'sha1')}`, {
        method: 'POST',
        headers: { 'content-type': type },
        body: modules,
      });
      expect(text(parseResponse(await res.text()), 'returncode'), type).toBe('SUCCESS');
      expect(bbbA.meetings.get(meetingID)?.presentations).toEqual(['a.pdf']);
    }
  });

  it('end of a meeting the current cluster no longer has is asked of it once, and answered as it answers', async () => {
    await clientFor(t1).create({ meetingID: 'gw-ended-inside', name: 'Ended inside the client' });
    const end = signQuery('end', { meetingID: 'gw-ended-inside' }, SECRET_A, 'sha256');
    expect(await (await fetch(`${bbbA.url}/end?${end}`)).text()).toContain('SUCCESS');
    const asked = bbbA.requests.length;
    const { xml } = await call(t1.slug, 'end', { meetingID: 'gw-ended-inside' }, t1.bbbSecret);
    expect([text(xml, 'returncode'), text(xml, 'messageKey')]).toEqual(['FAILED', 'notFound']);
    expect(bbbA.requests.slice(asked).map((r) => r.call)).toEqual(['end']);
  });
});

describe('an archived tenancy', () => {
  it('is answered tenancyArchived to every call, and no call reaches its cluster', async () => {
    const t = await createTenancy(s, coop.id, clusterA.id);
    const path = `/api/v1/tenancies/${t.id}`;
    const etag = (await s.api('GET', path)).headers.get('etag')!;
    expect((await s.api('PATCH', path, { body: { state: 'archived' }, headers: { 'if-match': etag } })).json.state).toBe('archived');
    const asked = bbbA.requests.length;
    for (const [name, params] of [
      ['create', { meetingID: 'gw-archived', name: 'Archived' }],
      ['join', { meetingID: 'gw-archived', fullName: 'Ada', role: 'MODERATOR' }],
      ['getMeetings', {}],
      ['getRecordings', {}],
      ['deleteRecordings', { recordID: 'any' }],
    ] as const) {
      const { xml } = await call(t.slug, name, params, t.bbbSecret);
      expect([text(xml, 'returncode'), text(xml, 'messageKey'), text(xml, 'message')], name).toEqual([
        'FAILED',
        'tenancyArchived',
        'This tenancy is archived: its meetings and recordings are no longer served.',
      ]);
    }
    expect(bbbA.requests.slice(asked)).toEqual([]);
    // Checked before: a wrong secret is still a checksumError, not a hint that the tenancy exists.
    expect(text((await call(t.slug, 'getMeetings', {}, t2.bbbSecret)).xml, 'messageKey')).toBe('checksumError');
  });
});

describe('isolation between tenancies on one cluster', () => {
  it("never shows or lets anyone touch another tenancy's meetings", async () => {
    await clientFor(t2).create({ meetingID: 'gw-t2-room', name: 'T2 room' });
    const t1Meetings = (await clientFor(t1).getMeetings()).map((m) => m.meetingID);
    const t2Meetings = (await clientFor(t2).getMeetings()).map((m) => m.meetingID);
    expect(t1Meetings).toContain('gw-room-1');
    expect(t1Meetings).not.toContain('gw-t2-room');
    expect(t2Meetings).toEqual(['gw-t2-room']);
    // The cluster itself has both.
    expect(bbbA.meetings.has('gw-room-1') && bbbA.meetings.has('gw-t2-room')).toBe(true);

    const t2c = clientFor(t2);
    expect(await t2c.isMeetingRunning('gw-room-1')).toBe(false);
    await expect(t2c.getMeetingInfo('gw-room-1')).rejects.toMatchObject({ messageKey: 'notFound' });
    await expect(t2c.end('gw-room-1')).rejects.toMatchObject({ messageKey: 'notFound' });
    // Same id, same (absent) passwords: BBB would hand back t1's meeting; the gateway refuses.
    await expect(t2c.create({ meetingID: 'gw-room-1', name: 'Hijack' })).rejects.toMatchObject({ messageKey: 'idNotUnique' });
    const join = await call(t2.slug, 'join', { meetingID: 'gw-room-1', fullName: 'Mallory', role: 'MODERATOR', redirect: 'false' }, t2.bbbSecret);
    expect(text(join.xml, 'messageKey')).toBe('invalidMeetingIdentifier');
    expect(bbbA.meetings.get('gw-room-1')?.attendees.map((a) => a.fullName)).not.toContain('Mallory');
    expect(bbbA.meetings.has('gw-room-1')).toBe(true);
  });

  it("never shows or lets anyone change another tenancy's recordings", async () => {
    const mine = await writeRecording(dirA, { meetingId: 'gw-room-1', name: 'Room one', meta: { 'meetplane-tenancy': t1.id }, host: bbbA.origin, files: { 'video/webcams.webm': 'WEBM' } });
    const theirs = await writeRecording(dirA, { meetingId: 'gw-t2-room', name: 'T2 room', meta: { 'meetplane-tenancy': t2.id }, host: bbbA.origin });
    await writeRecording(dirA, { meetingId: 'direct', name: 'Made without meetplane', host: bbbA.origin });

    expect((await clientFor(t1).getRecordings()).map((r) => r.recordID)).toEqual([mine.recordId]);
    expect((await clientFor(t2).getRecordings()).map((r) => r.recordID)).toEqual([theirs.recordId]);
    // Asking for the other's tag, or by record id, changes nothing.
    const sneaky = await call(t2.slug, 'getRecordings', { 'meta_meetplane-tenancy': t1.id, recordID: mine.recordId }, t2.bbbSecret);
    expect(text(sneaky.xml, 'messageKey')).toBe('noRecordings');
    const upper = await call(t2.slug, 'getRecordings', { 'META_MEETPLANE-TENANCY': '%' }, t2.bbbSecret);
    expect(children(upper.xml['recordings'], 'recording').map((r) => text(r, 'recordID'))).toEqual([theirs.recordId]);

    const t2c = clientFor(t2);
    await expect(t2c.deleteRecordings(mine.recordId)).rejects.toMatchObject({ messageKey: 'notFound' });
    await expect(t2c.publishRecordings(mine.recordId, false)).rejects.toMatchObject({ messageKey: 'notFound' });
    await expect(t2c.updateRecordings(mine.recordId, { 'meetplane-tenancy': t2.id })).rejects.toMatchObject({ messageKey: 'notFound' });
    // Its own tag cannot be changed by the owner either.
    expect(await clientFor(t1).updateRecordings(mine.recordId, { 'meetplane-tenancy': t2.id, note: 'kept' })).toBe(true);
    const [after] = await clientFor(t1).getRecordings();
    expect(after?.metadata).toMatchObject({ 'meetplane-tenancy': t1.id, note: 'kept' });
    // BBB answers the new published flag.
    expect(await clientFor(t1).publishRecordings(mine.recordId, false)).toBe(false);
    expect((await clientFor(t1).getRecordings({ state: ['unpublished'] })).map((r) => r.recordID)).toEqual([mine.recordId]);
    expect(await clientFor(t1).publishRecordings(mine.recordId, true)).toBe(true);
  });
});

describe('switching clusters', () => {
  it('sends the next create to the new cluster with no change on the client side', async () => {
    const t = await createTenancy(s, coop.id, clusterA.id);
    const client = clientFor(t, 'sha384');
    await client.create({ meetingID: 'gw-move-1', name: 'Before the move' });
    expect(bbbA.meetings.has('gw-move-1')).toBe(true);

    const path = `/api/v1/tenancies/${t.id}`;
    const etag = (await s.api('GET', path)).headers.get('etag')!;
    const patched = await s.api('PATCH', path, { body: { cluster: clusterB.id }, headers: { 'if-match': etag } });
    expect(patched.status).toBe(200);

    await client.create({ meetingID: 'gw-move-2', name: 'After the move' });
    expect(bbbB.meetings.get('gw-move-2')?.metadata['meetplane-tenancy']).toBe(t.id);
    expect(bbbA.meetings.has('gw-move-2')).toBe(false);
    // B only accepts sha512: the gateway signed with B's algorithm, not the client's.
    expect(bbbB.requests.at(-1)!.query).toMatch(/checksum=[0-9a-f]{128}$/);
    // gw-move-1 was created on A before the move and still exists there (moved-tenancy.db.test.ts has the rest).
    expect((await client.getMeetings()).map((m) => m.meetingID).sort()).toEqual(['gw-move-1', 'gw-move-2']);
  });
});

describe('recording-ready callbacks', () => {
  let receiver: Server;
  let received: string[] = [];
  let receiverUrl: string;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push(body);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/recording-ready`;
  });
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

  it("points the cluster at meetplane and relays the callback signed with the tenancy's secret", async () => {
    await clientFor(t1).create({ meetingID: 'gw-rec-room', name: 'Recorded', record: true, meta: { 'bbb-recording-ready-url': receiverUrl } });
    const stored = bbbA.meetings.get('gw-rec-room')!.metadata['bbb-recording-ready-url'];
    expect(stored).toMatch(new RegExp(`/t/${t1.id}/bigbluebutton/recording-ready$`));
    const callbackPath = new URL(stored!).pathname;

    // What bbb-web's recording_ready_callback sends: the cluster's secret, HS256.
    const jwt = await new SignJWT({ meeting_id: 'gw-rec-room', record_id: 'rec-1' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET_A));
    received = [];
    const res = await fetch(s.url + callbackPath, { method: 'POST', body: new URLSearchParams({ signed_parameters: jwt }) });
    expect(res.status).toBe(200);
    expect(received).toHaveLength(1);
    const relayed = new URLSearchParams(received[0]).get('signed_parameters')!;
    const { payload } = await jwtVerify(relayed, new TextEncoder().encode(t1.bbbSecret), { algorithms: ['HS256'] });
    expect(payload).toMatchObject({ meeting_id: 'gw-rec-room', record_id: 'rec-1' });

    // Forged (tenancy's secret, not the cluster's), or for another tenancy's meeting: refused, nothing relayed.
    received = [];
    const forged = await new SignJWT({ meeting_id: 'gw-rec-room', record_id: 'rec-2' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(t1.bbbSecret));
    expect((await fetch(s.url + callbackPath, { method: 'POST', body: new URLSearchParams({ signed_parameters: forged }) })).status).toBe(401);
    const t2Path = `/t/${t2.id}/bigbluebutton/recording-ready`;
    expect((await fetch(s.url + t2Path, { method: 'POST', body: new URLSearchParams({ signed_parameters: jwt }) })).status).toBe(404);
    expect((await fetch(s.url + callbackPath, { method: 'POST', body: new URLSearchParams({ x: '1' }) })).status).toBe(400);
    expect(received).toEqual([]);
  });
});

describe('what the gateway keeps quiet', () => {
  it('never writes a secret or a checksum to the log', () => {
    const logs = s.logs();
    for (const secret of [SECRET_A, SECRET_B, t1.bbbSecret, t2.bbbSecret]) expect(logs).not.toContain(secret);
    expect(logs).not.toMatch(/checksum=/);
  });
});
