// Loading, strict validation, hashing and failing closed.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync, copyFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import canonicalize from 'canonicalize';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { describe, expect, it } from 'vitest';
import { Evaluator, PolicyLoadError } from '../../policies/evaluator.js';
import { loadPolicySource, POLICIES_DIR } from '../../policies/source.js';
import type { ResourceRef } from '../../policies/entities.js';
import { holder } from './world.js';

const evaluator = Evaluator.load();
const verified = { grantsVerified: true };

/** A copy of policies/ with one extra file, to load broken sets. */
function policiesWith(extra: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meetplane-policies-'));
  for (const f of readdirSync(POLICIES_DIR)) if (f.endsWith('.cedar') || f.endsWith('.cedarschema')) copyFileSync(path.join(POLICIES_DIR, f), path.join(dir, f));
  for (const [name, text] of Object.entries(extra)) writeFileSync(path.join(dir, name), text);
  return dir;
}

describe('policy set', () => {
  it('validates strictly against the schema, without errors or warnings', () => {
    const source = loadPolicySource();
    expect(Object.keys(source.policies).length).toBeGreaterThanOrEqual(20);
    const answer = cedar.validate({ validationSettings: { mode: 'strict' }, schema: source.schema, policies: { staticPolicies: source.policies } });
    expect(answer.type).toBe('success');
    if (answer.type !== 'success') return;
    expect(answer.validationErrors).toEqual([]);
    expect(answer.validationWarnings).toEqual([]);
  });

  it('gives every policy a stable id and knows the file it came from', () => {
    const { policies, files } = evaluator.source;
    expect(policies['platform-admin-all']).toMatch(/^@id\("platform-admin-all"\)/);
    expect(files['cluster-operator-operate']).toBe('cluster-operator.cedar');
    expect(files['deny-unverified-grants-on-change']).toBe('guards.cedar');
  });

  it('hashes the canonical id → text map', () => {
    const expected = createHash('sha256').update(canonicalize(evaluator.source.policies)!).digest('hex');
    expect(evaluator.policySetHash).toBe(expected);
    expect(Evaluator.load().policySetHash).toBe(expected);
    const changed = new Evaluator({ ...evaluator.source, policies: { ...evaluator.source.policies, 'extra-read': '@id("extra-read")\npermit (principal, action == Action::"coop.read", resource);' } });
    expect(changed.policySetHash).not.toBe(expected);
  });

  it('refuses to load a policy that does not validate', () => {
    const dir = policiesWith({ 'typo.cedar': '@id("typo")\npermit (principal, action == Action::"coop.read", resource) when { principal.roles.coopAdmins.isEmpty() };' });
    expect(() => Evaluator.load(dir)).toThrow(PolicyLoadError);
    expect(() => Evaluator.load(dir)).toThrow(/typo/);
  });

  it('refuses an unknown action, a policy without @id, and a duplicate id', () => {
    expect(() => Evaluator.load(policiesWith({ 'x.cedar': '@id("x")\npermit (principal, action == Action::"coop.fly", resource);' }))).toThrow(PolicyLoadError);
    expect(() => Evaluator.load(policiesWith({ 'x.cedar': 'permit (principal, action == Action::"coop.read", resource);' }))).toThrow(/no @id/);
    expect(() => Evaluator.load(policiesWith({ 'x.cedar': '@id("platform-admin-all")\npermit (principal, action == Action::"coop.read", resource);' }))).toThrow(/used twice/);
  });
});

