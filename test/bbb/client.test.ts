import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BbbClient, BbbError, BbbTransportError, type BbbClientOptions } from '../../server/bbb/client.js';
import { CHECKSUM_ALGORITHMS } from '../../server/bbb/checksum.js';
import { startBbbDouble, type BbbDouble } from '../support/bbb/server.js';

const SECRET = 'Lz3ubEYDa2Ex8NRsFVNTSgmCaVT4eTp3iYwI6VyO4';

let dir: string;
let bbb: BbbDouble;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bbb-client-'));
  bbb = await startBbbDouble({ secret: SECRET, recordingsDir: dir });
});

afterEach(async () => {
  await bbb.close();
  await rm(dir, { recursive: true, force: true });
});

const client = (over: Partial<BbbClientOptions> = {}): BbbClient =>
  new BbbClient({ apiUrl: bbb.url, secret: SECRET, algorithm: 'sha256', retryDelayMs: 10, fetch, ...over });

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('expected a rejection'),
    (err: unknown) => err,
  );
}

describe('BbbClient against the BBB double', () => {
  it.each(CHECKSUM_ALGORITHMS)('runs a meeting signed with %s', async (algorithm) => {
    const c = client({ algorithm });
    const created = await c.create({ meetingID: 'room-1', name: 'Room one', record: true, meta: { 'bbb-origin': 'meetplane' } });
    expect(created).toMatchObject({ meetingID: 'room-1', parentMeetingID: 'bbb-none', hasUserJoined: false });
    expect(created.internalMeetingID).toMatch(/^[0-9a-f]{40}-\d+$/);
    expect(created.createDate).toMatch(/^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4}$/);
    expect(created.messageKey).toBeUndefined();
    expect(await c.isMeetingRunning('room-1')).toBe(false);

    const joined = await fetch(c.join({ meetingID: 'room-1', fullName: 'Ada', role: 'MODERATOR', createTime: created.createTime }), {
      redirect: 'manual',
    });
    expect(joined.status).toBe(302);
    expect(joined.headers.get('location')).toMatch(new RegExp(`^${bbb.origin}/html5client/join\\?sessionToken=\\w+$`));

    expect(await c.isMeetingRunning('room-1')).toBe(true);
    const info = await c.getMeetingInfo('room-1');
    expect(info).toMatchObject({ meetingName: 'Room one', running: true, recording: true, participantCount: 1, moderatorCount: 1 });
    expect(info.attendees).toEqual([expect.objectContaining({ fullName: 'Ada', role: 'MODERATOR' })]);
    expect(info.metadata).toEqual({ 'bbb-origin': 'meetplane' });

    await c.end('room-1');
    expect(await c.isMeetingRunning('room-1')).toBe(false);
    expect(await rejection(c.getMeetingInfo('room-1'))).toMatchObject({ name: 'BbbError', messageKey: 'notFound' });
    expect(await rejection(c.end('room-1'))).toMatchObject({ messageKey: 'notFound' });
  });

  it('answers duplicateWarning to a repeated create, idNotUnique when the passwords differ', async () => {
    const c = client();
    const first = await c.create({ meetingID: 'room-2', name: 'Room two', attendeePW: 'ap', moderatorPW: 'mp' });
    const again = await c.create({ meetingID: 'room-2', name: 'Room two', attendeePW: 'ap', moderatorPW: 'mp' });
    expect(again).toMatchObject({ messageKey: 'duplicateWarning', internalMeetingID: first.internalMeetingID, createTime: first.createTime });
    const err = await rejection(c.create({ meetingID: 'room-2', name: 'Room two', attendeePW: 'x1', moderatorPW: 'mp' }));
    expect(err).toBeInstanceOf(BbbError);
    expect(err).toMatchObject({ messageKey: 'idNotUnique' });
    expect(bbb.meetings.size).toBe(1);
  });

  it('sends pre-uploaded slides as a POSTed presentation module', async () => {
    const modules =
      '<modules><module name="presentation"><document url="https://files.example/deck.pdf" filename="deck.pdf"/></module></modules>';
    await client().create({ meetingID: 'room-3', name: 'Room three' }, { presentationXml: modules });
    expect(bbb.meetings.get('room-3')?.presentations).toEqual(['deck.pdf']);
    expect(bbb.requests.at(-1)).toMatchObject({ method: 'POST', call: 'create' });
  });

  it('reports validation errors with their message keys', async () => {
    const c = client();
    expect(await rejection(c.create({ meetingID: 'a,b', name: 'Commas' }))).toMatchObject({ messageKey: 'validationError' });
    expect(await rejection(c.create({ meetingID: 'room-4' }))).toMatchObject({ messageKey: 'validationError' });
    expect(await rejection(c.isMeetingRunning(''))).toMatchObject({ messageKey: 'missingParamMeetingID' });
  });

  it('joins with redirect=false as XML, checks passwords and createTime', async () => {
    const c = client();
    const m = await c.create({ meetingID: 'room-5', name: 'Room five', attendeePW: 'ap', moderatorPW: 'mp' });
    const xml = await (await fetch(c.join({ meetingID: 'room-5', fullName: 'Bo', password: 'ap', redirect: false }))).text();
    expect(xml).toContain('<messageKey>successfullyJoined</messageKey>');
    expect(xml).toContain(`<meeting_id>${m.internalMeetingID}</meeting_id>`);
    const wrongPassword = await (await fetch(c.join({ meetingID: 'room-5', fullName: 'Cy', password: 'nope' }))).text();
    expect(wrongPassword).toContain('<messageKey>invalidPassword</messageKey>');
    const staleLink = await (await fetch(c.join({ meetingID: 'room-5', fullName: 'Di', role: 'VIEWER', createTime: '1' }))).text();
    expect(staleLink).toContain('<messageKey>mismatchCreateTimeParam</messageKey>');
    expect((await c.getMeetingInfo('room-5')).attendees.map((a) => a.role)).toEqual(['VIEWER']);
  });

  it('lists meetings with the counts Scalelite computes its load from', async () => {
    const c = client();
    expect(await c.getMeetings()).toEqual([]);
    await c.create({ meetingID: 'room-6', name: 'Room six' });
    await c.create({ meetingID: 'room-7', name: 'Room seven' });
    for (const [fullName, role] of [['Ed', 'MODERATOR'], ['Flo', 'VIEWER'], ['Gus', 'VIEWER']] as const) {
      await fetch(c.join({ meetingID: 'room-7', fullName, role }), { redirect: 'manual' });
    }
    const meetings = await c.getMeetings();
    expect(meetings.map((m) => [m.meetingID, m.running, m.participantCount, m.moderatorCount, m.videoCount, m.isBreakout])).toEqual([
      ['room-6', false, 0, 0, 0, false],
      ['room-7', true, 3, 1, 0, false],
    ]);
  });

  it('reads the API version from the API root', async () => {
    expect(await client().version()).toEqual({ version: '2.0', apiVersion: '2.0', bbbVersion: '3.0.0' });
  });

  it('turns a wrong secret into checksumError without revealing the secret', async () => {
    const wrong = 'a-wrong-secret-that-must-not-leak';
    const err = await rejection(client({ secret: wrong }).getMeetings());
    expect(err).toBeInstanceOf(BbbError);
    expect(err).toMatchObject({ messageKey: 'checksumError', call: 'getMeetings' });
    const shown = `${String(err)} ${(err as Error).stack ?? ''} ${JSON.stringify(err)}`;
    expect(shown).not.toContain(wrong);
    expect(shown).not.toContain(SECRET);
  });

  it('is refused by a server that does not accept its algorithm', async () => {
    const strict = await startBbbDouble({ secret: SECRET, recordingsDir: dir, algorithm: 'sha512' });
    try {
      const err = await rejection(new BbbClient({ apiUrl: strict.url, secret: SECRET, algorithm: 'sha1', fetch }).getMeetings());
      expect(err).toMatchObject({ messageKey: 'checksumError' });
      expect(await new BbbClient({ apiUrl: strict.url, secret: SECRET, algorithm: 'sha512', fetch }).getMeetings()).toEqual([]);
    } finally {
      await strict.close();
    }
  });
});

