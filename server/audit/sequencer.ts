// Sequencing: turns committed pending entries (written by appendAudit in each
// change's own transaction, without any lock) into log entries. One sequencer at
// a time across processes (the log's advisory lock, taken in the sequencing
// transaction) takes the pending rows it can see in id order, gives them the
// next indices and the time, builds the canonical bytes, inserts the entries
// and the tree nodes they complete, and deletes the pending rows, all in one
// transaction: a crash mid-batch loses nothing and sequences nothing twice. A
// pending row that commits after a later id was sequenced simply gets the next
// index when it is seen. Writers so never wait for each other; the tree, its
// stored nodes and checkpoints are exactly those one-at-a-time appends built.
import { asc, inArray } from 'drizzle-orm';
import { beforeClose, type Db, type Executor } from '../db/index.js';
import { failpoint } from '../failpoints.js';
import { canonicalBytes } from './canonical.js';
import { combineAppend, leafHash, planAppend, planRoot, type NodeId, type NodeRecord } from './merkle.js';
import { DbNodeReader, insertNodes, treeSize } from './store.js';
import { auditEntries, auditPending } from './table.js';
import { lockLog } from './lock.js';
import { appendsSeen, onAppend } from './wake.js';

export const SEQUENCE_BATCH = 1000;
/** How long the background loop lets appends gather before a run. */
const GATHER_MS = 50;

/**
 * Sequences up to `limit` pending entries in the caller's transaction, taking
 * the log's lock in it (held until that transaction ends). Returns the index
 * each pending id got. The caller's own uncommitted pending rows are included.
 */
export async function sequenceBatch(tx: Executor, limit = SEQUENCE_BATCH): Promise<Map<number, number>> {
  await lockLog(tx);
  // Taken out at once (in id order); put back by a rollback if anything below fails.
  const taken = await tx
    .delete(auditPending)
    .where(inArray(auditPending.id, tx.select({ id: auditPending.id }).from(auditPending).orderBy(asc(auditPending.id)).limit(limit)))
    .returning();
  const rows = taken.sort((a, b) => a.id - b.id);
  const assigned = new Map<number, number>();
  if (rows.length === 0) return assigned;
  const size = await treeSize(tx);
  const tree = await Frontier.load(tx, size);
  const now = new Date();
  const entries = [];
  const nodes: NodeRecord[] = [];
  for (const [i, row] of rows.entries()) {
    const index = size + i;
    const entry = canonicalBytes({ ...(JSON.parse(row.body) as object), index, time: now.toISOString() });
    const leaf = leafHash(entry);
    entries.push({ idx: index, createdAt: now, actorRef: row.actorRef, action: row.action, subjectType: row.subjectType, subjectId: row.subjectId, entry, leafHash: leaf });
    nodes.push(...tree.append(index, leaf));
    assigned.set(row.id, index);
  }
  for (let i = 0; i < entries.length; i += 500) await tx.insert(auditEntries).values(entries.slice(i, i + 500));
  failpoint('audit.sequence.batch');
  for (let i = 0; i < nodes.length; i += 1000) await insertNodes(tx, nodes.slice(i, i + 1000));
  return assigned;
}

/** Sequences every pending entry the caller's transaction can see (in it). */
export async function sequenceAllIn(tx: Executor): Promise<Map<number, number>> {
  const all = new Map<number, number>();
  for (;;) {
    const batch = await sequenceBatch(tx);
    for (const [id, index] of batch) all.set(id, index);
    if (batch.size < SEQUENCE_BATCH) return all;
  }
}

/**
 * The complete nodes a batch needs: the old tree's frontier (planRoot's nodes,
 * one query) plus what the batch adds. Every left sibling an append needs is
 * one of these (a miss would be a bug: it throws, and the batch rolls back).
 */
class Frontier {
  readonly #nodes = new Map<string, Uint8Array>();

