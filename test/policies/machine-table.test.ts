// The policies against the machine-client table (policies/machine-table.ts):
// every row of the person table, for a machine client holding each role and for
// clients of a co-op and of a tenancy holding none. A mismatch names action,
// relation and holder.
import { describe, expect, it } from 'vitest';
import { Evaluator, type GrantFact, type PrincipalFacts } from '../../policies/evaluator.js';
import { HOLDER_GRANTS, relationsOf } from '../../policies/authz-table.js';
import { MACHINE_AS, MACHINE_HOLDERS, MACHINE_SCOPE, PERSON_ONLY_ACTIONS, machineTable, type MachineHolder } from '../../policies/machine-table.js';
import type { Scope } from '../../policies/roles.js';
import { HOLDER_ID, holder as personHolder, resourceFor } from './world.js';

const evaluator = Evaluator.load();
const rows = machineTable();

const SCOPE_OF: Record<string, Scope> = {
  global: { type: 'global' },
  A: { type: 'coop', id: 'A' },
  A1: { type: 'cluster', id: 'A1' },
  TA1: { type: 'tenancy', id: 'TA1' },
};

/** A machine client of co-op A (or of TA1) with the person holder's one grant, first-hand and delegable as in the person table. */
function machine(h: MachineHolder): PrincipalFacts {
  const g = HOLDER_GRANTS[MACHINE_AS[h]];
  const grants: GrantFact[] = g ? [{ id: 'g-self', role: g.role, scope: SCOPE_OF[g.scope]!, delegable: true, approvesTransfers: true }] : [];
  return { accountId: HOLDER_ID, coopId: 'A', grants, memberOf: [], machine: { coopId: 'A', tenancyId: MACHINE_SCOPE[h] === 'TA1' ? 'TA1' : null } };
}

const contextFor = (action: string) =>
  evaluator.actions.get(action)!.groups.includes('onAccount') ? { grantsVerified: true, actorHoldsEveryRole: true } : { grantsVerified: true };

describe('the machine-client table', () => {
  it('matches every decision of the policies, for every holder and relation', () => {
    const mismatches: string[] = [];
    let checked = 0;
    for (const row of rows) {
      const { type } = relationsOf(evaluator.actions.get(row.action)!.resourceTypes).find((r) => r.relation === row.relation)!;
      for (const h of MACHINE_HOLDERS) {
        if (row.expect[h] === 'n/a') continue;
        const resource = resourceFor(MACHINE_AS[h], type, row.relation)!;
        const d = evaluator.authorize(machine(h), row.action, resource, contextFor(row.action));
        checked++;
        if (d.decision !== row.expect[h]) mismatches.push(`${row.action} ${row.relation} ${h}: table says ${row.expect[h]}, policies say ${d.decision} (${d.reasons.join('; ')})`);
      }
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(1500);
  });

  it('refuses every person-only action by the rule machine-client-not-a-person, even to a platform admin client', () => {
    for (const action of PERSON_ONLY_ACTIONS) {
      const { relation, type } = relationsOf(evaluator.actions.get(action)!.resourceTypes)[0]!;
      const d = evaluator.authorize(machine('m-pa'), action, resourceFor('pa', type, relation)!, contextFor(action));
      expect(d.decision, action).toBe('deny');
      expect(d.policyIds, action).toContain('machine-client-not-a-person');
    }
  });

  it('decides a person holding the same grant as before: the person-only rule needs the machine flag', () => {
    const d = evaluator.authorize(personHolder('to'), 'transfer.approveAsOwner', resourceFor('to', 'Transfer', 'own-tenancy')!, { grantsVerified: true });
    expect(d).toMatchObject({ decision: 'allow' });
  });

  it('lets a client read its own scope by the rule machine-client-read-own-scope, and nothing of a sibling tenancy', () => {
    const own = evaluator.authorize(machine('m-tenancy'), 'tenancy.read', resourceFor('no', 'Tenancy', 'own-tenancy')!, { grantsVerified: true });
    expect(own).toMatchObject({ decision: 'allow', policyIds: ['machine-client-read-own-scope'] });
    expect(evaluator.authorize(machine('m-tenancy'), 'tenancy.read', resourceFor('no', 'Tenancy', 'other-tenancy')!, { grantsVerified: true }).decision).toBe('deny');
    expect(evaluator.authorize(machine('m-tenancy'), 'cluster.readHealth', resourceFor('no', 'Cluster', 'own-cluster')!, { grantsVerified: true }).decision).toBe('deny');
    expect(evaluator.authorize(machine('m-coop'), 'cluster.update', resourceFor('no', 'Cluster', 'own-cluster')!, { grantsVerified: true }).decision).toBe('deny');
  });
});
