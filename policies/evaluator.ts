// The one place permissions are decided. Loads the schema and the policies,
// validates them strictly (any error stops the start), pre-parses both once
// (Cedar's stateful API) and answers authorize(principal, action, resource,
// context). It fails closed: an invalid request, an unknown action, an
// evaluation failure or any policy error is a deny.
import { createHash } from 'node:crypto';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { DetailedError, PolicyJson } from '@cedar-policy/cedar-wasm/nodejs';
import { loadPolicySource, PolicyLoadError, type PolicySource } from './source.js';
import { PolicyEngine } from './engine.js';
import { requestData, resourceUid, uidText, type PrincipalFacts, type ResourceRef } from './entities.js';
import { cedarMessages } from './cedar-errors.js';

export { PolicyLoadError, type PolicySource } from './source.js';
export type { PrincipalFacts, ResourceRef, GrantFact, ScopeResource, TenancyRef } from './entities.js';

export interface AuthzContext {
  /** The principal's grants were read from the database for this request. */
  grantsVerified: boolean;
  /** Only for actions on another account ("onAccount"): the actor holds every role the account holds. */
  actorHoldsEveryRole?: boolean;
}

export interface Decision {
  decision: 'allow' | 'deny';
  /** The deciding policies: the permits that allowed, or the forbids / erroring policies that denied. */
  policyIds: string[];
  /** Why, in words a person can act on. */
  reasons: string[];
  /** SHA-256 (hex) of the policy set that decided. */
  policySetHash: string;
}

export interface PolicyExplanation {
  id: string;
  file: string;
  effect: 'permit' | 'forbid';
  /** Its conditions hold for this request (evaluated alone). */
  matches: boolean;
  /** It failed to evaluate (and so counts as a deny). */
  errored: boolean;
  text: string;
}

export interface Explanation extends Decision {
  principal: { uid: string; grants: Array<{ id: string; role: string; scope: string; delegable: boolean }>; memberOf: string[] };
  action: string;
  resource: string;
  /** Every policy that names this action (directly, through a group, or any action), with whether it matched. */
  policies: PolicyExplanation[];
}

export interface ActionInfo {
  /** Groups the action belongs to, transitively (e.g. manage, change). */
  groups: string[];
  resourceTypes: string[];
  /** Changes state: audited with its decision, and needs grants read from the database. */
  changes: boolean;
}

export class Evaluator {
  readonly source: PolicySource;
  /** SHA-256 over the RFC 8785 canonical JSON of {policy id: text}. */
  readonly policySetHash: string;
  readonly schemaHash: string;
  readonly actions: ReadonlyMap<string, ActionInfo>;
  readonly #engine: PolicyEngine;
  readonly #policyJson: Map<string, PolicyJson>;

  /** Validates strictly and pre-parses (policies/engine.ts); throws PolicyLoadError on any problem. */
  constructor(source: PolicySource) {
    this.source = source;
    this.#engine = new PolicyEngine(source);
    this.policySetHash = this.#engine.policySetHash;
    this.schemaHash = sha256(source.schema);
    this.actions = actionTable(source.schema);
    this.#policyJson = new Map(Object.entries(source.policies).map(([id, text]) => [id, policyJson(text)]));
  }

  /** The policies in the policies/ folder (or `dir`). */
  static load(dir?: string): Evaluator {
    return new Evaluator(loadPolicySource(dir));
  }

