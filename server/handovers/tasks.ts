// The shared operations checklist: tasks both co-ops' teams work through (DNS
// and TLS, front-end reconfiguration, backups verified, monitoring moved,
// secrets handed over, ...), each with an assignee from either co-op, a due
// date, a status, a comment trail and a `blocking` flag: the cut-over waits
// for every blocking task. Every change is audited (comments by their SHA-256).
import { createHash } from 'node:crypto';
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Db, Executor } from '../db/index.js';
import { uuidv7 } from '../ids.js';
import type { Principal } from '../auth/principal.js';
import { appendAudit, type AuditValue } from '../audit/trail.js';
import { person } from '../audit/subjects.js';
import { problems } from '../http/problem.js';
import { findAccount } from '../accounts/service.js';
import { handoverTaskComments, handoverTasks, type TaskStatus } from './table.js';
import type { Handover } from './plan.js';

export type Task = typeof handoverTasks.$inferSelect;
export const OPEN_STATUSES: readonly TaskStatus[] = ['open', 'in-progress'];

export interface TaskInput {
  title: string;
  assigneeId?: string | null;
  dueOn?: string | null;
  blocking?: boolean;
}

async function checkAssignee(db: Executor, h: Handover, accountId: string | null | undefined): Promise<void> {
  if (!accountId) return;
  const a = await findAccount(db, accountId);
  if (!a || (a.coopId !== h.sourceCoopId && a.coopId !== h.targetCoopId))
    throw problems.validation([{ path: 'assignee', message: 'must be an account of the source or the target co-op' }]);
}

const view = (t: Task): Record<string, AuditValue> => ({
  title: t.title,
  assignee: t.assigneeId ? person(t.assigneeId) : null,
  dueOn: t.dueOn,
  status: t.status,
  blocking: t.blocking,
  version: t.version,
});

export async function addTask(db: Db, actor: Principal, h: Handover, input: TaskInput): Promise<Task> {
  if (h.state === 'completed' || h.state === 'cancelled') throw problems.conflict('handover-state', `a ${h.state} hand-over takes no tasks`);
  await checkAssignee(db, h, input.assigneeId);
  return db.transaction(async (tx) => {
    const [t] = await tx
      .insert(handoverTasks)
      .values({ id: uuidv7(), handoverId: h.id, title: input.title, assigneeId: input.assigneeId ?? null, dueOn: input.dueOn ?? null, blocking: input.blocking ?? false })
      .returning();
    await appendAudit(tx, { actor, action: 'handover.task-create', subject: { type: 'handover-task', id: t!.id }, after: { handover: h.id, ...view(t!) } });
    return t!;
  });
}

export async function updateTask(db: Db, actor: Principal, h: Handover, current: Task, patch: Partial<TaskInput> & { status?: TaskStatus }): Promise<Task> {
  if (patch.assigneeId !== undefined) await checkAssignee(db, h, patch.assigneeId);
  return db.transaction(async (tx) => {
    const [t] = await tx
      .update(handoverTasks)
      .set({ ...patch, version: current.version + 1, updatedAt: new Date() })
      .where(and(eq(handoverTasks.id, current.id), eq(handoverTasks.version, current.version)))
      .returning();
    if (!t) throw problems.preconditionFailed('(changed meanwhile)');
    await appendAudit(tx, { actor, action: 'handover.task-update', subject: { type: 'handover-task', id: t.id }, before: view(current), after: view(t) });
    return t;
  });
}

export async function commentOnTask(db: Db, actor: Principal, task: Task, body: string) {
  return db.transaction(async (tx) => {
    const [c] = await tx.insert(handoverTaskComments).values({ id: uuidv7(), taskId: task.id, accountId: actor.accountId, body }).returning();
    await appendAudit(tx, {
      actor,
      action: 'handover.task-comment',
      subject: { type: 'handover-task', id: task.id },
      details: { comment: c!.id },
      evidence: { comment: createHash('sha256').update(body).digest('hex') },
    });
    return c!;
  });
}

export async function findTask(db: Executor, h: Handover, id: string): Promise<Task | undefined> {
  const [t] = await db.select().from(handoverTasks).where(and(eq(handoverTasks.id, id), eq(handoverTasks.handoverId, h.id)));
  return t;
}

export async function tasksOf(db: Executor, handoverId: string) {
  const tasks = await db.select().from(handoverTasks).where(eq(handoverTasks.handoverId, handoverId)).orderBy(asc(handoverTasks.createdAt), asc(handoverTasks.id));
  const comments = tasks.length
    ? await db.select().from(handoverTaskComments).where(inArray(handoverTaskComments.taskId, tasks.map((t) => t.id))).orderBy(asc(handoverTaskComments.createdAt))
    : [];
  return tasks.map((t) => ({ ...t, comments: comments.filter((c) => c.taskId === t.id) }));
}

/** The blocking tasks not done: what holds the cut-over. */
export async function openBlockingTasks(db: Executor, handoverId: string): Promise<Task[]> {
  return db
    .select()
    .from(handoverTasks)
    .where(and(eq(handoverTasks.handoverId, handoverId), eq(handoverTasks.blocking, true), inArray(handoverTasks.status, [...OPEN_STATUSES])))
    .orderBy(asc(handoverTasks.createdAt));
}
