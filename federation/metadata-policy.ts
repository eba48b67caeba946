// OpenID Federation 1.0 metadata policy (§6.1): the standard operators, merging a superior's
// policy with a subordinate's, and applying the merged policy to an entity's metadata.
// Pure: no I/O. Errors carry the spec's codes so resolvers can answer with them.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Operators for one metadata parameter, e.g. `{ subset_of: ['RS256'], essential: true }`. */
export type ParameterPolicy = Record<string, Json>;
/** Policy for one entity type: parameter name → operators. */
export type EntityTypePolicy = Record<string, ParameterPolicy>;
/** `metadata_policy` of a subordinate statement: entity type → parameter policies. */
export type MetadataPolicy = Record<string, EntityTypePolicy>;
export type EntityTypeMetadata = Record<string, Json>;
export type Metadata = Record<string, EntityTypeMetadata>;

export type PolicyErrorCode = 'invalid_policy' | 'invalid_metadata';

export class PolicyError extends Error {
  constructor(
    readonly code: PolicyErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PolicyError';
  }
}

const policyError = (message: string) => new PolicyError('invalid_policy', message);
const metadataError = (message: string) => new PolicyError('invalid_metadata', message);

/** The standard operators in the order the spec applies them (value first, essential last). */
export const OPERATORS = ['value', 'add', 'default', 'one_of', 'subset_of', 'superset_of', 'essential'] as const;
type Operator = (typeof OPERATORS)[number];
const KNOWN = new Set<string>(OPERATORS);

// ---- JSON helpers: equality of values, arrays as sets of values ----

function canonical(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k]!)}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function jsonEqual(a: Json, b: Json): boolean {
  return canonical(a) === canonical(b);
}

/** Arrays compare as sets (the spec leaves their order open); anything else by value. */
export function valueEqual(a: Json, b: Json): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return isSubset(a, b) && isSubset(b, a);
  return jsonEqual(a, b);
}

const asList = (v: Json): Json[] => (Array.isArray(v) ? v : [v]);
const contains = (list: Json[], item: Json) => list.some((x) => jsonEqual(x, item));
const isSubset = (a: Json[], b: Json[]) => a.every((x) => contains(b, x));
function union(a: Json[], b: Json[]): Json[] {
  const out = [...a];
  for (const x of b) if (!contains(out, x)) out.push(x);
  return out;
}
const intersection = (a: Json[], b: Json[]) => a.filter((x) => contains(b, x));

// ---- checking one parameter's operators ----

function checkTypes(name: string, p: ParameterPolicy): void {
  for (const op of ['add', 'one_of', 'subset_of', 'superset_of'] as const) {
    if (op in p && !Array.isArray(p[op])) throw policyError(`${name}: ${op} must be an array`);
  }
  if ('essential' in p && typeof p.essential !== 'boolean') throw policyError(`${name}: essential must be a boolean`);
  if ('default' in p && p.default === null) throw policyError(`${name}: default must not be null`);
}

/** The combination rules of §6.1.3.1: which operators may stand together, and how their values must relate. */
export function checkCombination(name: string, p: ParameterPolicy): void {
  checkTypes(name, p);
  const has = (op: Operator) => op in p;
  const list = (op: Operator) => p[op] as Json[];
  if (has('value')) {
    const v = p.value!;
    if (has('add') && (v === null || !isSubset(list('add'), asList(v))))
      throw policyError(`${name}: the values of add must be a subset of value`);
    if (has('default') && v === null) throw policyError(`${name}: value must be non-null when combined with default`);
    if (has('one_of') && !contains(list('one_of'), v)) throw policyError(`${name}: value must be among the one_of values`);
    if (has('subset_of') && v !== null && !isSubset(asList(v), list('subset_of')))
      throw policyError(`${name}: value must be a subset of subset_of`);
    if (has('superset_of') && (v === null || !isSubset(list('superset_of'), asList(v))))
      throw policyError(`${name}: value must be a superset of superset_of`);
    if (p.essential === true && v === null) throw policyError(`${name}: value must be non-null when essential is true`);
  }
  if (has('one_of') && (has('add') || has('subset_of') || has('superset_of')))
    throw policyError(`${name}: one_of cannot be combined with add, subset_of or superset_of`);
  if (has('add') && has('subset_of') && !isSubset(list('add'), list('subset_of')))
    throw policyError(`${name}: the values of add must be a subset of subset_of`);
  if (has('default')) {
    const d = p.default!;
    if (has('one_of') && !contains(list('one_of'), d)) throw policyError(`${name}: default must be among the one_of values`);
    // default with subset_of / superset_of is legal whatever the values (the published vectors):
    // default only fills an absent parameter, the checks after it still judge the result.
  }
  if (has('subset_of') && has('superset_of') && !isSubset(list('superset_of'), list('subset_of')))
    throw policyError(`${name}: subset_of must be a superset of superset_of`);
}

// ---- merging ----

