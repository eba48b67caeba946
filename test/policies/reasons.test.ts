// What a denial or an allow says to the person reading it, and what explain
// shows about the principal and the policies (policies/evaluator.ts).
import { describe, expect, it } from 'vitest';
import { Evaluator, policyEvaluator } from '../../policies/evaluator.js';
import { holder } from './world.js';

const evaluator = Evaluator.load();
const verified = { grantsVerified: true };
const coopA = { type: 'Coop' as const, id: 'A' };

describe('reasons', () => {
  it('name the action, the object and the deciding policies', () => {
    expect(evaluator.authorize(holder('ca'), 'coop.update', coopA, verified).reasons).toEqual([`coop.update on Coop::"A" is permitted by ${evaluator.authorize(holder('ca'), 'coop.update', coopA, verified).policyIds.join(', ')}`]);
    expect(evaluator.authorize(holder('ca'), 'coop.update', coopA, { grantsVerified: false }).reasons).toEqual(['coop.update on Coop::"A" is forbidden by deny-unverified-grants-on-change']);
    expect(evaluator.authorize(holder('no'), 'coop.update', coopA, verified)).toMatchObject({
      decision: 'deny',
      policyIds: [],
      reasons: ['no policy permits coop.update on Coop::"A" for this principal'],
    });
    expect(evaluator.authorize(holder('pa'), 'coop.create', { type: 'Platform' }, verified).reasons[0]).toBe('coop.create on Platform::"meetplane" is permitted by platform-admin-all');
  });

  it('keep the engine\'s words when the request cannot be evaluated, and then explain lists no policies', () => {
    const bad = evaluator.explain(holder('pa'), 'coop.read', { type: 'Cluster', id: 'A1', coopId: 'A' }, verified);
    expect(bad.decision).toBe('deny');
    expect(bad.reasons[0]).toMatch(/^the request is not valid for the policy schema: /);
    expect(bad.policies).toEqual([]);
    const unknown = evaluator.explain(holder('pa'), 'coop.fly', coopA, verified);
    expect(unknown.reasons).toEqual(['"coop.fly" is not an action of the policy schema']);
    expect(unknown.policies).toEqual([]);
  });
});

describe('explain', () => {
  it('shows the principal, its grants and memberships, and the resource', () => {
    const x = evaluator.explain(holder('me'), 'tenancy.read', { type: 'Tenancy', id: 'TA1', coopId: 'A', clusterId: 'A1' }, verified);
    expect(x.decision).toBe('allow');
    expect(x.principal).toEqual({ uid: 'Account::"holder"', grants: [], memberOf: ['TA1'] });
    expect(x.resource).toBe('Tenancy::"TA1"');
    expect(x.action).toBe('tenancy.read');
    const pa = evaluator.explain(holder('pa'), 'coop.read', coopA, verified);
    expect(pa.principal.grants).toEqual([{ id: 'g-self', role: 'platform_admin', scope: 'global', delegable: true }]);
    expect(pa.policies.find((p) => p.id === 'platform-admin-all')).toMatchObject({ matches: true, errored: false, effect: 'permit', file: 'platform.cedar' });
    expect(pa.policies.every((p) => p.text.startsWith(`@id("${p.id}")`))).toBe(true);
  });

  it('lists only the policies that name the action, through its groups or all actions', () => {
    const x = evaluator.explain(holder('ca'), 'coop.update', coopA, verified);
    const ids = x.policies.map((p) => p.id);
    expect(ids).toContain('deny-unverified-grants-on-change'); // names the group "change"
    expect(ids).toContain('platform-admin-all'); // names every action
    expect(ids).not.toContain('cluster-operator-operate');
  });
});