  static async load(db: Executor, size: number): Promise<Frontier> {
    const f = new Frontier();
    const plan = planRoot(size).nodes;
    const hashes = plan.length === 0 ? [] : await new DbNodeReader(db).get(plan);
    plan.forEach((n, i) => f.#nodes.set(key(n), hashes[i]!));
    return f;
  }

  append(index: number, leaf: Uint8Array): NodeRecord[] {
    const lefts = planAppend(index).map((n) => {
      const hash = this.#nodes.get(key(n));
      if (!hash) throw new Error(`audit tree node (${n.level}, ${n.index}) is not on the frontier`);
      return hash;
    });
    const records = combineAppend(index, leaf, lefts);
    this.#nodes.set(key({ level: 0, index }), leaf);
    for (const r of records) this.#nodes.set(key(r), r.hash);
    return records;
  }
}

const key = (n: NodeId) => `${n.level}:${n.index}`;

/**
 * The sequencer of one database handle: `flush()` is the read barrier (every
 * entry committed before the call is in the log when it resolves); `start()`
 * runs it in the background shortly after appends in this process and every
 * `pollMs` for other processes' appends.
 */
export class Sequencer {
  #inFlight: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #hotUntil = 0;
  #backoff = GATHER_MS;
  #sequenced = 0;
  #stopped = false;

  #onError: (err: unknown) => void = () => {};

  constructor(
    private readonly db: Db,
    private readonly pollMs = 1000,
  ) {}

  /** Resolves once every pending entry committed before the call is sequenced. */
  flush(): Promise<void> {
    // A run already under way may have read the pending rows before ours committed: queue one more.
    if (!this.#inFlight) return (this.#inFlight = this.#drain());
    return (this.#next ??= this.#inFlight.catch(() => {}).then(() => {
      this.#next = undefined;
      return (this.#inFlight = this.#drain());
    }));
  }

  async #drain(): Promise<void> {
    try {
      // Nothing committed is pending (one read, no lock): the log is already whole.
      if ((await this.db.select({ id: auditPending.id }).from(auditPending).limit(1)).length === 0) return;
      for (;;) {
        const n = await this.db.transaction(async (tx) => (await sequenceBatch(tx)).size);
        this.#sequenced += n;
        if (n < SEQUENCE_BATCH) return;
      }
    } finally {
      this.#inFlight = undefined;
    }
  }

  /** `onError`: a failed background run (it is retried at the next wake or poll). */
  start(onError: (err: unknown) => void = () => {}): void {
    this.#onError = onError;
    this.#stopped = false;
    this.#unsubscribe = onAppend(() => this.#wake());
    this.#poll = setInterval(() => this.#wake(0), this.pollMs);
    this.#poll.unref();
    this.#wake(0);
  }

  /**
   * Looks again soon, and keeps looking for a while (the appender commits after it
   * appended): every GATHER_MS while entries keep coming, so that one run takes many
   * (fewer, larger batches: writers are not slowed by a sequencer running after each
   * of them), then backing off to 200 ms. Readers do not wait for this: they flush.
   */
  #wake(hotMs = 2000): void {
    this.#hotUntil = Math.max(this.#hotUntil, Date.now() + hotMs);
    if (!this.#timer && !this.#stopped) this.#schedule(GATHER_MS);
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#drainCounting().then(
        (n) => this.#after(n),
        (err: unknown) => {
          this.#onError(err);
          this.#after(0);
        },
      );
    }, delayMs);
    this.#timer.unref();
  }

  async #drainCounting(): Promise<number> {
    const before = this.#sequenced;
    await this.flush();
    return this.#sequenced - before;
  }

  #after(sequenced: number): void {
    this.#timer = undefined;
    if (this.#stopped || Date.now() > this.#hotUntil) return;
    this.#backoff = sequenced > 0 ? GATHER_MS : Math.min(this.#backoff * 2, 200);
    this.#schedule(this.#backoff);
  }

  /** Stops the background loop and sequences what is left. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    clearInterval(this.#poll);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}

const sequencers = new WeakMap<Db, Sequencer>();

/** The one sequencer for this database handle (barriers share its runs). */
export function sequencerOf(db: Db): Sequencer {
  let s = sequencers.get(db);
  if (!s) sequencers.set(db, (s = new Sequencer(db)));
  return s;
}

/** The read barrier: every audit entry committed so far is in the log. */
export function sequenceAudit(db: Db): Promise<void> {
  return sequencerOf(db).flush();
}

// A command that appended and exits leaves nothing for the next process to number.
beforeClose(async (db) => {
  if (appendsSeen()) await sequenceAudit(db);
});