function mergeParameter(name: string, sup: ParameterPolicy, sub: ParameterPolicy): ParameterPolicy {
  const out: ParameterPolicy = { ...sup };
  for (const [op, subValue] of Object.entries(sub)) {
    if (!(op in out)) {
      out[op] = subValue;
      continue;
    }
    const supValue = out[op]!;
    switch (op) {
      case 'value':
      case 'default':
        if (!valueEqual(supValue, subValue)) throw policyError(`${name}: ${op} operators do not match`);
        break;
      case 'add':
      case 'superset_of':
        out[op] = union(supValue as Json[], subValue as Json[]);
        break;
      case 'one_of': {
        const both = intersection(supValue as Json[], subValue as Json[]);
        if (both.length === 0) throw policyError(`${name}: one_of operators have no value in common`);
        out[op] = both;
        break;
      }
      case 'subset_of':
        out[op] = intersection(supValue as Json[], subValue as Json[]);
        break;
      case 'essential':
        out[op] = supValue === true || subValue === true;
        break;
      default:
        // An operator we do not know: equal values merge, others cannot be reconciled.
        if (!jsonEqual(supValue, subValue)) throw policyError(`${name}: ${op} operators do not match`);
    }
  }
  checkCombination(name, out);
  return out;
}

/** Checks one entity type's policy on its own (types and combinations of each parameter). */
export function checkEntityTypePolicy(policy: EntityTypePolicy): void {
  if (policy === null || typeof policy !== 'object' || Array.isArray(policy)) throw policyError('policy must be an object');
  for (const [name, p] of Object.entries(policy)) {
    if (p === null || typeof p !== 'object' || Array.isArray(p)) throw policyError(`${name}: policy must be an object`);
    checkCombination(name, p);
  }
}

/**
 * Merges a superior's policy (closer to the trust anchor) with a subordinate's for one entity type.
 * Both are checked first; the result is checked again, so an illegal merge is invalid_policy.
 */
export function mergeEntityTypePolicies(superior: EntityTypePolicy, subordinate: EntityTypePolicy): EntityTypePolicy {
  checkEntityTypePolicy(superior);
  checkEntityTypePolicy(subordinate);
  const out: EntityTypePolicy = {};
  for (const [name, p] of Object.entries(superior)) out[name] = { ...p };
  for (const [name, p] of Object.entries(subordinate)) {
    out[name] = name in out ? mergeParameter(name, out[name]!, p) : { ...p };
  }
  return out;
}

/** Merges whole `metadata_policy` objects, superior first. */
export function mergeMetadataPolicies(superior: MetadataPolicy, subordinate: MetadataPolicy): MetadataPolicy {
  const out: MetadataPolicy = {};
  for (const type of new Set([...Object.keys(superior), ...Object.keys(subordinate)])) {
    out[type] = mergeEntityTypePolicies(superior[type] ?? {}, subordinate[type] ?? {});
  }
  return out;
}

/** Merges a chain's policies, trust anchor first, down to the leaf's immediate superior. */
export function mergePolicyChain(policies: MetadataPolicy[]): MetadataPolicy {
  return policies.reduce((acc, p) => mergeMetadataPolicies(acc, p), {} as MetadataPolicy);
}

// ---- applying ----

function applyParameter(name: string, p: ParameterPolicy, present: boolean, current: Json | undefined): Json | undefined {
  let v = present ? current : undefined;
  if ('value' in p) v = p.value === null ? undefined : p.value;
  if ('add' in p) {
    if (v !== undefined && !Array.isArray(v)) throw metadataError(`${name}: add needs an array`);
    v = union((v as Json[] | undefined) ?? [], p.add as Json[]);
  }
  if ('default' in p && v === undefined) v = p.default;
  if ('one_of' in p && v !== undefined && !contains(p.one_of as Json[], v))
    throw metadataError(`${name}: failed one_of check`);
  if ('subset_of' in p && v !== undefined) {
    if (!Array.isArray(v)) throw metadataError(`${name}: subset_of needs an array`);
    v = intersection(v, p.subset_of as Json[]);
  }
  if ('superset_of' in p && v !== undefined) {
    if (!Array.isArray(v) || !isSubset(p.superset_of as Json[], v))
      throw metadataError(`${name}: failed superset_of check`);
  }
  if (p.essential === true && v === undefined) throw metadataError(`${name}: failed essential check`);
  return v;
}

/** Applies one entity type's (merged) policy to that entity type's metadata; returns new metadata. */
export function applyEntityTypePolicy(policy: EntityTypePolicy, metadata: EntityTypeMetadata): EntityTypeMetadata {
  checkEntityTypePolicy(policy);
  const out: EntityTypeMetadata = { ...metadata };
  for (const [name, p] of Object.entries(policy)) {
    const v = applyParameter(name, p, name in out, out[name]);
    if (v === undefined) delete out[name];
    else out[name] = v;
  }
  return out;
}

/**
 * Applies a merged `metadata_policy` to an entity's metadata. Entity types without policy pass
 * unchanged; policy for an entity type the entity does not declare is not applied (it has no such role).
 */
export function applyMetadataPolicy(policy: MetadataPolicy, metadata: Metadata): Metadata {
  const out: Metadata = { ...metadata };
  for (const [type, p] of Object.entries(policy)) {
    if (!(type in metadata)) continue;
    out[type] = applyEntityTypePolicy(p, metadata[type]!);
  }
  return out;
}

/** Operators in a policy that are not standard (for `metadata_policy_crit` handling). */
export function unknownOperators(policy: MetadataPolicy): string[] {
  const found = new Set<string>();
  for (const typePolicy of Object.values(policy))
    for (const p of Object.values(typePolicy)) for (const op of Object.keys(p)) if (!KNOWN.has(op)) found.add(op);
  return [...found];
}