  /** Every policy with its file and effect, in load order. */
  list(): Array<{ id: string; file: string; effect: 'permit' | 'forbid'; text: string }> {
    return Object.entries(this.source.policies).map(([id, text]) => ({ id, file: this.source.files[id] ?? '', effect: this.#policyJson.get(id)!.effect, text }));
  }

  /** Is this one of the schema's actions (not a group)? */
  isAction(action: string): boolean {
    return this.actions.has(action);
  }

  authorize(principal: PrincipalFacts, action: string, resource: ResourceRef, context: AuthzContext): Decision {
    return this.#decide(principal, action, resource, context).decision;
  }

  /** The decision, and for every policy naming the action whether it matched and why it decided. */
  explain(principal: PrincipalFacts, action: string, resource: ResourceRef, context: AuthzContext): Explanation {
    const { decision, data } = this.#decide(principal, action, resource, context);
    const policies: PolicyExplanation[] = [];
    if (data) {
      for (const [id, text] of Object.entries(this.source.policies)) {
        const json = this.#policyJson.get(id)!;
        if (!this.#names(json, action)) continue;
        const alone = this.#evaluateAlone(id, data, action, context);
        policies.push({ id, file: this.source.files[id] ?? '', effect: json.effect, ...alone, text });
      }
    }
    return {
      ...decision,
      principal: {
        uid: uidText({ type: 'Account', id: principal.accountId }),
        grants: principal.grants.map((g) => ({ id: g.id, role: g.role, scope: g.scope.type === 'global' ? 'global' : `${g.scope.type}:${g.scope.id}`, delegable: g.delegable })),
        memberOf: [...(principal.memberOf ?? [])],
      },
      action,
      resource: uidText(resourceUid(resource)),
      policies,
    };
  }

  #decide(principal: PrincipalFacts, action: string, resource: ResourceRef, context: AuthzContext) {
    const deny = (reasons: string[], policyIds: string[] = [], data?: ReturnType<typeof requestData>) => ({
      decision: { decision: 'deny' as const, policyIds, reasons, policySetHash: this.policySetHash },
      data,
    });
    if (!this.isAction(action)) return deny([`"${action}" is not an action of the policy schema`]);
    let data;
    try {
      data = requestData(principal, resource);
    } catch (e) {
      return deny([`the request could not be evaluated: ${(e as Error).message}`]);
    }
    // The engine fails closed (invalid request, any policy error: deny); here
    // the decision only gains words naming the action and the object.
    const d = this.#engine.decide({ principal: data.principal as { type: string; id: string }, action, resource: data.resource as { type: string; id: string }, context: { ...context }, entities: data.entities });
    const target = `${action} on ${uidText(data.resource as { type: string; id: string })}`;
    const reasons =
      d.decision === 'allow'
        ? [`${target} is permitted by ${d.policyIds.join(', ')}`]
        : d.reasons[0]?.startsWith('forbidden by')
          ? [`${target} is forbidden by ${d.policyIds.join(', ')}`]
          : d.reasons[0] === 'no policy permits it'
            ? [`no policy permits ${target} for this principal`]
            : d.reasons;
    // A request the schema refuses has no policies to explain; erroring policies do.
    return { decision: { ...d, reasons }, data: reasons[0]!.startsWith('the request') ? undefined : data };
  }

  /** Does the policy's action constraint cover this action? */
  #names(json: PolicyJson, action: string): boolean {
    const a = json.action;
    if (a.op === 'All') return true;
    const covered = new Set([action, ...(this.actions.get(action)?.groups ?? [])]);
    const ids = a.op === '==' ? ('entity' in a ? [a.entity] : []) : 'entity' in a ? [a.entity] : a.entities;
    return ids.some((e) => covered.has(('__entity' in e ? e.__entity : e).id));
  }

  /**
   * Whether one policy's conditions hold for the request, evaluated on its own:
   * Cedar names the policy among the reasons iff it is satisfied, a permit
   * (allow) and a forbid (deny) alike, so a forbid needs no permit beside it.
   */
  #evaluateAlone(id: string, data: ReturnType<typeof requestData>, action: string, context: AuthzContext) {
    const policies: Record<string, string> = { [id]: this.source.policies[id]! };
    const answer = cedar.isAuthorized({
      principal: data.principal,
      action: { type: 'Action', id: action },
      resource: data.resource,
      context: { ...context },
      schema: this.source.schema,
      validateRequest: true,
      policies: { staticPolicies: policies },
      entities: data.entities,
    });
    if (answer.type !== 'success') return { matches: false, errored: true };
    const errored = answer.response.diagnostics.errors.some((e) => e.policyId === id);
    return { matches: answer.response.diagnostics.reason.includes(id), errored };
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function messages(errors: DetailedError[]): string {
  return cedarMessages(errors).join('; ');
}

function policyJson(text: string): PolicyJson {
  const answer = cedar.policyToJson(text);
  if (answer.type !== 'success') throw new PolicyLoadError(messages(answer.errors));
  return answer.json;
}

/** Actions (not groups) of the schema, with their groups and resource types. */
function actionTable(schema: string): Map<string, ActionInfo> {
  const answer = cedar.schemaToJson(schema);
  if (answer.type !== 'success') throw new PolicyLoadError(`schema: ${messages(answer.errors)}`);
  const declared = Object.values(answer.json)[0]?.actions ?? {};
  const parents = (name: string) => (declared[name]?.memberOf ?? []).map((m) => m.id);
  const table = new Map<string, ActionInfo>();
  for (const [name, def] of Object.entries(declared)) {
    if (!def.appliesTo) continue; // a group
    const groups = new Set<string>();
    const walk = (n: string) => parents(n).forEach((g) => groups.has(g) || (groups.add(g), walk(g)));
    walk(name);
    table.set(name, { groups: [...groups].sort(), resourceTypes: [...def.appliesTo.resourceTypes], changes: groups.has('change') });
  }
  return table;
}

let shared: Evaluator | undefined;

/** The process-wide evaluator over policies/, loaded (and warmed: the first call is slow) on first use. */
export function policyEvaluator(): Evaluator {
  if (!shared) {
    shared = Evaluator.load();
    shared.authorize({ accountId: '00000000-0000-0000-0000-000000000000', coopId: null, grants: [] }, 'policy.read', { type: 'Platform' }, { grantsVerified: false });
  }
  return shared;
}
