// A pre-parsed, strictly validated Cedar rule set that fails closed: the
// common core of every decision meetplane asks Cedar for. Any validation
// problem stops the load; at run time an invalid request, an evaluation
// failure or any policy error is a deny (Cedar skips a forbid that errors,
// which would otherwise let a request through).
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { AuthorizationAnswer, CedarValueJson, DetailedError, EntityJson } from '@cedar-policy/cedar-wasm/nodejs';
import { PolicyLoadError, type PolicySource } from './source.js';
import { cedarMessages } from './cedar-errors.js';

export interface EngineDecision {
  decision: 'allow' | 'deny';
  /** The permits that allowed, or the forbids (or erroring policies) that denied. */
  policyIds: string[];
  reasons: string[];
  /** SHA-256 (hex) over the RFC 8785 canonical JSON of {policy id: text}. */
  policySetHash: string;
}

export interface EngineRequest {
  principal: { type: string; id: string };
  action: string;
  resource: { type: string; id: string };
  context: Record<string, CedarValueJson>;
  entities: EntityJson[];
}

let counter = 0;

export class PolicyEngine {
  readonly policySetHash: string;
  readonly #schemaName: string;
  readonly #psetId: string;

  constructor(readonly source: PolicySource) {
    this.policySetHash = createHash('sha256').update(canonicalize(source.policies)!).digest('hex');
    const validation = cedar.validate({ validationSettings: { mode: 'strict' }, schema: source.schema, policies: { staticPolicies: source.policies } });
    if (validation.type !== 'success') throw new PolicyLoadError(`policies do not validate: ${messages(validation.errors)}`);
    const problems = [...validation.validationErrors, ...validation.validationWarnings];
    if (problems.length > 0)
      // By policy id: Cedar's own order differs from run to run, an operator's message should not.
      throw new PolicyLoadError(`policies do not validate: ${[...problems].sort((a, b) => (a.policyId < b.policyId ? -1 : a.policyId > b.policyId ? 1 : 0)).map((e) => `${e.policyId}: ${e.error.message}`).join('; ')}`);
    const tag = `${this.policySetHash.slice(0, 16)}-engine-${++counter}`;
    this.#schemaName = `schema-${tag}`;
    this.#psetId = `pset-${tag}`;
    const s = cedar.preparseSchema(this.#schemaName, source.schema);
    if (s.type !== 'success') throw new PolicyLoadError(`schema: ${messages(s.errors)}`);
    const p = cedar.preparsePolicySet(this.#psetId, { staticPolicies: source.policies });
    if (p.type !== 'success') throw new PolicyLoadError(`policies: ${messages(p.errors)}`);
  }

  decide(req: EngineRequest): EngineDecision {
    const deny = (reasons: string[], policyIds: string[] = []): EngineDecision => ({ decision: 'deny', policyIds, reasons, policySetHash: this.policySetHash });
    let answer: AuthorizationAnswer;
    try {
      answer = cedar.statefulIsAuthorized({
        principal: req.principal,
        action: { type: 'Action', id: req.action },
        resource: req.resource,
        context: req.context,
        preparsedSchemaName: this.#schemaName,
        preparsedPolicySetId: this.#psetId,
        validateRequest: true,
        entities: req.entities,
      });
    } catch (e) {
      return deny([`the request could not be evaluated: ${(e as Error).message}`]);
    }
    if (answer.type !== 'success') return deny([`the request is not valid for the policy schema: ${messages(answer.errors)}`]);
    const { decision, diagnostics } = answer.response;
    if (diagnostics.errors.length > 0)
      return deny(
        diagnostics.errors.map((e) => `policy ${e.policyId} could not be evaluated (${e.error.message}); denied to be safe`),
        [...new Set(diagnostics.errors.map((e) => e.policyId))],
      );
    if (decision === 'allow') return { decision, policyIds: diagnostics.reason, reasons: [`permitted by ${diagnostics.reason.join(', ')}`], policySetHash: this.policySetHash };
    if (diagnostics.reason.length > 0) return deny([`forbidden by ${diagnostics.reason.join(', ')}`], diagnostics.reason);
    return deny(['no policy permits it']);
  }
}

function messages(errors: DetailedError[]): string {
  return cedarMessages(errors).join('; ');
}
