// The policies are asked once per question about one set of facts: the same action on the same
// resource for the same facts object is answered from what Cedar said; new facts (the cache
// replaces them on any change to grants or memberships), another resource or another action
// are asked afresh, and the answers are Cedar's own.
import { describe, expect, it } from 'vitest';
import { Authz } from '../../server/authz/authz.js';
import { policyEvaluator, type Evaluator, type PrincipalFacts } from '../../policies/evaluator.js';
import type { Db } from '../../server/db/index.js';

function counting(): { evaluator: Evaluator; asked: () => number } {
  const real = policyEvaluator();
  let asked = 0;
  const evaluator = Object.create(real) as Evaluator;
  evaluator.authorize = (...args: Parameters<Evaluator['authorize']>) => {
    asked++;
    return real.authorize(...args);
  };
  return { evaluator, asked: () => asked };
}

const coopAdmin = (coopId: string): PrincipalFacts => ({
  accountId: '01900000-0000-7000-8000-000000000001',
  coopId,
  grants: [{ id: 'g1', role: 'coop_admin', scope: { type: 'coop', id: coopId }, delegable: false }],
  memberOf: [],
});
const tenancy = (coopId: string) => ({ type: 'Tenancy' as const, id: 't1', coopId, clusterId: 'c1' });

describe('decisions kept with the facts they were made on', () => {
  // Neither action is on another account, so the database is never read.
  const db = {} as Db;

  it('asks Cedar once for the same question about the same facts, and again for new facts', async () => {
    const { evaluator, asked } = counting();
    const authz = new Authz(db, evaluator);
    const facts = coopAdmin('A');
    const first = await authz.decideFor(facts, 'tenancy.read', tenancy('A'));
    const again = await authz.decideFor(facts, 'tenancy.read', tenancy('A'));
    expect(first.decision).toBe('allow');
    expect(again).toEqual(first);
    expect(asked()).toBe(1);
    // The grant revoked: the facts cache hands over a new facts object, and the answer is Cedar's anew.
    const revoked = { ...facts, grants: [] };
    expect((await authz.decideFor(revoked, 'tenancy.read', tenancy('A'))).decision).toBe('deny');
    expect(asked()).toBe(2);
  });

  it('asks again for another resource or another action, with the answers Cedar gives', async () => {
    const { evaluator, asked } = counting();
    const authz = new Authz(db, evaluator);
    const facts = coopAdmin('A');
    expect((await authz.decideFor(facts, 'tenancy.read', tenancy('A'))).decision).toBe('allow');
    expect((await authz.decideFor(facts, 'tenancy.read', tenancy('B'))).decision).toBe('deny');
    const update = await authz.decideFor(facts, 'tenancy.update', tenancy('A'));
    expect(update).toEqual(policyEvaluator().authorize(facts, 'tenancy.update', tenancy('A'), { grantsVerified: true }));
    expect(asked()).toBe(3);
  });
});
