// The jobs table as a queue: enqueue (idempotent by key), periodic jobs, and the
// lease operations the worker uses. Every time comparison uses the database's
// clock, so processes on machines with skewed clocks still agree on what is due.
import { eq, sql } from 'drizzle-orm';
import { rowsOf, type Executor } from '../db/index.js';
import { uuidv7 } from '../ids.js';
import { jobs } from './table.js';

export type JobRow = typeof jobs.$inferSelect;

export interface Job {
  id: string;
  kind: string;
  key: string | null;
  payload: Record<string, unknown>;
  attempts: number;
  maxAttempts: number;
  periodMs: number | null;
}

export interface EnqueueInput {
  kind: string;
  /** Idempotency key: a second enqueue with the same key returns the first job. */
  key?: string;
  payload?: Record<string, unknown>;
  runAt?: Date;
  maxAttempts?: number;
}

/** Returns the job's id, whether it was just created or already there under the key. */
export async function enqueue(db: Executor, input: EnqueueInput): Promise<string> {
  const id = uuidv7();
  const inserted = await db
    .insert(jobs)
    .values({
      id,
      kind: input.kind,
      key: input.key ?? null,
      payload: input.payload ?? {},
      runAt: input.runAt ?? sql`now()`,
      maxAttempts: input.maxAttempts ?? 5,
    })
    .onConflictDoNothing({ target: jobs.key })
    .returning({ id: jobs.id });
  if (inserted[0]) return inserted[0].id;
  const [existing] = await db.select({ id: jobs.id }).from(jobs).where(eq(jobs.key, input.key!)).limit(1);
  return existing!.id;
}

/**
 * Declares a periodic job (key = kind unless given). Several processes may declare
 * it at start: there is still one row, and a changed period takes effect.
 */
export async function ensurePeriodic(db: Executor, input: { kind: string; key?: string; periodMs: number; payload?: Record<string, unknown> }): Promise<void> {
  await db
    .insert(jobs)
    .values({ id: uuidv7(), kind: input.kind, key: input.key ?? input.kind, payload: input.payload ?? {}, periodMs: input.periodMs, runAt: sql`now()` })
    .onConflictDoUpdate({
      target: jobs.key,
      set: {
        periodMs: input.periodMs,
        // A periodic job never ends: one that failed for good is revived.
        state: sql`case when ${jobs.state} in ('done', 'failed') then 'queued' else ${jobs.state} end`,
        updatedAt: sql`now()`,
      },
    });
}

/** Makes a queued job due now (a refresh on demand, or a test driving one tick). */
export async function runSoon(db: Executor, key: string): Promise<boolean> {
  const rows = await db
    .update(jobs)
    .set({ runAt: sql`now()`, updatedAt: sql`now()` })
    .where(sql`${jobs.key} = ${key} and ${jobs.state} = 'queued'`)
    .returning({ id: jobs.id });
  return rows.length > 0;
}

export async function findJob(db: Executor, key: string): Promise<JobRow | undefined> {
  const [row] = await db.select().from(jobs).where(eq(jobs.key, key)).limit(1);
  return row;
}

interface ClaimedRow {
  id: string;
  kind: string;
  key: string | null;
  payload: Record<string, unknown> | string;
  attempts: number;
  max_attempts: number;
  period_ms: number | null;
}

/**
 * Leases up to `limit` due jobs of the given kinds: queued ones whose time has come,
 * and running ones whose lease expired (their process died). SKIP LOCKED lets
 * concurrent claimers pass each other instead of waiting or taking the same row.
 */
export async function claim(db: Executor, owner: string, kinds: readonly string[], limit: number, leaseMs: number): Promise<Job[]> {
  if (kinds.length === 0 || limit <= 0) return [];
  const kindList = sql.join(kinds.map((k) => sql`${k}`), sql`, `);
  const rows = rowsOf<ClaimedRow>(
    await db.execute(sql`
      update jobs set state = 'running', lease_owner = ${owner},
        lease_expires_at = now() + ${leaseMs} * interval '1 millisecond',
        attempts = attempts + 1, updated_at = now()
      where id in (
        select id from jobs
        where kind in (${kindList})
          and ((state = 'queued' and run_at <= now()) or (state = 'running' and lease_expires_at < now()))
        order by run_at
        limit ${limit}
        for update skip locked)
      returning id, kind, key, payload, attempts, max_attempts, period_ms`),
  );
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    key: r.key,
    payload: typeof r.payload === 'string' ? (JSON.parse(r.payload) as Record<string, unknown>) : (r.payload ?? {}),
    attempts: Number(r.attempts),
    maxAttempts: Number(r.max_attempts),
    periodMs: r.period_ms === null ? null : Number(r.period_ms),
  }));
}

/** Extends a lease; false when this owner lost it (it expired and someone else took the job). */
export async function renewLease(db: Executor, job: Job, owner: string, leaseMs: number): Promise<boolean> {
  const rows = await db
    .update(jobs)
    .set({ leaseExpiresAt: sql`now() + ${leaseMs} * interval '1 millisecond'` })
    .where(sql`${jobs.id} = ${job.id} and ${jobs.leaseOwner} = ${owner} and ${jobs.state} = 'running'`)
    .returning({ id: jobs.id });
  return rows.length > 0;
}

const owned = (job: Job, owner: string) => sql`${jobs.id} = ${job.id} and ${jobs.leaseOwner} = ${owner} and ${jobs.state} = 'running'`;

/** Success: a one-off job is done; a periodic one is due again one period later. */
export async function complete(db: Executor, job: Job, owner: string): Promise<void> {
  const next =
    job.periodMs !== null
      ? { state: 'queued' as const, runAt: sql`now() + ${job.periodMs} * interval '1 millisecond'`, attempts: 0, lastError: null }
      : { state: 'done' as const, finishedAt: sql`now()` };
  await db.update(jobs).set({ ...next, leaseOwner: null, leaseExpiresAt: null, updatedAt: sql`now()` }).where(owned(job, owner));
}

/** Failure: retried with exponential backoff until maxAttempts; periodic jobs just wait for their next period. */
export async function fail(db: Executor, job: Job, owner: string, error: string): Promise<void> {
  const lastError = error.slice(0, 500);
  let next;
  if (job.periodMs !== null) next = { state: 'queued' as const, runAt: sql`now() + ${job.periodMs} * interval '1 millisecond'`, attempts: 0 };
  else if (job.attempts < job.maxAttempts) {
    const backoffMs = Math.min(5_000 * 2 ** (job.attempts - 1), 3_600_000);
    next = { state: 'queued' as const, runAt: sql`now() + ${backoffMs} * interval '1 millisecond'` };
  } else next = { state: 'failed' as const, finishedAt: sql`now()` };
  await db.update(jobs).set({ ...next, lastError, leaseOwner: null, leaseExpiresAt: null, updatedAt: sql`now()` }).where(owned(job, owner));
}

/** Gives a job back untouched (the process is stopping): due at once for any other process. */
export async function release(db: Executor, job: Job, owner: string): Promise<void> {
  await db
    .update(jobs)
    .set({ state: 'queued', attempts: sql`greatest(${jobs.attempts} - 1, 0)`, leaseOwner: null, leaseExpiresAt: null, updatedAt: sql`now()` })
    .where(owned(job, owner));
}
