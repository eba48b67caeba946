// The Cedar core every decision goes through (policies/engine.ts) and the
// loading of rule sets (policies/source.ts), on a small rule set of its own:
// what allows, what forbids, and that anything that cannot be evaluated denies.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import canonicalize from 'canonicalize';
import { describe, expect, it } from 'vitest';
import { PolicyEngine } from '../../policies/engine.js';
import { loadPolicySource, PolicyLoadError, POLICIES_DIR, SCHEMA_FILE, splitPolicies } from '../../policies/source.js';

const SCHEMA = `
entity User;
entity Doc;
action "read" appliesTo { principal: User, resource: Doc, context: { n: Long } };
`;
const POLICIES: Record<string, string> = {
  'permit-positive': '@id("permit-positive")\npermit (principal, action == Action::"read", resource) when { context.n > 0 };',
  'forbid-seven': '@id("forbid-seven")\nforbid (principal, action == Action::"read", resource) when { context.n == 7 };',
  // Overflows (an evaluation error) for n >= 10: Cedar skips a forbid that errors; the engine must deny.
  'forbid-overflow': '@id("forbid-overflow")\nforbid (principal, action == Action::"read", resource) when { context.n >= 10 && context.n * 1000000000000000000 > 0 };',
};
const engine = new PolicyEngine({ schema: SCHEMA, policies: POLICIES, files: {} });
const read = (context: Record<string, unknown>, e = engine) =>
  e.decide({ principal: { type: 'User', id: 'u' }, action: 'read', resource: { type: 'Doc', id: 'd' }, context: context as never, entities: [] });

describe('the policy engine', () => {
  it('allows when a permit matches, naming it', () => {
    expect(read({ n: 1 })).toEqual({ decision: 'allow', policyIds: ['permit-positive'], reasons: ['permitted by permit-positive'], policySetHash: engine.policySetHash });
  });

  it('denies when a forbid matches, naming it, even though a permit matches too', () => {
    expect(read({ n: 7 })).toEqual({ decision: 'deny', policyIds: ['forbid-seven'], reasons: ['forbidden by forbid-seven'], policySetHash: engine.policySetHash });
  });

  it('denies when nothing permits', () => {
    expect(read({ n: 0 })).toEqual({ decision: 'deny', policyIds: [], reasons: ['no policy permits it'], policySetHash: engine.policySetHash });
  });

  it('denies when a forbid cannot be evaluated, naming it (Cedar alone would skip it and allow)', () => {
    const d = read({ n: 10 });
    expect(d.decision).toBe('deny');
    expect(d.policyIds).toEqual(['forbid-overflow']);
    expect(d.reasons).toHaveLength(1);
    expect(d.reasons[0]).toMatch(/^policy forbid-overflow could not be evaluated \(.*overflow.*\); denied to be safe$/);
  });

  it('denies a request the schema does not accept', () => {
    for (const context of [{}, { n: 'one' }, { n: 1, extra: true }]) {
      const d = read(context);
      expect(d.decision).toBe('deny');
      expect(d.policyIds).toEqual([]);
      expect(d.reasons[0]).toMatch(/^the request is not valid for the policy schema: .+/);
    }
    const unknownAction = engine.decide({ principal: { type: 'User', id: 'u' }, action: 'write', resource: { type: 'Doc', id: 'd' }, context: { n: 1 }, entities: [] });
    expect(unknownAction.decision).toBe('deny');
  });

  it('hashes the canonical JSON of its policies', () => {
    expect(engine.policySetHash).toBe(createHash('sha256').update(canonicalize(POLICIES)!).digest('hex'));
  });

  it('keeps each engine\'s schema and policies its own when several are loaded', () => {
    const other = new PolicyEngine({
      schema: 'entity Robot; entity Box; action "open" appliesTo { principal: Robot, resource: Box, context: {} };',
      policies: { 'permit-open': '@id("permit-open")\npermit (principal, action == Action::"open", resource);' },
      files: {},
    });
    const again = new PolicyEngine({ schema: SCHEMA, policies: { 'permit-positive': POLICIES['permit-positive']! }, files: {} });
    expect(other.decide({ principal: { type: 'Robot', id: 'r' }, action: 'open', resource: { type: 'Box', id: 'b' }, context: {}, entities: [] }).decision).toBe('allow');
    expect(read({ n: 7 }).decision).toBe('deny');
    expect(read({ n: 7 }, again).decision).toBe('allow');
    expect(read({ n: 1 }).decision).toBe('allow');
  });

  it('names every error of policies it cannot load, not only the first', () => {
    const broken = { schema: SCHEMA, policies: { one: '@id("one")\npermit (principal, action, resource) when { foo(1) };', two: '@id("two")\nforbid (principal, action, resource) when { bar(2) };' }, files: {} };
    expect(() => new PolicyEngine(broken)).toThrow(/`foo` is not a valid function.*`bar` is not a valid function|`bar` is not a valid function.*`foo` is not a valid function/);
  });

  it('names every permit that allowed and every forbid that denied', () => {
    const several = new PolicyEngine({
      schema: SCHEMA,
      policies: {
        'permit-positive': POLICIES['permit-positive']!,
        'permit-small': '@id("permit-small")\npermit (principal, action == Action::"read", resource) when { context.n < 100 };',
        'forbid-seven': POLICIES['forbid-seven']!,
        'forbid-odd-seven': '@id("forbid-odd-seven")\nforbid (principal, action == Action::"read", resource) when { context.n == 7 };',
      },
      files: {},
    });
    // In Cedar's order, which is not promised.
    const allowed = read({ n: 1 }, several);
    expect(allowed.decision).toBe('allow');
    expect([...allowed.policyIds].sort()).toEqual(['permit-positive', 'permit-small']);
    expect(allowed.reasons).toEqual([`permitted by ${allowed.policyIds.join(', ')}`]);
    const denied = read({ n: 7 }, several);
    expect(denied.decision).toBe('deny');
    expect([...denied.policyIds].sort()).toEqual(['forbid-odd-seven', 'forbid-seven']);
    expect(denied.reasons).toEqual([`forbidden by ${denied.policyIds.join(', ')}`]);
  });

  it('denies, with the reason, a request that cannot even be handed to Cedar', () => {
    const d = read({ n: 1n });
    expect(d.decision).toBe('deny');
    expect(d.policyIds).toEqual([]);
    expect(d.reasons).toHaveLength(1);
    expect(d.reasons[0]).toMatch(/^the request could not be evaluated: .+/);
  });

  it('refuses to load policies that do not validate against the schema, naming the policy', () => {
    const bad = { 'uses-missing': '@id("uses-missing")\npermit (principal, action == Action::"read", resource) when { context.m > 0 };' };
    expect(() => new PolicyEngine({ schema: SCHEMA, policies: bad, files: {} })).toThrow(PolicyLoadError);
    expect(() => new PolicyEngine({ schema: SCHEMA, policies: bad, files: {} })).toThrow(/^policies do not validate: uses-missing: .+/);
    expect(() => new PolicyEngine({ schema: 'entity User', policies: POLICIES, files: {} })).toThrow(/^policies do not validate: .+/);
    const twoBad = { ...bad, 'uses-missing-too': '@id("uses-missing-too")\nforbid (principal, action == Action::"read", resource) when { context.k > 0 };' };
    expect(() => new PolicyEngine({ schema: SCHEMA, policies: twoBad, files: {} })).toThrow(/^policies do not validate: uses-missing: .+; uses-missing-too: .+/);
  });
});

