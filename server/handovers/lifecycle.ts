// The hand-over plan's state machine: what may follow what. A plan is a draft
// until both co-ops approved it; then its tenancies' transfers exist and its
// waves run; cut-over (refused while a blocking task is open) ends the
// migration; completion signs the final report.
export const HANDOVER_STATES = ['draft', 'approved', 'running', 'cut-over', 'completed', 'cancelled'] as const;
export type HandoverState = (typeof HANDOVER_STATES)[number];

const NEXT: Record<HandoverState, readonly HandoverState[]> = {
  draft: ['approved', 'cancelled'],
  approved: ['running', 'cancelled'],
  running: ['cut-over'],
  'cut-over': ['completed'],
  completed: [],
  cancelled: [],
};

export function canMove(from: HandoverState, to: HandoverState): boolean {
  return NEXT[from].includes(to);
}
