// What every step of a transfer's execution shares: its dependencies, the
// system principal it acts as, the audited transition with its failpoints,
// and the table the copy records its files in.
import { excluded } from '../db/excluded.js';
import { eq } from 'drizzle-orm';
import type { Db, Tx } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Logger } from '../logger.js';
import type { Principal } from '../auth/principal.js';
import type { CheckpointSigner } from '../audit/checkpoints.js';
import type { AuditValue } from '../audit/trail.js';
import type { Outbound } from '../net/outbound.js';
import { failpoint } from '../failpoints.js';
import { transferFiles, type StoredDecision } from './table.js';
import { transition, type Transfer, type TransferDeps } from './service.js';
import type { TransferState } from './lifecycle.js';
import type { CopyRecord, CopyStateStore } from './copy.js';

/** The waits and the lease of execution (TRANSFER_MEETING_GRACE, TRANSFER_SOURCE_GRACE_DAYS, TRANSFER_LEASE). */
export interface ExecutionTiming {
  meetingGraceMs: number;
  sourceGraceMs: number;
  leaseMs: number;
}

export const DEFAULT_TIMING: ExecutionTiming = { meetingGraceMs: 30 * 60_000, sourceGraceMs: 14 * 86_400_000, leaseMs: 60_000 };

/**
 * The steps of a transfer to another instance that the protocol carries out (built by
 * server/peer-transfers/steps.ts, given here so this module needs nothing of the protocol's).
 */
export interface PeerSteps {
  /** Once frozen: sends the package if not yet sent; where the target is with it. */
  package(t: Transfer): Promise<{ state: 'waiting' } | { state: 'verified'; files: number; bytes: number } | { state: 'ended'; reason: string }>;
  /** In the switch's transaction: the tenancy is moved out, its gateway calls forwarded to the target's gateway. */
  switchOut(tx: Tx, t: Transfer, now: Date): Promise<Record<string, AuditValue>>;
  /** After the switch committed: the target is told (retried until it takes it); idempotent. */
  announce(t: Transfer): Promise<void>;
  /** After the switch: 'stored' once the receipt signed by both instances is kept here; otherwise its part done and 'waiting'. */
  receipt(t: Transfer): Promise<'waiting' | 'stored'>;
}

export interface ExecutionDeps extends TransferDeps {
  /** Transfers to another instance; without it such a transfer waits at its freeze ('peer'). */
  peerSteps?: PeerSteps;
  db: Db;
  box: SecretBox;
  log: Logger;
  signer: CheckpointSigner;
  /** The outbound-request policy for the clusters' APIs and playback URLs (server/net/outbound.ts). */
  outbound: Outbound;
  /** Where member pages live, for the links in export mails. */
  publicUrl?: string;
  timing?: Partial<ExecutionTiming>;
  /** This runner's name in the lease (default: one per process). */
  runner?: string;
  /**
   * Transfers whose start (the freeze) belongs to an orchestrator, e.g. a hand-over's waves with
   * their concurrency limit: the periodic runner does not freeze these, it only carries on with
   * them once started (a resumed copy, the switch, source deletion).
   */
  heldTransfers?: (db: Db) => Promise<ReadonlySet<string>>;
}

export const timingOf = (deps: Pick<ExecutionDeps, 'timing'>): ExecutionTiming => ({ ...DEFAULT_TIMING, ...deps.timing });

/** The system acts on its own here: the audit log names it as the local operator of this instance. */
export const SYSTEM: Principal = { accountId: '00000000-0000-0000-0000-000000000000', coopId: null, platformAdmin: true, via: 'local', tokenId: null };

/**
 * Moves a transfer on by one audited transition; the failpoints around the
 * commit are where the crash tests kill the process.
 */
export async function moveOn(
  deps: Pick<ExecutionDeps, 'db'>,
  t: Transfer,
  to: TransferState,
  action: string,
  extra: { decision?: StoredDecision; details?: Record<string, AuditValue>; set?: Partial<Transfer> } = {},
  /** Work that commits with the transition; what it returns joins the audit details. */
  alsoInTx?: (tx: Tx) => Promise<Record<string, AuditValue> | void>,
  actor: Principal = SYSTEM,
): Promise<void> {
  failpoint(`transfer.before:${to}`);
  await deps.db.transaction(async (tx) => {
    const more = await alsoInTx?.(tx);
    await transition(tx, actor, t, to, action, { ...extra, details: { ...extra.details, ...more } });
  });
  failpoint(`transfer.after:${to}`);
}

/** The copy's record of finished files, kept in transfer_files. */
export class DbCopyState implements CopyStateStore {
  constructor(
    private readonly db: Db,
    private readonly transferId: string,
    private readonly onDone: (path: string) => void = () => undefined,
    /** the records already read, when the caller has them */
    private readonly known?: CopyRecord[],
  ) {}
  async done(): Promise<CopyRecord[]> {
    if (this.known) return this.known;
    return this.db.select({ path: transferFiles.path, size: transferFiles.size, sha256: transferFiles.sha256, doneAt: transferFiles.doneAt }).from(transferFiles).where(eq(transferFiles.transferId, this.transferId));
  }
  async markDone(r: CopyRecord): Promise<void> {
    await this.markAllDone([r]);
  }
  async markAllDone(records: CopyRecord[]): Promise<void> {
    failpoint('copy.before-record');
    await this.db
      .insert(transferFiles)
      .values(records.map((r) => ({ transferId: this.transferId, ...r })))
      .onConflictDoUpdate({ target: [transferFiles.transferId, transferFiles.path], set: { size: excluded(transferFiles.size), sha256: excluded(transferFiles.sha256), doneAt: excluded(transferFiles.doneAt) } });
    for (const r of records) this.onDone(r.path);
    failpoint('copy.after-record');
  }
}

/**
 * A step that failed, with what recovery needs to know: which part of it, and
 * whether the target was found to hold every file (then the tenancy can stay
 * there), and the recording that stopped it, if one did.
 */
export class StepFailure extends Error {
  constructor(
    readonly step: string,
    message: string,
    readonly opts: { filesVerified?: boolean; recordId?: string; cause?: unknown } = {},
  ) {
    super(message);
    this.name = 'StepFailure';
  }
}
