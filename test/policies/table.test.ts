// The policies against the authorisation table: every row, every holder, on
// synthetic entities (no database). A mismatch names action, relation and holder.
import { describe, expect, it } from 'vitest';
import { Evaluator } from '../../policies/evaluator.js';
import { authzTable, HOLDERS, relationsOf } from '../../policies/authz-table.js';
import { holder, resourceFor } from './world.js';

const evaluator = Evaluator.load();
const rows = authzTable();

/**
 * The table's other accounts hold no role, so every actor holds at least all of
 * theirs: actions on an account are decided as when the cover.* rules all allow
 * (test/authz/takeover.db.test.ts decides them on accounts that hold roles).
 */
function contextFor(action: string) {
  return evaluator.actions.get(action)!.groups.includes('onAccount') ? { grantsVerified: true, actorHoldsEveryRole: true } : { grantsVerified: true };
}

describe('the authorisation table', () => {
  it('has exactly one row per action and relation of the schema, and no others', () => {
    const expected = [...evaluator.actions].flatMap(([action, info]) => relationsOf(info.resourceTypes).map((r) => `${action} ${r.relation}`));
    const actual = rows.map((r) => `${r.action} ${r.relation}`);
    expect(new Set(actual).size).toBe(actual.length);
    expect([...actual].sort()).toEqual([...expected].sort());
  });

  it('matches every decision of the policies', () => {
    const mismatches: string[] = [];
    let checked = 0;
    for (const row of rows) {
      const { type } = relationsOf(evaluator.actions.get(row.action)!.resourceTypes).find((r) => r.relation === row.relation)!;
      for (const h of HOLDERS) {
        const resource = resourceFor(h, type, row.relation);
        if (row.expect[h] === 'n/a') {
          expect(resource, `${row.action} ${row.relation} ${h}`).toBeUndefined();
          continue;
        }
        const d = evaluator.authorize(holder(h), row.action, resource!, contextFor(row.action));
        checked++;
        if (d.decision !== row.expect[h]) mismatches.push(`${row.action} ${row.relation} ${h}: table says ${row.expect[h]}, policies say ${d.decision} (${d.reasons.join('; ')})`);
      }
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(1000);
  });

  it('names the deciding policies on every allow', () => {
    const d = evaluator.authorize(holder('ok'), 'cluster.drain', resourceFor('ok', 'Cluster', 'own-cluster')!, { grantsVerified: true });
    expect(d).toMatchObject({ decision: 'allow', policyIds: ['cluster-operator-operate'], policySetHash: evaluator.policySetHash });
  });

  it('lets a delegated operator of another co-op drain the cluster, and nothing else of that co-op', () => {
    // An account of co-op B holding cluster_operator on co-op A's cluster A1.
    const visitor = { accountId: 'visitor', coopId: 'B', grants: [{ id: 'g', role: 'cluster_operator' as const, scope: { type: 'cluster' as const, id: 'A1' }, delegable: false }] };
    const ctx = { grantsVerified: true };
    const A1 = { type: 'Cluster' as const, id: 'A1', coopId: 'A' };
    const A2 = { type: 'Cluster' as const, id: 'A2', coopId: 'A' };
    expect(evaluator.authorize(visitor, 'cluster.drain', A1, ctx).decision).toBe('allow');
    expect(evaluator.authorize(visitor, 'cluster.readSecret', A2, ctx).decision).toBe('deny');
    expect(evaluator.authorize(visitor, 'cluster.read', A2, ctx).decision).toBe('deny');
    expect(evaluator.authorize(visitor, 'tenancy.read', { type: 'Tenancy', id: 'TA2', coopId: 'A', clusterId: 'A2' }, ctx).decision).toBe('deny');
    expect(evaluator.authorize(visitor, 'coop.read', { type: 'Coop', id: 'A' }, ctx).decision).toBe('deny');
    expect(evaluator.authorize(visitor, 'cluster.delete', A1, ctx).decision).toBe('deny');
  });
});
