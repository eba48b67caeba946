import { describe, expect, it } from 'vitest';
import { FINAL_STATES, HAPPY_PATH, IllegalTransitionError, TRANSFER_STATES, assertTransition, canTransition } from '../../server/transfers/lifecycle.js';

describe('transfer lifecycle', () => {
  it('walks the happy path step by step', () => {
    for (let i = 1; i < HAPPY_PATH.length; i++) expect(canTransition(HAPPY_PATH[i - 1]!, HAPPY_PATH[i]!)).toBe(true);
  });

  it('never skips a step of the happy path', () => {
    for (let i = 0; i < HAPPY_PATH.length; i++)
      for (let j = i + 2; j < HAPPY_PATH.length; j++) expect(canTransition(HAPPY_PATH[i]!, HAPPY_PATH[j]!), `${HAPPY_PATH[i]} -> ${HAPPY_PATH[j]}`).toBe(false);
  });

  it('ends are final, but for a failure an operator retries or resolves', () => {
    for (const end of FINAL_STATES) if (end !== 'failed') for (const to of TRANSFER_STATES) expect(canTransition(end, to)).toBe(false);
    // retry: verify again (the tenancy stayed at the target) or freeze again (it went back to the source); resolve: roll forward or back
    expect(TRANSFER_STATES.filter((to) => canTransition('failed', to)).sort()).toEqual(['completed', 'frozen', 'rolled_back', 'verifying']);
  });

  it('can be cancelled before the freeze, and only rolled back from frozen until switching', () => {
    for (const s of ['draft', 'checked', 'approved', 'notice'] as const) expect(canTransition(s, 'cancelled')).toBe(true);
    for (const s of ['frozen', 'copying', 'switching', 'verifying'] as const) expect(canTransition(s, 'cancelled')).toBe(false);
    for (const s of ['frozen', 'copying', 'switching'] as const) expect(canTransition(s, 'rolled_back')).toBe(true);
    expect(canTransition('verifying', 'rolled_back')).toBe(false);
  });

  it('names both states when refusing', () => {
    expect(() => assertTransition('draft', 'completed')).toThrow(IllegalTransitionError);
    expect(() => assertTransition('draft', 'completed')).toThrow('a transfer cannot go from draft to completed');
  });
});
