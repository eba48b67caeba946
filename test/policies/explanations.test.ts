// Every rule says, beside itself in its policy file, what it means and what
// to do about it: a refusal anywhere (REST, CLI, pages) can put it in words.
import { describe, expect, it } from 'vitest';
import { explainRules, readExplanations } from '../../policies/explanations.js';
import { loadPolicySource, POLICIES_DIR } from '../../policies/source.js';
import { DATA_PROTECTION_DIR } from '../../policies/data-protection/rules.js';

describe('rule explanations', () => {
  it('every rule of the permission and data-protection sets has an @explain and a @remedy', () => {
    const { rules, missing } = readExplanations();
    expect(missing).toEqual([]);
    const ids = [...Object.keys(loadPolicySource(POLICIES_DIR).policies), ...Object.keys(loadPolicySource(DATA_PROTECTION_DIR).policies)];
    expect(new Set(ids).size).toBe(ids.length); // one id, one meaning, across both sets
    expect([...rules.keys()].sort()).toEqual([...ids].sort());
    for (const r of rules.values()) {
      expect(r.explain, r.id).toMatch(/^[A-Z].{20,}\.$/s);
      expect(r.remedy, r.id).toMatch(/^[A-Z].{10,}[.)]$/s);
    }
  });

  it('gives the words of the ids asked for, in order, and none for an unknown id', () => {
    expect(explainRules(['dp-residency', 'no-such-rule', 'dp-processing-agreement']).map((r) => [r.id, r.file])).toEqual([
      ['dp-residency', 'data-protection/tenancy.cedar'],
      ['dp-processing-agreement', 'data-protection/tenancy.cedar'],
    ]);
  });
});
