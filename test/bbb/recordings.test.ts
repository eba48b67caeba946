import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BbbClient } from '../../server/bbb/client.js';
import { parseXml } from '../../server/bbb/xml.js';
import { internalMeetingId, writeRecording } from '../support/bbb/recordings.js';
import { startBbbDouble, type BbbDouble } from '../support/bbb/server.js';

const SECRET = 'recordings-secret-0123456789';
const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 0, 6, 9);

let dir: string;
let bbb: BbbDouble;
let c: BbbClient;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bbb-recordings-'));
  bbb = await startBbbDouble({ secret: SECRET, recordingsDir: dir });
  c = new BbbClient({ apiUrl: bbb.url, secret: SECRET, algorithm: 'sha1', fetch });
});

afterEach(async () => {
  await bbb.close();
  await rm(dir, { recursive: true, force: true });
});

const record = (meetingId: string, startTime: number, meta: Record<string, string> = {}, files: Record<string, string> = {}) =>
  writeRecording(dir, { meetingId, name: `Meeting ${meetingId}`, startTime, endTime: startTime + HOUR / 2, meta, files, host: bbb.origin });

describe('recordings on the BBB double', () => {
  it('lists a recording once its files are placed, as a real server publishes it', async () => {
    expect(await c.getRecordings()).toEqual([]);
    const written = await record('room-a', T0, { 'gl-listed': 'true' }, { 'video/webcams.webm': 'WEBM', 'shapes.svg': '<svg/>' });
    expect(written.recordId).toBe(internalMeetingId('room-a', T0));

    const [rec, ...others] = await c.getRecordings();
    expect(others).toEqual([]);
    expect(rec).toMatchObject({
      recordID: written.recordId,
      meetingID: 'room-a',
      internalMeetingID: written.recordId,
      name: 'Meeting room-a',
      published: true,
      state: 'published',
      startTime: T0,
      endTime: T0 + HOUR / 2,
      participants: 1,
      isBreakout: false,
    });
    expect(rec?.metadata).toEqual({ isBreakout: 'false', meetingId: 'room-a', meetingName: 'Meeting room-a', 'gl-listed': 'true' });
    expect(rec?.playback).toEqual([
      { type: 'presentation', url: `${bbb.origin}/playback/presentation/2.3/${written.recordId}`, processingTime: 1000, length: 30, preview: [] },
    ]);

    const metadata = parseXml(await readFile(join(written.dir, 'metadata.xml'), 'utf8'));
    expect(metadata['recording']).toMatchObject({
      id: written.recordId,
      meeting: { '@_id': written.recordId, '@_externalId': 'room-a', '@_name': 'Meeting room-a', '@_breakout': 'false' },
      playback: { format: 'presentation', size: '10' },
      raw_size: '10',
    });
  });

  it('serves the player page and the playback files of published recordings', async () => {
    const { recordId, playbackUrl } = await record('room-b', T0, {}, { 'video/webcams.webm': 'webcam bytes' });
    expect((await fetch(playbackUrl)).status).toBe(200);
    const video = await fetch(`${bbb.origin}/presentation/${recordId}/video/webcams.webm`);
    expect(video.headers.get('content-type')).toBe('video/webm');
    expect(await video.text()).toBe('webcam bytes');
    expect((await fetch(`${bbb.origin}/presentation/${recordId}/video/missing.webm`)).status).toBe(404);
    expect((await fetch(`${bbb.origin}/presentation/${recordId}/%2e%2e/%2e%2e/etc/passwd`)).status).toBe(404);
    expect((await fetch(`${bbb.origin}/playback/presentation/2.3/${recordId}x`)).status).toBe(404);
  });

  it('groups the formats of one recording', async () => {
    const { recordId } = await record('room-c', T0);
    await writeRecording(dir, { recordId, meetingId: 'room-c', name: 'Meeting room-c', format: 'video', startTime: T0, endTime: T0 + HOUR, host: bbb.origin, files: { 'video-0.m4v': 'v' } });
    const [rec] = await c.getRecordings({ recordID: recordId });
    expect(rec?.playback.map((p) => [p.type, p.url])).toEqual([
      ['presentation', `${bbb.origin}/playback/presentation/2.3/${recordId}`],
      ['video', `${bbb.origin}/playback/video/${recordId}/`],
    ]);
  });

  it('filters by meeting ids, record ids and record id prefixes', async () => {
    const a1 = await record('room-a', T0);
    const a2 = await record('room-a', T0 + HOUR);
    const b1 = await record('room-b', T0 + 2 * HOUR);
    const ids = async (q: Parameters<BbbClient['getRecordings']>[0]) => (await c.getRecordings(q)).map((r) => r.recordID);
    expect(await ids({})).toEqual([a1.recordId, a2.recordId, b1.recordId]);
    expect(await ids({ meetingID: 'room-a' })).toEqual([a1.recordId, a2.recordId]);
    expect(await ids({ meetingID: ['room-b', 'room-z'] })).toEqual([b1.recordId]);
    expect(await ids({ recordID: [b1.recordId, a1.recordId] })).toEqual([a1.recordId, b1.recordId]);
    expect(await ids({ recordID: a2.recordId.split('-')[0]! })).toEqual([a1.recordId, a2.recordId]);
    expect(await ids({ recordID: b1.recordId, meetingID: 'room-a' })).toEqual([b1.recordId]);
  });

  it('filters by metadata, all filters together, with % wildcards', async () => {
    const a = await record('room-a', T0, { 'bbb-context': 'Course 101', 'gl-listed': 'true' });
    const b = await record('room-b', T0 + HOUR, { 'bbb-context': 'Course 102', 'gl-listed': 'false' });
    await record('room-c', T0 + 2 * HOUR);
    const ids = async (meta: Record<string, string>) => (await c.getRecordings({ meta })).map((r) => r.recordID);
    expect(await ids({ 'gl-listed': 'true' })).toEqual([a.recordId]);
    expect(await ids({ 'bbb-context': 'Course%' })).toEqual([a.recordId, b.recordId]);
    expect(await ids({ 'bbb-context': '%102' })).toEqual([b.recordId]);
    expect(await ids({ 'bbb-context': '%urse 10%', 'gl-listed': 'false' })).toEqual([b.recordId]);
    expect(await ids({ 'BBB-Context': 'Course 101' })).toEqual([a.recordId]);
    expect(await ids({ 'bbb-context': 'Course 103' })).toEqual([]);
  });

  it('pages with offset and limit', async () => {
    const all = [];
    for (let i = 0; i < 5; i++) all.push((await record(`room-${i}`, T0 + i * HOUR)).recordId);
    const page = async (offset: number, limit: number) => (await c.getRecordings({ offset, limit })).map((r) => r.recordID);
    expect(await page(0, 2)).toEqual(all.slice(0, 2));
    expect(await page(2, 2)).toEqual(all.slice(2, 4));
    expect(await page(4, 2)).toEqual(all.slice(4));
    expect(await page(5, 2)).toEqual([]);
    await expect(c.getRecordings({ limit: 101 })).rejects.toThrow(RangeError);
    await expect(c.getRecordings({ offset: -1 })).rejects.toThrow(RangeError);
  });

  it('unpublishes, filters by state, and publishes again', async () => {
    const a = await record('room-a', T0, {}, { 'video/webcams.webm': 'w' });
    const b = await record('room-b', T0 + HOUR);
    expect(await c.publishRecordings(a.recordId, false)).toBe(false);
    expect((await c.getRecordings()).map((r) => [r.recordID, r.state, r.published])).toEqual([
      [a.recordId, 'unpublished', false],
      [b.recordId, 'published', true],
    ]);
    expect((await c.getRecordings({ state: ['published'] })).map((r) => r.recordID)).toEqual([b.recordId]);
    expect((await fetch(a.playbackUrl)).status).toBe(404);
    expect((await fetch(`${bbb.origin}/presentation/${a.recordId}/video/webcams.webm`)).status).toBe(404);

    expect(await c.publishRecordings([a.recordId, b.recordId], true)).toBe(true);
    expect((await c.getRecordings({ state: ['published'] })).map((r) => r.recordID)).toEqual([a.recordId, b.recordId]);
    expect((await fetch(a.playbackUrl)).status).toBe(200);
    await expect(c.publishRecordings('no-such-recording', true)).rejects.toMatchObject({ messageKey: 'notFound' });
  });

  it('keeps each recording in the tree of its state, as /var/bigbluebutton does', async () => {
    const a = await record('room-a', T0, {}, { 'video/webcams.webm': 'w' });
    expect(a.dir).toBe(join(dir, 'published', 'presentation', a.recordId));
    expect(await c.publishRecordings(a.recordId, false)).toBe(false);
    await expect(access(a.dir)).rejects.toThrow();
    expect(await readFile(join(dir, 'unpublished', 'presentation', a.recordId, 'video/webcams.webm'), 'utf8')).toBe('w');
    expect((await fetch(a.playbackUrl)).status).toBe(404);
    expect(await c.publishRecordings(a.recordId, true)).toBe(true);
    expect(await readFile(join(a.dir, 'video/webcams.webm'), 'utf8')).toBe('w');
    await expect(access(join(dir, 'unpublished', 'presentation', a.recordId))).rejects.toThrow();
    // Written straight into the unpublished tree: listed as unpublished, never served.
    const u = await writeRecording(dir, { meetingId: 'room-u', name: 'U', state: 'unpublished', host: bbb.origin, files: { 'shapes.svg': '<svg/>' } });
    expect(u.dir).toBe(join(dir, 'unpublished', 'presentation', u.recordId));
    expect((await c.getRecordings({ state: ['unpublished'] })).map((r) => r.recordID)).toEqual([u.recordId]);
    expect((await fetch(u.playbackUrl)).status).toBe(404);
    expect((await fetch(`${bbb.origin}/presentation/${u.recordId}/shapes.svg`)).status).toBe(404);
  });

  it('only shows other states when asked for them', async () => {
    const a = await record('room-a', T0);
    const meta = join(a.dir, 'metadata.xml');
    await writeFile(meta, (await readFile(meta, 'utf8')).replace('<state>published</state>', '<state>processing</state>'));
    expect(await c.getRecordings()).toEqual([]);
    expect((await c.getRecordings({ state: 'any' })).map((r) => r.state)).toEqual(['processing']);
    expect((await c.getRecordings({ state: ['processing', 'published'] })).map((r) => r.state)).toEqual(['processing']);
  });

  it('writes metadata updates back to metadata.xml', async () => {
    const a = await record('room-a', T0, { 'gl-listed': 'true', course: 'math' });
    expect(await c.updateRecordings(a.recordId, { 'gl-listed': 'false', Term: 'Fall2025', course: '' })).toBe(true);
    const metadata = parseXml(await readFile(join(a.dir, 'metadata.xml'), 'utf8'));
    expect(metadata['recording']).toMatchObject({
      meta: { isBreakout: 'false', meetingId: 'room-a', meetingName: 'Meeting room-a', 'gl-listed': 'false', term: 'Fall2025' },
    });
    expect((await c.getRecordings())[0]?.metadata).toEqual({
      isBreakout: 'false',
      meetingId: 'room-a',
      meetingName: 'Meeting room-a',
      'gl-listed': 'false',
      term: 'Fall2025',
    });
    await expect(c.updateRecordings('no-such-recording', { a: 'b' })).rejects.toMatchObject({ messageKey: 'notFound' });
  });

  it('deletes a recording by moving its directories to the deleted tree', async () => {
    const a = await record('room-a', T0, {}, { 'video/webcams.webm': 'w' });
    const b = await record('room-b', T0 + HOUR);
    expect(await c.deleteRecordings(a.recordId)).toBe(true);
    await expect(access(a.dir)).rejects.toThrow();
    expect(await readFile(join(dir, 'deleted', 'presentation', a.recordId, 'video/webcams.webm'), 'utf8')).toBe('w');
    expect((await c.getRecordings()).map((r) => r.recordID)).toEqual([b.recordId]);
    expect((await c.getRecordings({ state: ['deleted'] })).map((r) => [r.recordID, r.state])).toEqual([[a.recordId, 'deleted']]);
    expect((await fetch(a.playbackUrl)).status).toBe(404);
    await expect(c.deleteRecordings(a.recordId)).rejects.toMatchObject({ messageKey: 'notFound' });
  });
});
