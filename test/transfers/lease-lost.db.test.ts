// A runner that loses the transfer's lease in the middle of the copy (it was too
// slow to renew, another runner took over) stops and changes nothing: it neither
// rolls the transfer back nor fails it, and the runner holding the lease finishes it.
import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { writeRecording } from '../support/bbb/recordings.js';
import { advanceTransfer } from '../../server/transfers/execute.js';
import { claimTransfer, releaseTransfer } from '../../server/transfers/lease.js';
import { transfers } from '../../server/transfers/table.js';
import { useWorld, transferInNotice, ukTenancy } from './world.js';

const w = useWorld();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a runner that lost the lease during the copy', () => {
  it('stops with the transfer still copying, and the runner that took the lease over completes it', async () => {
    const t = await ukTenancy(w, 'Slow Copy School');
    await writeRecording(w.peers.dirs.source, {
      meetingId: 'big-lesson',
      name: 'Big lesson',
      host: w.peers.source.origin,
      meta: { 'meetplane-tenancy': t.id },
      files: { 'video/webcams.webm': Buffer.alloc(48 * 1024 * 1024, 7) },
    });
    const id = await transferInNotice(w, t);
    const state = async () => (await w.s.database.db.select({ state: transfers.state, failure: transfers.failure }).from(transfers).where(eq(transfers.id, id)))[0]!;

    // Another runner takes the lease over as soon as the copy has begun and the first runner's short lease ran out.
    let takenOver = false;
    const other = (async () => {
      const until = Date.now() + 30_000;
      while (Date.now() < until) {
        if ((await state()).state === 'copying' && (await claimTransfer(w.s.database.db, id, 'other-runner', 60_000))) return (takenOver = true);
        await sleep(5);
      }
      return false;
    })();
    const first = await advanceTransfer({ ...w.deps, runner: 'slow-runner', timing: { leaseMs: 30 } }, id);
    await other;
    expect(takenOver).toBe(true);
    expect(first).toEqual({ state: 'copying', waiting: 'leased' });
    expect(await state()).toEqual({ state: 'copying', failure: null });
    expect((await w.s.api('GET', `/api/v1/tenancies/${t.id}`)).json.state).toBe('frozen');

    await releaseTransfer(w.s.database.db, id, 'other-runner');
    expect((await advanceTransfer({ ...w.deps, runner: 'other-runner' }, id)).state).toBe('completed');
  });
});
