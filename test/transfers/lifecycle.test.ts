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

  it('can be refused at every step before the freeze, and checked again while it waits for approval', () => {
    for (const s of ['draft', 'checked', 'approved', 'notice'] as const) expect(canTransition(s, 'rejected'), `${s} -> rejected`).toBe(true);
    for (const s of ['frozen', 'copying', 'switching', 'verifying'] as const) expect(canTransition(s, 'rejected'), `${s} -> rejected`).toBe(false);
    expect(canTransition('checked', 'checked')).toBe(true);
    for (const s of ['draft', 'approved', 'notice'] as const) expect(canTransition(s, s), `${s} -> ${s}`).toBe(false);
  });

  it('fails (for an operator) only once the switch has begun', () => {
    expect(TRANSFER_STATES.filter((from) => canTransition(from, 'failed')).sort()).toEqual(['switching', 'verifying']);
  });

  it('lists each state once, every one reachable from draft and every non-final one leading on', () => {
    expect(new Set(TRANSFER_STATES).size).toBe(13);
    const reached = new Set<string>(['draft']);
    for (let grew = true; grew; ) {
      grew = false;
      for (const from of reached) for (const to of TRANSFER_STATES) if (canTransition(from as (typeof TRANSFER_STATES)[number], to) && !reached.has(to)) (reached.add(to), (grew = true));
    }
    expect([...reached].sort()).toEqual([...TRANSFER_STATES].sort());
    for (const s of TRANSFER_STATES) if (!FINAL_STATES.has(s)) expect(TRANSFER_STATES.some((to) => canTransition(s, to)), s).toBe(true);
  });

  it('names both states when refusing', () => {
    expect(() => assertTransition('draft', 'completed')).toThrow(IllegalTransitionError);
    expect(() => assertTransition('draft', 'completed')).toThrow('a transfer cannot go from draft to completed');
  });
});
