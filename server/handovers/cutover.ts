// Cut-over and completion. The cut-over is refused while a blocking task of
// the checklist is open (the problem names them), while a tenancy's transfer
// is still under way, or a custody cluster has not changed hands. Completion
// signs the final report (both co-ops) and ends the delegated operator roles'
// purpose; they expire at the decommission date.
import { createHash } from 'node:crypto';
import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { Principal } from '../auth/principal.js';
import type { SecretBox } from '../crypto/secretbox.js';
import { ProblemError, problems } from '../http/problem.js';
import type { HandoverDeps } from './deps.js';
import { handoverClusters, handoverTenancies } from './table.js';
import { moveHandover, type Handover } from './plan.js';
import { openBlockingTasks } from './tasks.js';
import { reportOf, signReport } from './report.js';

export async function cutOver(deps: HandoverDeps, actor: Principal, h: Handover): Promise<Handover> {
  const db = deps.exec.db;
  if (h.state !== 'running') throw problems.conflict('handover-state', `a ${h.state} hand-over cannot cut over (it must be running)`);
  const blocking = await openBlockingTasks(db, h.id);
  if (blocking.length)
    throw new ProblemError(
      409,
      'blocking-tasks',
      'Conflict',
      `the cut-over waits for ${blocking.length} blocking task${blocking.length === 1 ? '' : 's'}: ${blocking.map((t) => `"${t.title}" (${t.status})`).join(', ')}`,
      { tasks: blocking.map((t) => ({ id: t.id, title: t.title, status: t.status, assigneeId: t.assigneeId, dueOn: t.dueOn })) },
    );
  const inFlight = await db
    .select({ tenancyId: handoverTenancies.tenancyId, state: handoverTenancies.state })
    .from(handoverTenancies)
    .where(and(eq(handoverTenancies.handoverId, h.id), inArray(handoverTenancies.state, ['planned', 'transfer'])));
  if (inFlight.length)
    throw new ProblemError(409, 'tenancies-in-flight', 'Conflict', `${inFlight.length} tenanc${inFlight.length === 1 ? 'y is' : 'ies are'} still on the way: run their waves, or settle them`, {
      tenancies: inFlight.map((t) => t.tenancyId),
    });
  const pending = await db
    .select({ clusterId: handoverClusters.clusterId })
    .from(handoverClusters)
    .where(and(eq(handoverClusters.handoverId, h.id), eq(handoverClusters.mode, 'custody'), isNull(handoverClusters.custodyDoneAt)));
  if (pending.length)
    throw new ProblemError(409, 'custody-pending', 'Conflict', `${pending.length} custody cluster(s) have not changed hands yet`, { clusters: pending.map((c) => c.clusterId) });
  return db.transaction((tx) => moveHandover(tx, actor, h, 'cut-over', 'handover.cut-over', { set: { cutOverAt: new Date() } }));
}

export async function completeHandover(deps: HandoverDeps, box: SecretBox, actor: Principal, h: Handover): Promise<Handover> {
  if (h.state !== 'cut-over') throw problems.conflict('handover-state', `a ${h.state} hand-over cannot be completed (cut over first)`);
  const db = deps.exec.db;
  const report = await signReport(db, box, await reportOf(db, deps.exec.signer, h, new Date()));
  return db.transaction((tx) =>
    moveHandover(tx, actor, h, 'completed', 'handover.complete', { set: { report }, details: { report: { payloadSha256: sha256(report.payload) } } }),
  );
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

