// Running a wave: its tenancies' transfers are advanced by the transfers'
// own runner (advanceTransfer: leased, resumable, each step audited), at most
// the wave's concurrency limit at once. A tenancy's failure is recorded on it
// and never stops the others; a failed tenancy is retried on its own.
import { and, asc, eq } from 'drizzle-orm';
import type { Principal } from '../auth/principal.js';
import { appendAudit } from '../audit/trail.js';
import { problems } from '../http/problem.js';
import { advanceTransfer } from '../transfers/execute.js';
import { findTransfer, type Transfer } from '../transfers/service.js';
import { retryTransfer } from '../transfers/recovery.js';
import type { HandoverDeps } from './deps.js';
import { handoverTenancies, handoverWaves, type HandoverTenancyState } from './table.js';
import { findHandover, moveHandover, type Handover, type HandoverTenancy } from './plan.js';
import { openTransfer, settle } from './transfers-from-plan.js';
import { claimWave } from './wave-lease.js';

/** A wave runs transfers and records where each tenancy is: the transfers' runner is all it needs. */
export type WaveDeps = Pick<HandoverDeps, 'exec'>;

export interface WaveResult {
  tenancyId: string;
  state: HandoverTenancyState;
  transferState: string | null;
  /** why it is not settled yet: the owner has not answered, the freeze date, the notice delivery, meetings, ... */
  waiting?: string;
  failure?: string;
}

export interface WaveRun {
  wave: number;
  concurrency: number;
  /** the most transfers advanced at once */
  peakInFlight: number;
  results: WaveResult[];
}

/** Where a transfer's end leaves its tenancy in the hand-over. */
function outcome(t: Transfer): { state: HandoverTenancyState; failure: string | null } {
  if (t.state === 'completed') return { state: 'moved', failure: null };
  if (t.state === 'rejected' || t.state === 'cancelled') return { state: 'stayed', failure: null };
  if (t.state === 'rolled_back' || t.state === 'failed')
    return { state: 'failed', failure: t.failure ? `${t.failure.step}: ${t.failure.reason}` : (t.lastDecision?.reasons.join('; ') ?? `the transfer ${t.state.replace('_', ' ')}`) };
  return { state: 'transfer', failure: null };
}

/** Runs `work` over `items`, at most `limit` at a time; reports the most that ran at once. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<number> {
  let next = 0;
  let running = 0;
  let peak = 0;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      running++;
      peak = Math.max(peak, running);
      try {
        await work(item);
      } finally {
        running--;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return peak;
}

export async function runWave(deps: WaveDeps, actor: Principal, h: Handover, n: number, now = new Date()): Promise<WaveRun> {
  const db = deps.exec.db;
  if (h.state !== 'approved' && h.state !== 'running') throw problems.conflict('handover-state', `a ${h.state} hand-over runs no waves`);
  const [wave] = await db.select().from(handoverWaves).where(and(eq(handoverWaves.handoverId, h.id), eq(handoverWaves.n, n)));
  if (!wave) throw problems.notFound('wave');
  if (now < wave.freezeFrom) throw problems.conflict('wave-not-open', `wave ${n}'s freeze window opens at ${wave.freezeFrom.toISOString()}`);
  const lease = await claimWave(db, h.id, n);
  if (!lease) throw problems.conflict('wave-running', `wave ${n} is being run already (by the background job or another admin); its tenancies' states show on the hand-over's status`);
  try {
    return await runClaimedWave(deps, actor, h, wave, now);
  } finally {
    await lease.release();
  }
}

async function runClaimedWave(deps: WaveDeps, actor: Principal, h: Handover, wave: typeof handoverWaves.$inferSelect, now: Date): Promise<WaveRun> {
  const db = deps.exec.db;
  const n = wave.n;
  await db.transaction(async (tx) => {
    if (h.state === 'approved') await moveHandover(tx, actor, h, 'running', 'handover.run');
    if (!wave.startedAt) {
      await tx.update(handoverWaves).set({ startedAt: now }).where(and(eq(handoverWaves.handoverId, h.id), eq(handoverWaves.n, n)));
      await appendAudit(tx, { actor, action: 'handover.wave-start', subject: { type: 'handover', id: h.id }, details: { wave: n, concurrency: wave.concurrency } });
    }
  });
  const current = (await findHandover(db, h.id))!;
  const members = await db
    .select()
    .from(handoverTenancies)
    .where(and(eq(handoverTenancies.handoverId, h.id), eq(handoverTenancies.wave, n)))
    .orderBy(asc(handoverTenancies.tenancyId));
  const results: WaveResult[] = [];
  const peak = await pool(
    members.filter((m) => m.state === 'transfer'),
    wave.concurrency,
    async (ht) => {
      let waiting: string | undefined;
      try {
        const t0 = await findTransfer(db, ht.transferId!);
        if (t0?.state === 'checked') waiting = 'owner';
        else waiting = (await advanceTransfer(deps.exec, ht.transferId!, now)).waiting;
      } catch (e) {
        // The runner reports failures on the transfer; anything else is this tenancy's alone.
        waiting = undefined;
        await settle(deps, actor, current, ht, { state: 'failed', failure: e instanceof Error ? e.message : String(e) });
      }
      const t = (await findTransfer(db, ht.transferId!))!;
      const o = outcome(t);
      if (o.state !== ht.state) await settle(deps, actor, current, ht, { state: o.state, failure: o.failure });
      results.push({ tenancyId: ht.tenancyId, state: o.state, transferState: t.state, ...(waiting && o.state === 'transfer' ? { waiting } : {}), ...(o.failure ? { failure: o.failure } : {}) });
    },
  );
  for (const m of members.filter((x) => x.state !== 'transfer'))
    results.push({ tenancyId: m.tenancyId, state: m.state, transferState: null, ...(m.failure ? { failure: m.failure } : {}) });
  results.sort((a, b) => a.tenancyId.localeCompare(b.tenancyId));
  return { wave: n, concurrency: wave.concurrency, peakInFlight: peak, results };
}

/**
 * A failed tenancy again: a transfer that failed after its switch runs its
 * failed step again (the transfers' retry); one that ended (rolled back, or
 * never made) is made anew from the plan, carrying the plan's approvals and
 * the owner's acceptance if they gave it.
 */
export async function retryTenancy(deps: HandoverDeps, actor: Principal, h: Handover, ht: HandoverTenancy): Promise<HandoverTenancy['state']> {
  if (ht.state !== 'failed') throw problems.conflict('handover-tenancy-state', `only a failed tenancy is retried; this one is ${ht.state}`);
  if (h.state !== 'approved' && h.state !== 'running') throw problems.conflict('handover-state', `a ${h.state} hand-over retries nothing`);
  const t = ht.transferId ? await findTransfer(deps.exec.db, ht.transferId) : undefined;
  if (t?.state === 'failed' || (t?.state === 'completed' && t.failure)) {
    await retryTransfer(deps.exec.db, actor, t);
    await settle(deps, actor, h, ht, { state: 'transfer', failure: null, attempt: true });
    return 'transfer';
  }
  if (t && !['rolled_back', 'rejected', 'cancelled'].includes(t.state))
    throw problems.conflict('handover-tenancy-state', `its transfer is ${t.state}: run its wave to move it on`);
  const r = await openTransfer(deps, actor, h, ht);
  return r.failure ? 'failed' : 'transfer';
}