describe('authorize fails closed', () => {
  const pa = holder('pa');

  it('denies an unknown action, even for a platform admin', () => {
    const d = evaluator.authorize(pa, 'coop.fly', { type: 'Platform' }, verified);
    expect(d).toMatchObject({ decision: 'deny', policyIds: [] });
    expect(d.reasons[0]).toMatch(/not an action/);
    // A group is not an action either.
    expect(evaluator.authorize(pa, 'change', { type: 'Platform' }, verified).decision).toBe('deny');
  });

  it('denies a request the schema does not allow (wrong resource type, bad context)', () => {
    const d = evaluator.authorize(pa, 'coop.read', { type: 'Cluster', id: 'A1', coopId: 'A' }, verified);
    expect(d.decision).toBe('deny');
    expect(d.reasons[0]).toMatch(/not valid for the policy schema/);
    const ctx = { grantsVerified: 'yes' } as unknown as { grantsVerified: boolean };
    expect(evaluator.authorize(pa, 'coop.read', { type: 'Coop', id: 'A' }, ctx).decision).toBe('deny');
  });

  it('denies, saying so, when the request cannot even be built (no resource given)', () => {
    const d = evaluator.authorize(holder('pa'), 'coop.read', null as unknown as ResourceRef, verified);
    expect(d).toMatchObject({ decision: 'deny', policyIds: [] });
    expect(d.reasons).toHaveLength(1);
    expect(d.reasons[0]).toMatch(/^the request could not be evaluated: .+/);
  });

  it('denies when the entities are malformed', () => {
    const broken = { type: 'Tenancy', id: 'T', coopId: 'A' } as unknown as ResourceRef; // no cluster
    expect(evaluator.authorize(pa, 'tenancy.read', broken, verified).decision).toBe('deny');
  });

  it('denies a change unless the grants were read from the database', () => {
    const coopA = { type: 'Coop' as const, id: 'A' };
    const d = evaluator.authorize(holder('ca'), 'coop.update', coopA, { grantsVerified: false });
    expect(d).toMatchObject({ decision: 'deny', policyIds: ['deny-unverified-grants-on-change'] });
    expect(evaluator.authorize(holder('ca'), 'coop.update', coopA, verified).decision).toBe('allow');
    expect(evaluator.authorize(holder('ca'), 'coop.read', coopA, { grantsVerified: false }).decision).toBe('allow');
  });

  it('treats a forbid that errors as a deny (Cedar would skip it and allow)', () => {
    // The real schema and policies, plus a context number and a forbid that overflows on it.
    const schema = evaluator.source.schema.replace('grantsVerified: Bool,', 'grantsVerified: Bool,\n  n?: Long,');
    expect(schema).not.toBe(evaluator.source.schema);
    const policies = {
      ...evaluator.source.policies,
      'forbid-overflow': '@id("forbid-overflow")\nforbid (principal, action, resource) when { context has n && context.n + 9223372036854775807 > 0 };',
    };
    const e = new Evaluator({ schema, policies, files: {} });
    const ctx = { grantsVerified: true, n: 5 } as { grantsVerified: boolean };
    const coopA = { type: 'Coop' as const, id: 'A' };
    const d = e.authorize(pa, 'coop.read', coopA, ctx);
    expect(d.decision).toBe('deny');
    expect(d.policyIds).toEqual(['forbid-overflow']);
    expect(d.reasons[0]).toMatch(/could not be evaluated \(integer overflow/);
    // Without the overflow the same request is allowed, so the error alone denied it.
    expect(e.authorize(pa, 'coop.read', coopA, { grantsVerified: true }).decision).toBe('allow');
    const x = e.explain(pa, 'coop.read', coopA, ctx);
    expect(x.policies.find((p) => p.id === 'forbid-overflow')).toMatchObject({ errored: true });
  });
});

describe('explain', () => {
  it('lists the policies naming the action and which of them matched', () => {
    const x = evaluator.explain(holder('ok'), 'cluster.readSecret', { type: 'Cluster', id: 'A2', coopId: 'A' }, verified);
    expect(x.decision).toBe('deny');
    expect(x.principal.grants).toEqual([{ id: 'g-self', role: 'cluster_operator', scope: 'cluster:A1', delegable: true }]);
    const ids = x.policies.map((p) => p.id).sort();
    expect(ids).toEqual(['cluster-operator-operate', 'coop-admin-read-cluster-secret', 'platform-admin-all']);
    expect(x.policies.every((p) => !p.matches && !p.errored)).toBe(true);

    const y = evaluator.explain(holder('ok'), 'cluster.drain', { type: 'Cluster', id: 'A1', coopId: 'A' }, { grantsVerified: false });
    expect(y).toMatchObject({ decision: 'deny', policyIds: ['deny-unverified-grants-on-change'] });
    expect(y.policies.find((p) => p.id === 'cluster-operator-operate')).toMatchObject({ effect: 'permit', matches: true });
    expect(y.policies.find((p) => p.id === 'deny-unverified-grants-on-change')).toMatchObject({ effect: 'forbid', matches: true, file: 'guards.cedar' });
  });
});
