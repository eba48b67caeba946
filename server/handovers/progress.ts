// What both co-ops' admins follow: every tenancy with its wave, the owner's
// answer, its transfer's state and bytes copied, and why it failed; the
// waves; the open tasks (blocking first). Read from the plan and the transfers.
import { eq, inArray } from 'drizzle-orm';
import type { Executor } from '../db/index.js';
import { transfers } from '../transfers/table.js';
import { isoOrNull } from '../time.js';
import { planParts, type Handover } from './plan.js';
import { OPEN_STATUSES, tasksOf } from './tasks.js';

export async function progressOf(db: Executor, h: Handover) {
  const { waves, tenancies } = await planParts(db, h.id);
  const ids = tenancies.flatMap((t) => (t.transferId ? [t.transferId] : []));
  const ts = ids.length
    ? await db.select({ id: transfers.id, state: transfers.state, progress: transfers.progress }).from(transfers).where(inArray(transfers.id, ids))
    : [];
  const byId = new Map(ts.map((t) => [t.id, t]));
  const rows = tenancies.map((t) => {
    const tr = t.transferId ? byId.get(t.transferId) : undefined;
    return {
      tenancyId: t.tenancyId,
      clusterId: t.clusterId,
      wave: t.wave,
      state: t.state,
      answer: t.answer,
      objection: t.objection,
      transferId: t.transferId,
      transferState: tr?.state ?? null,
      bytesDone: tr?.progress?.bytesDone ?? 0,
      bytesTotal: tr?.progress?.bytesTotal ?? 0,
      attempts: t.attempts,
      failure: t.failure,
    };
  });
  const tasks = (await tasksOf(db, h.id)).filter((t) => OPEN_STATUSES.includes(t.status));
  return {
    id: h.id,
    state: h.state,
    version: h.version,
    waves: waves.map((w) => {
      const mine = rows.filter((r) => r.wave === w.n);
      const count = (s: string) => mine.filter((r) => r.state === s).length;
      return {
        n: w.n,
        freezeFrom: w.freezeFrom.toISOString(),
        freezeUntil: w.freezeUntil.toISOString(),
        concurrency: w.concurrency,
        startedAt: isoOrNull(w.startedAt),
        tenancies: mine.length,
        moved: count('moved'),
        stayed: count('stayed'),
        failed: count('failed'),
        onTheWay: count('transfer') + count('planned'),
        bytesDone: mine.reduce((n, r) => n + r.bytesDone, 0),
        bytesTotal: mine.reduce((n, r) => n + r.bytesTotal, 0),
      };
    }),
    tenancies: rows,
    failures: rows.filter((r) => r.state === 'failed').map((r) => ({ tenancyId: r.tenancyId, reason: r.failure })),
    openTasks: tasks
      .sort((a, b) => Number(b.blocking) - Number(a.blocking))
      .map((t) => ({ id: t.id, title: t.title, status: t.status, blocking: t.blocking, assigneeId: t.assigneeId, dueOn: t.dueOn })),
  };
}