describe('reading policy files', () => {
  const one = (id: string) => `@id("${id}")\npermit (principal, action == Action::"read", resource);\n`;

  it('names each policy by its @id, in file order', () => {
    const text = `${one('first')}\n${one('second-2')}`;
    expect(Object.keys(splitPolicies(text))).toEqual(['first', 'second-2']);
    expect(splitPolicies(text)['first']).toMatch(/^@id\("first"\)\npermit/);
    expect(Object.keys(splitPolicies(one(`a${'b'.repeat(79)}`)))).toHaveLength(1);
  });

  it('refuses ids that are not lower-case letters, digits and hyphens (1 to 80), a missing @id, a duplicate, a template, bad text', () => {
    for (const id of ['Upper', 'has_underscore', '-leading', 'trailing!', 'a'.repeat(81), 'sp ace'])
      expect(() => splitPolicies(one(id), 'f.cedar'), id).toThrow(`f.cedar: policy id "${id}" must be lower-case letters, digits and hyphens`);
    expect(() => splitPolicies('permit (principal, action, resource);', 'f.cedar')).toThrow(/^f\.cedar: a policy has no @id/);
    expect(() => splitPolicies(one('twice') + one('twice'), 'f.cedar')).toThrow('f.cedar: policy id "twice" is used twice');
    expect(() => splitPolicies('@id("tpl")\npermit (principal == ?principal, action, resource);', 'f.cedar')).toThrow('f.cedar: templates are not supported');
    expect(() => splitPolicies('permit (principal, action resource);', 'f.cedar')).toThrow(/^f\.cedar: .+/);
    expect(() => splitPolicies('permit (principal, action resource);')).toThrow(/^policy text: /);
  });

  it('names every error in a file, not only the first, so one edit can fix them all', () => {
    const twoErrors = `@id("one")\npermit (principal, action, resource) when { foo(1) };\n@id("two")\nforbid (principal, action, resource) when { bar(2) };\n`;
    expect(() => splitPolicies(twoErrors, 'f.cedar')).toThrow('f.cedar: `foo` is not a valid function; `bar` is not a valid function');
  });

  function folder(files: Record<string, string>): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'policies-'));
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      writeFileSync(path.join(dir, name), text);
    }
    return dir;
  }

  it('reads the schema and every top-level .cedar file, sorted, and knows where each policy came from', () => {
    const dir = folder({ [SCHEMA_FILE]: SCHEMA, 'b.cedar': one('from-b'), 'a.cedar': one('from-a'), 'notes.txt': one('not-read'), 'sub/c.cedar': one('not-read-either') });
    const source = loadPolicySource(dir);
    expect(source.schema).toBe(SCHEMA);
    expect(Object.keys(source.policies)).toEqual(['from-a', 'from-b']);
    expect(source.files).toEqual({ 'from-a': 'a.cedar', 'from-b': 'b.cedar' });
  });

  it('refuses a folder without policies, and an id used in two files', () => {
    expect(() => loadPolicySource(folder({ [SCHEMA_FILE]: SCHEMA }))).toThrow(/^no policies in /);
    expect(() => loadPolicySource(folder({ [SCHEMA_FILE]: SCHEMA, 'a.cedar': one('same'), 'b.cedar': one('same') }))).toThrow('b.cedar: policy id "same" is used twice (also in a.cedar)');
  });

  it('finds the shipped policies folder', () => {
    expect(path.basename(POLICIES_DIR)).toBe('policies');
    expect(Object.keys(loadPolicySource().policies).length).toBeGreaterThan(20);
  });

  it('names its errors', () => {
    expect(new PolicyLoadError('x').name).toBe('PolicyLoadError');
  });
});
