// The leased jobs table: several workers (on separate connections, as separate
// processes would be) never run one job twice; a dead worker's job is taken over.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openPostgres, rowsOf, type Db } from '../../server/db/index.js';
import { createLogger } from '../../server/logger.js';
import { claim, enqueue, ensurePeriodic, findJob, runSoon } from '../../server/jobs/queue.js';
import { Worker, type JobHandler } from '../../server/jobs/worker.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';

const log = createLogger('silent');
let database: TestDatabase;
let db: Db;
/** A second connection pool, like a second meetplane process (PostgreSQL only; PGlite is one process). */
let other: { db: Db; close: () => Promise<void> } | undefined;

beforeAll(async () => {
  database = await freshDatabase();
  db = database.db;
  if (database.url) other = await openPostgres(database.url, 5);
});
afterAll(async () => {
  await other?.close();
  await database?.close();
});
beforeEach(async () => {
  await db.execute(sql`delete from jobs`);
});

const worker = (handlers: Record<string, JobHandler>, on: Db = db, leaseMs = 60_000) => new Worker({ db: on, log, handlers, leaseMs, concurrency: 4 });

describe('jobs', () => {
  it('runs each of many jobs exactly once with several workers claiming at the same time', async () => {
    for (let i = 0; i < 40; i++) await enqueue(db, { kind: 'count', payload: { i } });
    const runs: number[] = [];
    const handler: JobHandler = async (job) => {
      runs.push(Number(job.payload['i']));
      await new Promise((r) => setTimeout(r, 5));
    };
    const workers = [worker({ count: handler }), worker({ count: handler }), worker({ count: handler }, other?.db ?? db), worker({ count: handler }, other?.db ?? db)];
    for (let round = 0; round < 20 && runs.length < 40; round++) await Promise.all(workers.map((w) => w.tick()));
    expect(runs.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    const [row] = rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from jobs where state = 'done'`));
    expect(Number(row!.n)).toBe(40);
  });

  it('keeps one job per idempotency key', async () => {
    const a = await enqueue(db, { kind: 'k', key: 'once:1' });
    const b = await enqueue(db, { kind: 'k', key: 'once:1' });
    expect(b).toBe(a);
    let runs = 0;
    await worker({ k: async () => void runs++ }).tick();
    await enqueue(db, { kind: 'k', key: 'once:1' }); // done already: still the same job
    await worker({ k: async () => void runs++ }).tick();
    expect(runs).toBe(1);
  });

  it('records the error and retries with backoff until maxAttempts, then fails for good', async () => {
    await enqueue(db, { kind: 'flaky', key: 'flaky:1', maxAttempts: 2 });
    const w = worker({ flaky: async () => { throw new Error('cluster said no'); } });
    expect(await w.tick()).toBe(1);
    let job = await findJob(db, 'flaky:1');
    expect(job).toMatchObject({ state: 'queued', attempts: 1, lastError: 'cluster said no' });
    expect(job!.runAt.getTime()).toBeGreaterThan(Date.now() + 2_000); // backed off
    expect(await w.tick()).toBe(0); // not due yet
    await db.execute(sql`update jobs set run_at = now() where key = 'flaky:1'`);
    await w.tick();
    job = await findJob(db, 'flaky:1');
    expect(job).toMatchObject({ state: 'failed', attempts: 2, lastError: 'cluster said no' });
    expect(job!.finishedAt).not.toBeNull();
  });

  it("takes over a job whose worker died once its lease expires", async () => {
    await enqueue(db, { kind: 'step', key: 'step:1' });
    // A process claims the job and dies without finishing or renewing.
    const [claimed] = await claim(db, 'dead-process', ['step'], 1, 200);
    expect(claimed?.key).toBe('step:1');
    let runs = 0;
    const survivor = worker({ step: async () => void runs++ }, other?.db ?? db);
    expect(await survivor.tick()).toBe(0); // still leased
    await new Promise((r) => setTimeout(r, 300));
    expect(await survivor.tick()).toBe(1);
    expect(runs).toBe(1);
    expect(await findJob(db, 'step:1')).toMatchObject({ state: 'done', attempts: 2, leaseOwner: null });
  });

  it('renews the lease of a long job so nobody else takes it', async () => {
    await enqueue(db, { kind: 'long', key: 'long:1' });
    let runs = 0;
    const slow = worker({ long: async () => { runs++; await new Promise((r) => setTimeout(r, 2_500)); } }, db, 1_500);
    const running = slow.tick();
    await new Promise((r) => setTimeout(r, 1_800)); // past the first lease
    expect(await worker({ long: async () => void runs++ }, other?.db ?? db, 1_500).tick()).toBe(0);
    await running;
    expect(runs).toBe(1);
  });

  it('reschedules periodic jobs one period later, declared once by every process', async () => {
    await ensurePeriodic(db, { kind: 'tick', periodMs: 60_000 });
    await ensurePeriodic(other?.db ?? db, { kind: 'tick', periodMs: 30_000 });
    let runs = 0;
    const w = worker({ tick: async () => void runs++ });
    expect(await w.tick()).toBe(1);
    const job = await findJob(db, 'tick');
    expect(job).toMatchObject({ state: 'queued', periodMs: 30_000, attempts: 0 });
    expect(job!.runAt.getTime() - Date.now()).toBeGreaterThan(25_000);
    expect(await w.tick()).toBe(0);
    expect(await runSoon(db, 'tick')).toBe(true);
    expect(await w.tick()).toBe(1);
    expect(runs).toBe(2);
  });

  it('gives running jobs back when it stops, for another process to resume', async () => {
    await enqueue(db, { kind: 'copy', key: 'copy:1' });
    let started!: () => void;
    const begun = new Promise<void>((r) => (started = r));
    const w = new Worker({
      db,
      log,
      pollMs: 20,
      handlers: {
        copy: (_job, { signal }) =>
          new Promise((_, reject) => {
            started();
            signal.addEventListener('abort', () => reject(new Error('aborted')));
          }),
      },
    });
    w.start();
    await begun;
    await w.stop();
    expect(await findJob(db, 'copy:1')).toMatchObject({ state: 'queued', attempts: 0, leaseOwner: null, lastError: null });
  });
});