describe('BbbClient transport', () => {
  it('retries a read-only call after a 500, with backoff', async () => {
    bbb.failNext(1);
    expect(await client({ retries: 2 }).getMeetings()).toEqual([]);
    expect(bbb.requests.map((r) => r.call)).toEqual(['getMeetings', 'getMeetings']);

    bbb.failNext(1);
    expect((await client({ retries: 1 }).version()).version).toBe('2.0');
    expect(bbb.requests.filter((r) => r.call === '')).toHaveLength(2);
  });

  it('never retries a call that changes something', async () => {
    const c = client({ retries: 3 });
    bbb.failNext(1);
    const err = await rejection(c.create({ meetingID: 'room-8', name: 'Room eight' }));
    expect(err).toBeInstanceOf(BbbTransportError);
    expect(err).toMatchObject({ reason: 'http', status: 500, call: 'create' });
    expect(bbb.requests.filter((r) => r.call === 'create')).toHaveLength(1);
    expect(bbb.meetings.size).toBe(0);

    await c.create({ meetingID: 'room-8', name: 'Room eight' });
    for (const call of [() => c.end('room-8'), () => c.publishRecordings('r', true), () => c.updateRecordings('r', { a: 'b' }), () => c.deleteRecordings('r')]) {
      bbb.failNext(1);
      expect(await rejection(call())).toMatchObject({ reason: 'http', status: 500 });
    }
    expect(bbb.requests.map((r) => r.call)).toEqual(['create', 'create', 'end', 'publishRecordings', 'updateRecordings', 'deleteRecordings']);
  });

  it('gives up after the retries and says the server is unreachable', async () => {
    let attempts = 0;
    const counting: typeof fetch = (input, init) => {
      attempts++;
      return fetch(input, init);
    };
    bbb.setOnline(false);
    const err = await rejection(client({ retries: 2, fetch: counting }).getMeetings());
    expect(err).toBeInstanceOf(BbbTransportError);
    expect(err).toMatchObject({ reason: 'network', call: 'getMeetings' });
    expect(String(err)).not.toContain(SECRET);
    expect(attempts).toBe(3);

    attempts = 0;
    expect(await rejection(client({ retries: 2, fetch: counting }).end('room-9'))).toMatchObject({ reason: 'network' });
    expect(attempts).toBe(1);

    bbb.setOnline(true);
    expect(await client({ fetch: counting }).getMeetings()).toEqual([]);
  });

  it('times out on a server that accepts and never answers', async () => {
    bbb.setOnline(false, 'hang');
    const started = Date.now();
    const err = await rejection(client({ timeoutMs: 150, retries: 1 }).isMeetingRunning('room-10'));
    expect(err).toMatchObject({ name: 'BbbTransportError', reason: 'timeout', call: 'isMeetingRunning' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(Date.now() - started).toBeLessThan(5_000);
    bbb.setOnline(true);
    expect(await client({ timeoutMs: 1_000 }).isMeetingRunning('room-10')).toBe(false);
  });

  it('does not mistake an HTML error page for an answer', async () => {
    const html: typeof fetch = async () => new Response('<html><body>Welcome to nginx!</body></html>', { status: 200 });
    expect(await rejection(client({ fetch: html }).getMeetings())).toMatchObject({ reason: 'protocol' });
  });
});
