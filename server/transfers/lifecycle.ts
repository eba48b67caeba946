// The transfer state machine (DESIGN.md, Flows): which state may follow which,
// and which ends are final. Every transition the transfers module makes goes
// through `assertTransition`, so no code path can skip a step.
export const TRANSFER_STATES = [
  'draft',
  'checked',
  'approved',
  'notice',
  'frozen',
  'copying',
  'switching',
  'verifying',
  'completed',
  'rejected',
  'cancelled',
  'failed',
  'rolled_back',
] as const;

export type TransferState = (typeof TRANSFER_STATES)[number];

export const FINAL_STATES: ReadonlySet<TransferState> = new Set(['completed', 'rejected', 'cancelled', 'failed', 'rolled_back']);

/**
 * Before the tenancy is frozen a transfer can be cancelled or refused; once
 * frozen, a failure before switching rolls back (nothing was deleted at the
 * source). A failure after the switch is `failed`, with the tenancy already
 * active where its data is whole (recovery.ts); from there an operator retries
 * (`verifying` again when it stayed at the target, `frozen` again when it went
 * back to the source) or resolves it (`completed` by rolling forward,
 * `rolled_back` by rolling back). `failed` is final for the runner: only an
 * operator moves it on.
 */
const NEXT: Record<TransferState, readonly TransferState[]> = {
  draft: ['checked', 'rejected', 'cancelled'],
  checked: ['checked', 'approved', 'rejected', 'cancelled'],
  approved: ['notice', 'rejected', 'cancelled'],
  notice: ['frozen', 'rejected', 'cancelled'],
  frozen: ['copying', 'rolled_back'],
  copying: ['switching', 'rolled_back'],
  switching: ['verifying', 'rolled_back', 'failed'],
  verifying: ['completed', 'failed'],
  completed: [],
  rejected: [],
  cancelled: [],
  failed: ['verifying', 'frozen', 'completed', 'rolled_back'],
  rolled_back: [],
};

export function canTransition(from: TransferState, to: TransferState): boolean {
  return NEXT[from].includes(to);
}

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: TransferState,
    readonly to: TransferState,
  ) {
    super(`a transfer cannot go from ${from} to ${to}`);
  }
}

export function assertTransition(from: TransferState, to: TransferState): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
}

/** The happy path, in order: what `status` shows as steps. */
export const HAPPY_PATH: readonly TransferState[] = ['draft', 'checked', 'approved', 'notice', 'frozen', 'copying', 'switching', 'verifying', 'completed'];
