// Signed checkpoints (C2SP tlog-checkpoint in a C2SP signed note, Ed25519).
// A checkpoint is only signed after checking that the tree is consistent with
// the previous checkpoint, so this log never signs two views that fork.
import type { Db, Executor } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Logger } from '../logger.js';
import { consistencyProof, rootHash, verifyConsistency } from './merkle.js';
import { formatCheckpoint, signNote, type NoteKey } from './note.js';
import { auditCheckpoints } from './table.js';
import { DbNodeReader, latestCheckpoint, treeSize } from './store.js';
import { sequenceAllIn } from './sequencer.js';
import { activeLogKeyRow, establishLogKey, lockLog, LogKeyError, openLogKey } from './log-keys.js';

/**
 * The origin a NEW log takes: the public URL without scheme, plus /audit.
 * An existing log keeps its stored origin whatever PUBLIC_URL says.
 */
export function auditOrigin(publicUrl: string): string {
  const u = new URL(publicUrl);
  return `${u.host}${u.pathname.replace(/\/+$/, '')}/audit`;
}

export class InconsistentTreeError extends Error {}

/**
 * Signs a checkpoint of the whole tree with `key` (origin = its name), each
 * co-signer adding its signature, after checking the tree is consistent with
 * the previous checkpoint. Sequences what is pending first, taking the log's
 * lock for the rest of the caller's transaction.
 */
export async function signCheckpoint(tx: Executor, key: NoteKey, ...cosigners: NoteKey[]): Promise<{ size: number; note: string }> {
  await sequenceAllIn(tx);
  const size = await treeSize(tx);
  const previous = await latestCheckpoint(tx);
  const reader = new DbNodeReader(tx);
  const root = await rootHash(reader, size);
  if (previous && previous.size > 0) {
    const proof = await consistencyProof(reader, previous.size, size);
    if (!verifyConsistency(previous.size, size, proof, previous.rootHash, root))
      throw new InconsistentTreeError(`audit tree at size ${size} is not consistent with the checkpoint at size ${previous.size}: refusing to sign`);
  }
  const note = signNote(formatCheckpoint({ origin: key.name, size, rootHash: root }), key, ...cosigners);
  await tx.insert(auditCheckpoints).values({ size, rootHash: root, note });
  return { size, note };
}

/**
 * Signs with the log's stored key. The key is read from the database at each
 * use (one small query), so a rotation by `meetplane audit rotate-key` reaches
 * every running process at its next checkpoint; opened keys are cached.
 */
export class CheckpointSigner {
  readonly #opened = new Map<string, NoteKey>();

  private constructor(private readonly box: SecretBox) {}

  /** Establishes the log's identity on first start (a new log takes `originForNewLog`). */
  static async load(db: Db, box: SecretBox, originForNewLog: string): Promise<CheckpointSigner> {
    await establishLogKey(db, box, originForNewLog);
    return new CheckpointSigner(box);
  }

  /** The key that signs now. */
  async key(db: Executor): Promise<NoteKey> {
    const row = await activeLogKeyRow(db);
    if (!row) throw new LogKeyError('the audit log has no signing key');
    let key = this.#opened.get(row.vkey);
    if (!key) this.#opened.set(row.vkey, (key = openLogKey(this.box, row)));
    return key;
  }

  async vkey(db: Executor): Promise<string> {
    return (await this.key(db)).vkey;
  }

  /**
   * Signs a checkpoint for the current tree unless the latest one already
   * covers it. Holds the append lock so the size cannot move meanwhile.
   */
  async issue(db: Db): Promise<{ size: number; note: string; issued: boolean }> {
    return db.transaction(async (tx) => {
      await lockLog(tx);
      await sequenceAllIn(tx); // what committed so far, so the checkpoint covers it
      const size = await treeSize(tx);
      const previous = await latestCheckpoint(tx);
      if (previous && previous.size >= size) return { size: previous.size, note: previous.note, issued: false };
      return { ...(await signCheckpoint(tx, await this.key(tx))), issued: true };
    });
  }
}

/**
 * Issues checkpoints shortly after writes (debounced) and at least every
 * `intervalMs` while the log grows. Several processes may run one each: the
 * lock and the "already covered" check make that harmless.
 */
export class Checkpointer {
  #timer: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #running: Promise<unknown> = Promise.resolve();
  /** The largest size afterIssue ran for. */
  #handled = 0;

  constructor(
    private readonly db: Db,
    private readonly signer: CheckpointSigner,
    private readonly log: Logger,
    private readonly intervalMs = 60_000,
    private readonly debounceMs = 500,
    /** Runs once for each newer checkpoint this process sees (witness cosignatures are asked for there); its failure is logged. */
    private readonly afterIssue?: (size: number) => Promise<unknown>,
  ) {}

  start(): void {
    this.#timer = setInterval(() => this.run(), this.intervalMs);
    this.#timer.unref();
  }

  /** Called after a request changed state. */
  nudge(): void {
    if (this.#debounce) return;
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      this.run();
    }, this.debounceMs);
    this.#debounce.unref();
  }

  run(): Promise<unknown> {
    this.#running = this.#running.then(() =>
      this.signer.issue(this.db).then(
        async (r) => {
          if (r.issued) this.log.debug({ size: r.size }, 'audit checkpoint signed');
          // Also a checkpoint a reader had signed meanwhile (GET /audit/checkpoint signs when the log
          // grew): otherwise a log polled often enough would never be sent to its witnesses.
          if (r.size <= this.#handled) return;
          this.#handled = r.size;
          await this.afterIssue?.(r.size).catch((err: unknown) => this.log.warn({ err }, 'after the audit checkpoint'));
        },
        (err) => this.log.error({ err }, 'audit checkpoint failed'),
      ),
    );
    return this.#running;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    clearTimeout(this.#debounce);
    await this.#running;
  }
}

