// One run of a wave at a time, across processes: the background job and an
// admin's `handovers run` both take the wave's lease first, so the wave's
// concurrency limit holds for the wave, not for each run. A run renews its
// lease while its transfers copy; a killed process's lease runs out and the
// next run takes over (the transfers themselves resume from their own leases).
import { and, eq, sql } from 'drizzle-orm';
import type { Executor } from '../db/index.js';
import { runnerName } from '../transfers/lease.js';
import { handoverWaves } from './table.js';

export const WAVE_LEASE_MS = 120_000;

export interface WaveLease {
  owner: string;
  release(): Promise<void>;
}

const waveIs = (handoverId: string, n: number) => and(eq(handoverWaves.handoverId, handoverId), eq(handoverWaves.n, n));

/** The wave's lease, renewed until released; null when another live run holds it. */
export async function claimWave(db: Executor, handoverId: string, n: number, leaseMs = WAVE_LEASE_MS): Promise<WaveLease | null> {
  const owner = runnerName();
  const claimed = await db
    .update(handoverWaves)
    .set({ leaseOwner: owner, leaseExpiresAt: sql`now() + ${leaseMs} * interval '1 millisecond'` })
    .where(and(waveIs(handoverId, n), sql`(${handoverWaves.leaseOwner} is null or ${handoverWaves.leaseExpiresAt} < now())`))
    .returning({ n: handoverWaves.n });
  if (!claimed.length) return null;
  const renew = setInterval(() => {
    void db
      .update(handoverWaves)
      .set({ leaseExpiresAt: sql`now() + ${leaseMs} * interval '1 millisecond'` })
      .where(and(waveIs(handoverId, n), eq(handoverWaves.leaseOwner, owner)))
      .catch(() => undefined);
  }, Math.max(1_000, leaseMs / 3));
  renew.unref();
  return {
    owner,
    async release() {
      clearInterval(renew);
      await db.update(handoverWaves).set({ leaseOwner: null, leaseExpiresAt: null }).where(and(waveIs(handoverId, n), eq(handoverWaves.leaseOwner, owner)));
    },
  };
}
