// What a transfer's steps do when the world moved between two of their calls:
// a meeting ended by its moderator after the runner saw it running, a recording
// past retention deleted after the runner chose it, a step that failed only after
// its transition committed. Each time the transfer goes on to completion; none
// of them is a reason to roll it back.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { writeRecording } from '../support/bbb/recordings.js';
import { armFailpoint } from '../../server/failpoints.js';
import { signQuery } from '../../server/bbb/checksum.js';
import { advanceTransfer } from '../../server/transfers/execute.js';
import { useWorld, transferAudit, transferEntries, transferInNotice, ukTenancy, type Tenancy } from './world.js';

const w = useWorld();

let n = 0;
/** A call straight to the source's BBB, as its own operator or a moderator would make it: the answer's XML. */
const atSource = async (call: string, params: Record<string, string>) =>
  (await fetch(`${w.peers.source.url}/${call}?${signQuery(call, params, 'src-secret-18', 'sha256')}`)).text();

const entriesOf = (id: string) => transferEntries(w, id);

/** A fresh tenancy with one recent recording, which every completed transfer must have copied. */
async function tenancyWithRecording(): Promise<{ t: Tenancy; recent: { recordId: string; dir: string } }> {
  const t = await ukTenancy(w, `Race School ${++n}`);
  const recent = await writeRecording(w.peers.dirs.source, {
    meetingId: `lesson-${n}`,
    name: 'Lesson',
    host: w.peers.source.origin,
    meta: { 'meetplane-tenancy': t.id },
    files: { 'shapes.svg': `<svg id="race-${n}"/>` },
  });
  return { t, recent };
}

/** Completed, copied and switched: the recording is at the target, the tenancy with the German co-op, nothing failed. */
async function expectCompleted(id: string, t: Tenancy, recent: { dir: string }) {
  const transfer = (await w.s.api('GET', `/api/v1/transfers/${id}`)).json;
  expect(transfer).toMatchObject({ state: 'completed', failure: null });
  expect((await w.s.api('GET', `/api/v1/tenancies/${t.id}`)).json).toMatchObject({ coopId: w.de.id, clusterId: w.deCluster.id, state: 'active' });
  expect(existsSync(path.join(w.peers.dirs.target, path.relative(w.peers.dirs.source, recent.dir), 'metadata.xml'))).toBe(true);
  const actions = await transferAudit(w, id);
  expect(actions).not.toContain('transfer.fail');
  expect(actions).not.toContain('transfer.roll-back');
  expect(actions.filter((a) => a === 'transfer.complete')).toHaveLength(1);
}

describe('a transfer whose source changes between two calls', () => {
  it('a running meeting its moderator ends before the runner does (BBB answers notFound) is counted ended, and the transfer completes', async () => {
    const { t, recent } = await tenancyWithRecording();
    const meetingID = `live-${n}`;
    const create = signQuery('create', { meetingID, name: 'Live lesson', attendeePW: 'a', moderatorPW: 'm' }, t.bbbSecret, 'sha256');
    expect(await (await fetch(`${w.s.url}/t/${t.slug}/bigbluebutton/api/create?${create}`)).text()).toContain('SUCCESS');
    const join = signQuery('join', { meetingID, fullName: 'Teacher', password: 'm', redirect: 'false' }, t.bbbSecret, 'sha256');
    expect(await (await fetch(`${w.s.url}/t/${t.slug}/bigbluebutton/api/join?${join}`)).text()).toContain('SUCCESS');
    const id = await transferInNotice(w, t);

    let endedByModerator = '';
    w.peers.source.beforeNext('end', async () => {
      endedByModerator = await atSource('end', { meetingID });
    });
    // A minute on: the meeting's grace period (0 here) counts from the freeze this run makes.
    expect(await advanceTransfer(w.deps, id, new Date(Date.now() + 60_000))).toEqual({ state: 'completed' });
    expect(endedByModerator).toContain('SUCCESS');
    expect(w.peers.source.meetings.has(meetingID)).toBe(false);
    expect((await entriesOf(id)).find((e) => e.action === 'transfer.copy-start')?.details).toMatchObject({ meetingsEnded: 1 });
    await expectCompleted(id, t, recent);
  });

  it('a recording past retention deleted by hand after the runner chose it (BBB answers notFound) is recorded deleted, and the transfer completes without it', async () => {
    const { t, recent } = await tenancyWithRecording();
    // ukTenancy keeps recordings 3,650 days.
    const old = await writeRecording(w.peers.dirs.source, {
      meetingId: `old-${n}`,
      name: 'Old lesson',
      host: w.peers.source.origin,
      startTime: Date.now() - 4_000 * 86_400_000,
      meta: { 'meetplane-tenancy': t.id },
      files: { 'shapes.svg': `<svg id="old-${n}"/>` },
    });
    const id = await transferInNotice(w, t);

    let deletedByHand = '';
    w.peers.source.beforeNext('deleteRecordings', async () => {
      deletedByHand = await atSource('deleteRecordings', { recordID: old.recordId });
    });
    expect(await advanceTransfer(w.deps, id)).toEqual({ state: 'completed' });
    expect(deletedByHand).toContain('SUCCESS');
    const entries = await entriesOf(id);
    expect(entries.find((e) => e.action === 'transfer.retention-delete')?.details).toMatchObject({ recordings: 1, recordIds: [old.recordId] });
    expect(entries.find((e) => e.action === 'transfer.copy-start')?.details).toMatchObject({ retentionDeleted: 1 });
    // Never copied: nothing of it at the target, in any tree.
    for (const tree of ['published', 'unpublished', 'deleted'])
      expect(existsSync(path.join(w.peers.dirs.target, tree, 'presentation', old.recordId))).toBe(false);
    await expectCompleted(id, t, recent);
  });
});

describe('a step that fails after its transition committed', () => {
  // The failpoint throws right after the commit: the step's work is done and on record.
  for (const to of ['frozen', 'copying', 'switching', 'verifying'])
    it(`(into ${to}) is not undone: the run goes on from where the transfer now is, and completes it`, async () => {
      const { t, recent } = await tenancyWithRecording();
      const id = await transferInNotice(w, t);
      armFailpoint(`throw:transfer.after:${to}`);
      expect(await advanceTransfer(w.deps, id)).toEqual({ state: 'completed' });
      armFailpoint(null);
      await expectCompleted(id, t, recent);
    });
});
