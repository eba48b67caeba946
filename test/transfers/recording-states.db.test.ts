// Issue 18, finding 1: a BBB server keeps each recording in the tree of its
// state (/var/bigbluebutton/published, unpublished, deleted). A transfer copies
// every recording the inventory lists into the same tree at the target, checks
// what applies to its state (files and SHA-256 always, the listing in that
// state, playback only when published), and deletes it at the source from
// every tree. A recording the source's storage does not hold in any tree stops
// the transfer before the switch: nothing moved, the tenancy active at the source.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRecording } from '../support/bbb/recordings.js';
import { BbbClient } from '../../server/bbb/client.js';
import { advanceTransfer } from '../../server/transfers/execute.js';
import { gatewayCreate, startWorld, transferAudit, transferInNotice, ukTenancy, type World } from './world.js';

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('recordings in every state, through a transfer', () => {
  let w: World;
  beforeAll(async () => {
    // The source's storage configured the way it was before the trees were known: naming the published tree.
    w = await startWorld({ source: (root) => `file://${root}/published` });
  }, 60_000);
  afterAll(async () => w?.close());

  it('copies unpublished recordings into the unpublished tree, verifies them without playback, and deletes them at the source', async () => {
    const { peers } = w;
    const t = await ukTenancy(w, 'Hillside Choir');
    const meta = { 'meetplane-tenancy': t.id };
    const shown = await writeRecording(peers.dirs.source, { meetingId: 'concert', name: 'Concert', host: peers.source.origin, meta, files: { 'video/webcams.webm': Buffer.alloc(50_000, 1) } });
    const hidden = await writeRecording(peers.dirs.source, {
      meetingId: 'rehearsal',
      name: 'Rehearsal (not for the public)',
      host: peers.source.origin,
      meta,
      state: 'unpublished',
      files: { 'video/webcams.webm': Buffer.alloc(70_000, 2), 'shapes.svg': '<svg id="r"/>' },
    });
    // Unpublished on the source server through its API after it was recorded: moved to the unpublished tree there.
    const later = await writeRecording(peers.dirs.source, { meetingId: 'sectional', name: 'Sectional', host: peers.source.origin, meta, files: { 'shapes.svg': '<svg id="s"/>' } });
    const sourceApi = new BbbClient({ apiUrl: peers.source.url, secret: 'src-secret-18', algorithm: 'sha256', fetch });
    expect(await sourceApi.publishRecordings(later.recordId, false)).toBe(false);
    const hiddenFiles = { webm: sha(path.join(hidden.dir, 'video/webcams.webm')), svg: sha(path.join(hidden.dir, 'shapes.svg')) };

    const id = await transferInNotice(w, t);
    expect(await advanceTransfer(w.deps, id)).toEqual({ state: 'completed' });
    const status = (await w.s.api('GET', `/api/v1/transfers/${id}`)).json;
    expect(status.state, JSON.stringify(status.failure)).toBe('completed');
    expect(status.failure).toBeNull();

    // At the target each recording is in the tree of its state, byte for byte.
    const at = (tree: string, r: { recordId: string }, file: string) => path.join(peers.dirs.target, tree, 'presentation', r.recordId, file);
    expect(sha(at('unpublished', hidden, 'video/webcams.webm'))).toBe(hiddenFiles.webm);
    expect(sha(at('unpublished', hidden, 'shapes.svg'))).toBe(hiddenFiles.svg);
    expect(existsSync(at('unpublished', later, 'shapes.svg'))).toBe(true);
    expect(existsSync(at('published', shown, 'video/webcams.webm'))).toBe(true);
    expect(existsSync(path.join(peers.dirs.target, 'published', 'presentation', hidden.recordId))).toBe(false);

    // The target lists them in their states; only the published one plays.
    const targetApi = new BbbClient({ apiUrl: peers.target.url, secret: 'dst-secret-18', algorithm: 'sha256', fetch });
    const listed = await targetApi.getRecordings({ meta: { 'meetplane-tenancy': t.id } });
    expect(Object.fromEntries(listed.map((r) => [r.recordID, r.state]))).toEqual({ [shown.recordId]: 'published', [hidden.recordId]: 'unpublished', [later.recordId]: 'unpublished' });
    expect((await fetch(listed.find((r) => r.recordID === shown.recordId)!.playback[0]!.url)).status).toBe(200);

    // The tenancy is served at the target; the source holds none of its recordings in any tree.
    expect(await gatewayCreate(w, t, 'after-move')).toContain('<returncode>SUCCESS</returncode>');
    expect(peers.target.meetings.has('after-move')).toBe(true);
    for (const r of [shown, hidden, later])
      for (const tree of ['published', 'unpublished', 'deleted']) expect(existsSync(path.join(peers.dirs.source, tree, 'presentation', r.recordId)), `${tree} ${r.recordId}`).toBe(false);
    expect(await transferAudit(w, id)).toContain('transfer.source-delete');
  });
});

describe('a recording the source storage holds in no tree', () => {
  let w: World;
  let mount: string;
  beforeAll(async () => {
    // The source's storage reaches only a copy of its published tree (an SFTP chroot, a partial mount).
    mount = mkdtempSync(path.join(os.tmpdir(), 'mp-mount-'));
    w = await startWorld({ source: () => `file://${mount}/published` });
  }, 60_000);
  afterAll(async () => {
    await w?.close();
    rmSync(mount, { recursive: true, force: true });
  });

  it('stops the transfer before the switch, naming the recording; the tenancy stays served at the source', async () => {
    const { peers } = w;
    const t = await ukTenancy(w, 'Lakeside Library');
    const meta = { 'meetplane-tenancy': t.id };
    const shown = await writeRecording(peers.dirs.source, { meetingId: 'reading', name: 'Reading', host: peers.source.origin, meta, files: { 'shapes.svg': '<svg id="a"/>' } });
    const hidden = await writeRecording(peers.dirs.source, { meetingId: 'board', name: 'Board meeting', host: peers.source.origin, meta, state: 'unpublished', files: { 'shapes.svg': '<svg id="b"/>' } });
    cpSync(path.join(peers.dirs.source, 'published'), path.join(mount, 'published'), { recursive: true });

    const id = await transferInNotice(w, t);
    expect(await advanceTransfer(w.deps, id)).toEqual({ state: 'rolled_back' });
    const status = (await w.s.api('GET', `/api/v1/transfers/${id}`)).json;
    expect(status.state).toBe('rolled_back');
    expect(status.failure).toMatchObject({ step: 'copy', recordId: hidden.recordId, servedBy: 'source' });
    expect(status.failure.reason).toContain(hidden.recordId);
    expect(await transferAudit(w, id)).not.toContain('transfer.switch');
    expect(await transferAudit(w, id)).toContain('transfer.roll-back');

    // Nothing moved, nothing was deleted; the tenancy is active at the source and members can meet.
    expect((await w.s.api('GET', `/api/v1/tenancies/${t.id}`)).json).toMatchObject({ coopId: w.uk.id, clusterId: w.ukCluster.id, state: 'active' });
    expect(await gatewayCreate(w, t, 'still-here')).toContain('<returncode>SUCCESS</returncode>');
    expect(peers.source.meetings.has('still-here')).toBe(true);
    expect(existsSync(path.join(hidden.dir, 'shapes.svg'))).toBe(true);
    expect(existsSync(path.join(shown.dir, 'shapes.svg'))).toBe(true);
    expect(existsSync(path.join(peers.dirs.target, 'published', 'presentation', shown.recordId))).toBe(false);
  });
});
