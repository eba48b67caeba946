// Runs leased jobs. Any number of processes may run a Worker against one
// PostgreSQL: each claims due jobs with SKIP LOCKED, renews its leases while a job
// runs, and gives them back when it stops. A process that dies keeps its leases
// only until they expire; then another worker takes the jobs over.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db } from '../db/index.js';
import type { Logger } from '../logger.js';
import { claim, complete, fail, release, renewLease, type Job } from './queue.js';

export interface JobContext {
  /** Aborted when the worker stops or the lease was lost: stop and leave the job resumable. */
  signal: AbortSignal;
  log: Logger;
}

export type JobHandler = (job: Job, ctx: JobContext) => Promise<void>;

export interface WorkerOptions {
  db: Db;
  log: Logger;
  handlers: Readonly<Record<string, JobHandler>>;
  /** How long a claimed job stays ours without renewal (default 60 s). */
  leaseMs?: number;
  /** Jobs run at once by this process (default 4). */
  concurrency?: number;
  /** Pause between looks at the table while idle (default 1 s). */
  pollMs?: number;
}

export class Worker {
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  readonly #o: Required<Omit<WorkerOptions, 'handlers'>> & { handlers: Readonly<Record<string, JobHandler>> };
  readonly #running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  #timer: NodeJS.Timeout | undefined;
  #stopping = false;
  #pumping: Promise<unknown> | undefined;

  constructor(options: WorkerOptions) {
    this.#o = { leaseMs: 60_000, concurrency: 4, pollMs: 1_000, ...options };
  }

  get kinds(): string[] {
    return Object.keys(this.#o.handlers);
  }

  start(): void {
    this.#stopping = false;
    const loop = () => {
      if (this.#stopping) return;
      this.#pumping = this.#pump()
        .catch((err: unknown) => this.#o.log.warn({ err }, 'job claim failed'))
        .finally(() => {
          if (!this.#stopping) this.#timer = setTimeout(loop, this.#o.pollMs);
        });
    };
    loop();
  }

  /** Claims what is due now and waits for those jobs to finish; the number run. */
  async tick(): Promise<number> {
    const started = await this.#launch(this.#o.concurrency);
    await Promise.all(started.map((id) => this.#running.get(id)?.done));
    return started.length;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    await this.#pumping;
    for (const { abort } of this.#running.values()) abort.abort(new Error('worker stopping'));
    await Promise.all([...this.#running.values()].map((r) => r.done));
  }

  async #pump(): Promise<void> {
    await this.#launch(this.#o.concurrency - this.#running.size);
  }

  async #launch(slots: number): Promise<string[]> {
    const claimed = await claim(this.#o.db, this.owner, this.kinds, slots, this.#o.leaseMs);
    for (const job of claimed) {
      const abort = new AbortController();
      const done = this.#run(job, abort).finally(() => this.#running.delete(job.id));
      this.#running.set(job.id, { abort, done });
    }
    return claimed.map((j) => j.id);
  }

  async #run(job: Job, abort: AbortController): Promise<void> {
    const { db, leaseMs } = this.#o;
    const log = this.#o.log.child({ job: job.id, kind: job.kind, attempt: job.attempts });
    const renew = setInterval(() => {
      renewLease(db, job, this.owner, leaseMs).then(
        (kept) => kept || abort.abort(new Error('lease lost')),
        (err: unknown) => log.warn({ err }, 'lease renewal failed'),
      );
    }, Math.max(1_000, Math.floor(leaseMs / 3)));
    try {
      await this.#o.handlers[job.kind]!(job, { signal: abort.signal, log });
      await complete(db, job, this.owner);
    } catch (err) {
      if (abort.signal.aborted && this.#stopping) {
        await release(db, job, this.owner).catch(() => undefined);
        return;
      }
      const message = err instanceof Error ? err.message : String(err);
      log.warn({ error: message }, 'job failed');
      await fail(db, job, this.owner, message).catch((e: unknown) => log.error({ err: e }, 'could not record job failure'));
    } finally {
      clearInterval(renew);
    }
  }
}
