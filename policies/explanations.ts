// What each rule means to a person: every policy carries, beside its @id, an
// @explain("...") sentence (what the rule says, read as the reason for a
// refusal) and a @remedy("...") (what to do about it). Read from the policy
// files themselves, so the words live next to the rule they explain; shown by
// REST problems, the CLI and the pages wherever a rule id is.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { POLICIES_DIR } from './source.js';

export interface RuleExplanation {
  id: string;
  /** What the rule says, as the reason for a refusal. */
  explain: string;
  /** What to do about it. */
  remedy: string;
  /** The file the rule is in, relative to policies/. */
  file: string;
}

/** The policy folders whose rules are explained: the permission rules and the data-protection rules. */
export const EXPLAINED_DIRS = [POLICIES_DIR, path.join(POLICIES_DIR, 'data-protection')];

/** Every rule's explanation, by id; a rule without both annotations is listed under `missing`. */
export function readExplanations(dirs = EXPLAINED_DIRS): { rules: Map<string, RuleExplanation>; missing: string[] } {
  const rules = new Map<string, RuleExplanation>();
  const missing: string[] = [];
  for (const dir of dirs) {
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.cedar')).sort()) {
      const parts = cedar.policySetTextToParts(readFileSync(path.join(dir, name), 'utf8'));
      if (parts.type !== 'success') continue; // the policy loader reports it
      for (const policy of parts.policies) {
        const json = cedar.policyToJson(policy);
        if (json.type !== 'success') continue;
        const a = json.json.annotations ?? {};
        if (!a.id) continue;
        const file = path.relative(POLICIES_DIR, path.join(dir, name));
        if (!a.explain || !a.remedy) missing.push(`${file}: ${a.id}`);
        else rules.set(a.id, { id: a.id, explain: a.explain, remedy: a.remedy, file });
      }
    }
  }
  return { rules, missing };
}

let cache: Map<string, RuleExplanation> | undefined;

/** The explanations of these rule ids (those that have one), in the order given. */
export function explainRules(ids: readonly string[]): RuleExplanation[] {
  cache ??= readExplanations().rules;
  return ids.flatMap((id) => {
    const r = cache!.get(id);
    return r ? [r] : [];
  });
}