describe('the policy set as a whole', () => {
  it('lists every policy with its file and effect', () => {
    const list = evaluator.list();
    expect(list.length).toBe(Object.keys(evaluator.source.policies).length);
    expect(list.find((p) => p.id === 'deny-unverified-grants-on-change')).toMatchObject({ file: 'guards.cedar', effect: 'forbid' });
    expect(list.find((p) => p.id === 'platform-admin-all')).toMatchObject({ file: 'platform.cedar', effect: 'permit' });
  });

  it('knows the actions, their groups (sorted) and which change state', () => {
    expect(evaluator.isAction('coop.update')).toBe(true);
    expect(evaluator.isAction('coop.fly')).toBe(false);
    const update = evaluator.actions.get('coop.update')!;
    expect(update.changes).toBe(true);
    expect(update.groups).toEqual([...update.groups].sort());
    expect(update.groups).toContain('change');
    expect(update.resourceTypes).toEqual(['Coop']);
    expect(evaluator.actions.get('coop.read')!.changes).toBe(false);
    expect(evaluator.schemaHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is loaded once per process', () => {
    expect(policyEvaluator()).toBe(policyEvaluator());
    expect(policyEvaluator().policySetHash).toBe(evaluator.policySetHash);
  });
});

describe('delegable grants', () => {
  it('let their holder delegate on their scope; the same grant not delegable lets it delegate nothing', () => {
    const own = { type: 'Cluster' as const, id: 'A1', coopId: 'A' };
    const delegable = holder('ok');
    const fixed = { ...delegable, grants: delegable.grants.map((g) => ({ ...g, delegable: false })) };
    expect(evaluator.authorize(delegable, 'grant.delegate', own, verified).decision).toBe('allow');
    expect(evaluator.authorize(fixed, 'grant.delegate', own, verified).decision).toBe('deny');
    expect(evaluator.authorize(fixed, 'cluster.drain', own, verified).decision).toBe('allow');
  });
});

describe('several deciding policies', () => {
  // The shipped policies plus two forbids on one co-op and one forbid that never applies.
  const forbid = (id: string, coop: string) => `@id("${id}")\nforbid (principal, action == Action::"coop.read", resource == Coop::"${coop}");`;
  const permit = (id: string, coop: string) => `@id("${id}")\npermit (principal, action == Action::"coop.read", resource == Coop::"${coop}");`;
  const e = new Evaluator({
    schema: evaluator.source.schema,
    policies: {
      ...evaluator.source.policies,
      'forbid-z-one': forbid('forbid-z-one', 'Z'),
      'forbid-z-two': forbid('forbid-z-two', 'Z'),
      'forbid-y': forbid('forbid-y', 'Y'),
      'permit-x-one': permit('permit-x-one', 'X'),
      'permit-x-two': permit('permit-x-two', 'X'),
    },
    files: { ...evaluator.source.files, 'forbid-z-one': 'z.cedar', 'forbid-z-two': 'z.cedar', 'forbid-y': 'y.cedar' },
  });
  const coopZ = { type: 'Coop' as const, id: 'Z' };

  it('are all named in the reason', () => {
    const allowed = e.authorize(holder('no'), 'coop.read', { type: 'Coop', id: 'X' }, verified);
    expect(allowed.decision).toBe('allow');
    expect([...allowed.policyIds].sort()).toEqual(['permit-x-one', 'permit-x-two']);
    expect(allowed.reasons).toEqual([`coop.read on Coop::"X" is permitted by ${allowed.policyIds.join(', ')}`]);
    const d = e.authorize(holder('pa'), 'coop.read', coopZ, verified);
    expect(d.decision).toBe('deny');
    expect([...d.policyIds].sort()).toEqual(['forbid-z-one', 'forbid-z-two']);
    expect(d.reasons).toEqual([`coop.read on Coop::"Z" is forbidden by ${d.policyIds.join(', ')}`]);
  });

  it('are shown as matching by explain, and a forbid that does not apply as not matching', () => {
    const x = e.explain(holder('pa'), 'coop.read', coopZ, verified);
    const shown = (id: string) => x.policies.find((p) => p.id === id);
    expect(shown('forbid-z-one')).toMatchObject({ effect: 'forbid', matches: true, errored: false, file: 'z.cedar' });
    expect(shown('forbid-z-two')).toMatchObject({ effect: 'forbid', matches: true, errored: false });
    expect(shown('forbid-y')).toMatchObject({ effect: 'forbid', matches: false, errored: false, file: 'y.cedar' });
    expect(shown('platform-admin-all')).toMatchObject({ effect: 'permit', matches: true });
  });
});

describe('explain, for a principal or policies with less said', () => {
  it('shows no memberships for a principal whose memberships are not given', () => {
    const x = evaluator.explain({ accountId: 'nobody', coopId: null, grants: [] }, 'coop.read', coopA, verified);
    expect(x.principal).toEqual({ uid: 'Account::"nobody"', grants: [], memberOf: [] });
    expect(x.decision).toBe('deny');
  });

  it('lists a policy whose file is not known with an empty file name', () => {
    const bare = new Evaluator({ schema: evaluator.source.schema, policies: evaluator.source.policies, files: {} });
    expect(bare.list().every((p) => p.file === '')).toBe(true);
    const x = bare.explain(holder('pa'), 'coop.read', coopA, verified);
    expect(x.policies.length).toBeGreaterThan(0);
    expect(x.policies.every((p) => p.file === '')).toBe(true);
  });
});
