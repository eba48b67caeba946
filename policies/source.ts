// Reads the Cedar schema and policies from the policies/ folder: every
// top-level `*.cedar` file, each policy in it named by its `@id("...")`
// annotation. Ids are stable: they appear in denials and in the audit log.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { cedarMessages } from './cedar-errors.js';

export interface PolicySource {
  /** The schema in Cedar format. */
  schema: string;
  /** Policy id → policy text, in file order. */
  policies: Record<string, string>;
  /** Policy id → the file it came from (for people reading a denial). */
  files: Record<string, string>;
}

export class PolicyLoadError extends Error {
  override name = 'PolicyLoadError';
}

const ID_RE = /^[a-z0-9][a-z0-9-]{0,79}$/;
export const SCHEMA_FILE = 'schema.cedarschema';

/** policies/ at the package root, from both policies/ (tsx, vitest) and dist/policies (built). */
export const POLICIES_DIR = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    for (const candidate of [dir, path.join(dir, 'policies')]) {
      if (existsSync(path.join(candidate, SCHEMA_FILE))) return candidate;
    }
    dir = path.dirname(dir);
  }
  throw new PolicyLoadError(`policies folder (with ${SCHEMA_FILE}) not found`);
})();

export function loadPolicySource(dir = POLICIES_DIR): PolicySource {
  const schema = readFileSync(path.join(dir, SCHEMA_FILE), 'utf8');
  const policies: Record<string, string> = {};
  const files: Record<string, string> = {};
  // Subfolders are not read: other rule sets (with their own schema) may live there.
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.cedar'))
    .map((e) => e.name)
    .sort();
  for (const name of names) {
    for (const [id, text] of Object.entries(splitPolicies(readFileSync(path.join(dir, name), 'utf8'), name))) {
      if (id in policies) throw new PolicyLoadError(`${name}: policy id "${id}" is used twice (also in ${files[id]})`);
      policies[id] = text;
      files[id] = name;
    }
  }
  if (Object.keys(policies).length === 0) throw new PolicyLoadError(`no policies in ${dir}`);
  return { schema, policies, files };
}


/** Splits one file's text into id → policy; every policy must carry a valid @id. */
export function splitPolicies(text: string, name = 'policy text'): Record<string, string> {
  const parts = cedar.policySetTextToParts(text);
  if (parts.type !== 'success') throw new PolicyLoadError(`${name}: ${cedarMessages(parts.errors).join('; ')}`);
  if (parts.policy_templates.length > 0) throw new PolicyLoadError(`${name}: templates are not supported`);
  const out: Record<string, string> = {};
  for (const policy of parts.policies) {
    const json = cedar.policyToJson(policy);
    if (json.type !== 'success') throw new PolicyLoadError(`${name}: ${cedarMessages(json.errors).join('; ')}`);
    const id = json.json.annotations?.id;
    if (!id) throw new PolicyLoadError(`${name}: a policy has no @id("...") annotation:\n${policy}`);
    if (!ID_RE.test(id)) throw new PolicyLoadError(`${name}: policy id "${id}" must be lower-case letters, digits and hyphens`);
    if (id in out) throw new PolicyLoadError(`${name}: policy id "${id}" is used twice`);
    out[id] = policy;
  }
  return out;
}
