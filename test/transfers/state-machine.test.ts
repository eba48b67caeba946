// The transfer state machine (server/transfers/lifecycle.ts) as an operator
// reads it: the happy path in order, the final states, and the refusal.
import { describe, expect, it } from 'vitest';
import { assertTransition, canTransition, FINAL_STATES, HAPPY_PATH, IllegalTransitionError, TRANSFER_STATES } from '../../server/transfers/lifecycle.js';

describe('the transfer state machine', () => {
  it('walks the happy path one allowed step at a time, from draft to completed', () => {
    expect(HAPPY_PATH).toEqual(['draft', 'checked', 'approved', 'notice', 'frozen', 'copying', 'switching', 'verifying', 'completed']);
    for (let i = 1; i < HAPPY_PATH.length; i++) expect(canTransition(HAPPY_PATH[i - 1]!, HAPPY_PATH[i]!), `${HAPPY_PATH[i - 1]} → ${HAPPY_PATH[i]}`).toBe(true);
  });

  it('ends in completed, rejected, cancelled and rolled_back for good; failed waits for an operator', () => {
    expect([...FINAL_STATES].sort()).toEqual(['cancelled', 'completed', 'failed', 'rejected', 'rolled_back']);
    for (const end of ['completed', 'rejected', 'cancelled', 'rolled_back'] as const)
      for (const to of TRANSFER_STATES) expect(canTransition(end, to), `${end} → ${to}`).toBe(false);
    expect(TRANSFER_STATES.filter((to) => canTransition('failed', to)).sort()).toEqual(['completed', 'frozen', 'rolled_back', 'verifying']);
  });

  it('refuses a skipped step with an error naming both states', () => {
    expect(() => assertTransition('approved', 'frozen')).toThrow(IllegalTransitionError);
    expect(() => assertTransition('approved', 'frozen')).toThrow('a transfer cannot go from approved to frozen');
    try {
      assertTransition('draft', 'completed');
    } catch (e) {
      expect(e).toMatchObject({ from: 'draft', to: 'completed' });
    }
    expect(() => assertTransition('draft', 'checked')).not.toThrow();
  });

  it('cannot be cancelled once frozen, only rolled back', () => {
    for (const s of ['frozen', 'copying', 'switching', 'verifying'] as const) expect(canTransition(s, 'cancelled'), s).toBe(false);
    for (const s of ['frozen', 'copying', 'switching'] as const) expect(canTransition(s, 'rolled_back'), s).toBe(true);
    expect(canTransition('verifying', 'rolled_back')).toBe(false);
  });
});
