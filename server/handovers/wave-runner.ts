// The background job's part in hand-overs: a plan that runs its waves
// automatically has each wave run while its freeze window is open (the window
// the members were told), wave by wave, each within its concurrency limit.
// Outside its window a wave waits for an admin (`handovers run`): a tenancy
// whose owner answered late does not move at a time nobody announced. A
// transfer already under way when the window closes is finished by the
// transfers' own runner, as any interrupted transfer is.
import { and, asc, eq, gt, inArray, lte } from 'drizzle-orm';
import { ProblemError } from '../http/problem.js';
import { SYSTEM } from '../transfers/step-kit.js';
import { handovers, handoverTenancies, handoverWaves } from './table.js';
import { runWave, type WaveDeps, type WaveRun } from './waves.js';
import type { Handover } from './plan.js';

export interface DueWaveRun {
  handoverId: string;
  wave: number;
  /** the run's results, or why the wave was not run now (another run holds it, ...) */
  run?: WaveRun;
  skipped?: string;
}

/** Runs every open wave of the automatic plans that still has tenancies on the way. */
export async function runDueWaves(deps: WaveDeps, now = new Date()): Promise<DueWaveRun[]> {
  const db = deps.exec.db;
  const due = await db
    .select({ handover: handovers, n: handoverWaves.n })
    .from(handoverWaves)
    .innerJoin(handovers, eq(handovers.id, handoverWaves.handoverId))
    .where(
      and(
        eq(handovers.runWaves, 'automatic'),
        inArray(handovers.state, ['approved', 'running']),
        lte(handoverWaves.freezeFrom, now),
        gt(handoverWaves.freezeUntil, now),
      ),
    )
    .orderBy(asc(handoverWaves.handoverId), asc(handoverWaves.n));
  const out: DueWaveRun[] = [];
  for (const { handover, n } of due) {
    // Nothing on the way in the wave (all settled, or none answered yet): no run, no audit entries.
    const onTheWay = await db
      .select({ id: handoverTenancies.tenancyId })
      .from(handoverTenancies)
      .where(and(eq(handoverTenancies.handoverId, handover.id), eq(handoverTenancies.wave, n), eq(handoverTenancies.state, 'transfer')))
      .limit(1);
    if (!onTheWay.length) continue;
    // The plan as it is now: an earlier wave's run may have moved it to running.
    const [current] = await db.select().from(handovers).where(eq(handovers.id, handover.id));
    try {
      out.push({ handoverId: handover.id, wave: n, run: await runWave(deps, SYSTEM, current as Handover, n, now) });
    } catch (e) {
      // Another run holds the wave, or the plan changed meanwhile: the next round looks again.
      if (!(e instanceof ProblemError)) throw e;
      out.push({ handoverId: handover.id, wave: n, skipped: e.message });
    }
  }
  return out;
}
