// The plan's approvals: once by an admin of the source co-op and once by an
// admin of the target co-op, two different people (the route asks the
// policies for the role: handover.approveAsSource / AsTarget). The second
// approval approves the plan, and the tenancies' transfers are then made from
// it (transfers-from-plan.ts), each carrying the two approvals.
import { and, asc, eq } from 'drizzle-orm';
import type { Principal } from '../auth/principal.js';
import { appendAudit } from '../audit/trail.js';
import { person } from '../audit/subjects.js';
import { problems, ProblemError } from '../http/problem.js';
import { pgConstraint, pgErrorCode, UNIQUE_VIOLATION } from '../db/errors.js';
import type { HandoverDeps } from './deps.js';
import { handoverApprovals, handovers, handoverTenancies } from './table.js';
import { moveHandover, type Handover } from './plan.js';
import { openTransfer, planContext } from './transfers-from-plan.js';

export type PlanRole = 'source_admin' | 'target_admin';

const samePerson = () =>
  new ProblemError(403, 'forbidden', 'Forbidden', 'you approved this hand-over already for the other co-op; an admin of each co-op must approve, two different people', {
    policyIds: ['handover-two-approvers'],
  });
const already = (role: PlanRole) => problems.conflict('already-approved', `the ${role.replace('_', ' ')} approval is already given`);

/** Records the approval; the second one approves the plan. Answers the plan after it. */
export async function approvePlan(deps: HandoverDeps, actor: Principal, h: Handover, role: PlanRole): Promise<Handover> {
  const db = deps.exec.db;
  let after: Handover;
  try {
    after = await db.transaction(async (tx) => {
      const [current] = await tx.select().from(handovers).where(eq(handovers.id, h.id)).for('update');
      if (!current || current.state !== 'draft') throw problems.conflict('handover-state', `a ${current?.state ?? h.state} hand-over cannot be approved`);
      if (current.version !== h.version) throw problems.preconditionFailed('(changed meanwhile)');
      const existing = await tx.select().from(handoverApprovals).where(eq(handoverApprovals.handoverId, h.id));
      if (existing.some((a) => a.role === role)) throw already(role);
      if (existing.some((a) => a.accountId === actor.accountId)) throw samePerson();
      await tx.insert(handoverApprovals).values({ handoverId: h.id, role, accountId: actor.accountId });
      await appendAudit(tx, { actor, action: 'handover.approve', subject: { type: 'handover', id: h.id }, details: { role, approver: person(actor.accountId) } });
      if (existing.length === 0) {
        const [row] = await tx.update(handovers).set({ version: current.version + 1, updatedAt: new Date() }).where(eq(handovers.id, h.id)).returning();
        return row!;
      }
      return moveHandover(tx, actor, current, 'approved', 'handover.approved', { details: { approvals: 2 } });
    });
  } catch (e) {
    if (pgErrorCode(e) !== UNIQUE_VIOLATION) throw e;
    if (pgConstraint(e) === 'handover_approvals_one_per_person') throw samePerson();
    throw already(role);
  }
  if (after.state === 'approved') await openPlannedTransfers(deps, actor, after);
  return after;
}

/** Makes the transfer of every planned tenancy (one at a time: each is a few transactions; a failure stays with its tenancy). */
export async function openPlannedTransfers(deps: HandoverDeps, actor: Principal, h: Handover): Promise<{ opened: number; failed: number }> {
  const planned = await deps.exec.db
    .select()
    .from(handoverTenancies)
    .where(and(eq(handoverTenancies.handoverId, h.id), eq(handoverTenancies.state, 'planned')))
    .orderBy(asc(handoverTenancies.wave), asc(handoverTenancies.tenancyId));
  let failed = 0;
  const ctx = await planContext(deps, h);
  for (const ht of planned) if ((await openTransfer(deps, actor, h, ht, ctx)).failure) failed++;
  return { opened: planned.length - failed, failed };
}
