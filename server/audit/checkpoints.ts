// Signed checkpoints (C2SP tlog-checkpoint in a C2SP signed note, Ed25519).
// A checkpoint is only signed after checking that the tree is consistent with
// the previous checkpoint, so this log never signs two views that fork.
import { sql } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Logger } from '../logger.js';
import { consistencyProof, rootHash, verifyConsistency } from './merkle.js';
import { formatCheckpoint, generateNoteKey, noteKeyFromPrivate, signNote, type NoteKey } from './note.js';
import { auditCheckpoints, auditKeys } from './table.js';
import { DbNodeReader, latestCheckpoint, treeSize } from './store.js';
import { AUDIT_LOCK_KEY } from './trail.js';

const KEY_LABEL = 'audit-checkpoint-key';

/** The log's origin line: the public URL without scheme, plus /audit. */
export function auditOrigin(publicUrl: string): string {
  const u = new URL(publicUrl);
  return `${u.host}${u.pathname.replace(/\/+$/, '')}/audit`;
}

export class InconsistentTreeError extends Error {}

export class CheckpointSigner {
  private constructor(readonly key: NoteKey) {}

  get vkey(): string {
    return this.key.vkey;
  }

  /** Loads the instance's checkpoint key, creating it on first use. */
  static async load(db: Db, box: SecretBox, origin: string): Promise<CheckpointSigner> {
    const [row] = await db.select().from(auditKeys).where(sql`${auditKeys.name} = ${origin}`);
    if (row) return new CheckpointSigner(noteKeyFromPrivate(origin, box.open(row.privateSealed, KEY_LABEL)));
    const key = generateNoteKey(origin);
    await db
      .insert(auditKeys)
      .values({ name: origin, privateSealed: box.seal(key.privateKey, KEY_LABEL), publicKey: key.publicKey })
      .onConflictDoNothing();
    // Another process may have won the race: use whatever is stored.
    const [stored] = await db.select().from(auditKeys).where(sql`${auditKeys.name} = ${origin}`);
    return new CheckpointSigner(noteKeyFromPrivate(origin, box.open(stored!.privateSealed, KEY_LABEL)));
  }

  /**
   * Signs a checkpoint for the current tree unless the latest one already
   * covers it. Holds the append lock so the size cannot move meanwhile.
   */
  async issue(db: Db): Promise<{ size: number; note: string; issued: boolean }> {
    return db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`);
      const size = await treeSize(tx);
      const previous = await latestCheckpoint(tx);
      if (previous && previous.size >= size) return { size: previous.size, note: previous.note, issued: false };
      const reader = new DbNodeReader(tx);
      const root = await rootHash(reader, size);
      if (previous && previous.size > 0) {
        const proof = await consistencyProof(reader, previous.size, size);
        if (!verifyConsistency(previous.size, size, proof, previous.rootHash, root))
          throw new InconsistentTreeError(
            `audit tree at size ${size} is not consistent with the checkpoint at size ${previous.size}: refusing to sign`,
          );
      }
      const note = signNote(formatCheckpoint({ origin: this.key.name, size, rootHash: root }), this.key);
      await tx.insert(auditCheckpoints).values({ size, rootHash: root, note });
      return { size, note, issued: true };
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

  constructor(
    private readonly db: Db,
    private readonly signer: CheckpointSigner,
    private readonly log: Logger,
    private readonly intervalMs = 60_000,
    private readonly debounceMs = 500,
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
        (r) => r.issued && this.log.debug({ size: r.size }, 'audit checkpoint signed'),
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

