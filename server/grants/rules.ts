// The delegation rules, all in one function, each with a stable id that a
// refusal names. Pure: the service resolves grants and scopes from the
// database and hands them in, so every rule is tested without one.
import { DELEGABLE_ROLES, ROLE_SCOPES, type Role, type ScopeType } from '../../policies/roles.js';

/** A scope with the co-op it lies in (a cluster and a tenancy lie inside their co-op). */
export type ResolvedScope =
  | { type: 'global' }
  | { type: 'coop'; id: string }
  | { type: 'cluster' | 'tenancy'; id: string; coopId: string };

export interface GrantorState {
  accountId: string;
  role: Role;
  scope: ResolvedScope;
  delegable: boolean;
  expiresAt: Date | null;
  /** Delegations between this grant and its bootstrap grant. */
  depth: number;
  /** Not revoked, not expired, and the same holds for every grant it came from. */
  active: boolean;
  /** It approves transfers: first-hand (granted by no other grant), or delegated with transferApproval. Absent: no. */
  approvesTransfers?: boolean;
}

export interface DelegationRequest {
  /** Who asks: must hold the grantor grant. */
  actorAccountId: string;
  toAccountId: string;
  role: Role;
  scopeType: ScopeType;
  /** null: the scope does not exist (refused exactly like a scope outside the grantor's). */
  scope: ResolvedScope | null;
  expiresAt: Date;
  /** The new coop_admin grant approves transfers of its co-op. Absent: no. */
  transferApproval?: boolean;
}

export const DELEGATION_RULES = {
  'delegation.not-holder': 'only the holder of a grant can delegate from it',
  'delegation.grantor-inactive': 'the grant delegated from is revoked or expired (or one it came from is)',
  'delegation.not-delegable': 'the grant delegated from is not delegable',
  'delegation.self': 'a grant cannot be delegated to its own holder',
  'delegation.too-deep': 'the delegation chain would be longer than DELEGATION_MAX_DEPTH',
  'delegation.widen-role': 'the role is wider than the grantor\'s (only the same or a narrower role)',
  'delegation.invalid-scope': 'the role cannot be held on this kind of scope',
  'delegation.widen-scope': 'the scope is not the grantor\'s scope or inside it',
  'delegation.transfer-approval-role': 'only a coop_admin grant can approve transfers',
  'delegation.widen-transfer-approval': 'the grant delegated from does not approve transfers (it is neither first-hand nor delegated with transferApproval)',
  'delegation.expiry-past': 'the expiry is not in the future',
  'delegation.extends-expiry': 'the expiry is later than the grantor\'s',
} as const;
export type DelegationRule = keyof typeof DELEGATION_RULES;

export interface Refusal {
  rule: DelegationRule;
  detail: string;
}

/** Is `inner` the same scope as `outer` or inside it? */
export function scopeWithin(inner: ResolvedScope, outer: ResolvedScope): boolean {
  if (outer.type === 'global') return true;
  if (inner.type === 'global') return false;
  if (outer.type === 'coop') return inner.type === 'coop' ? inner.id === outer.id : inner.coopId === outer.id;
  return inner.type === outer.type && inner.id === outer.id;
}

/** The first rule the delegation breaks, or null when it may go ahead. */
export function checkDelegation(grantor: GrantorState, req: DelegationRequest, opts: { now: Date; maxDepth: number }): Refusal | null {
  const refuse = (rule: DelegationRule, detail: string = DELEGATION_RULES[rule]): Refusal => ({ rule, detail });
  if (req.actorAccountId !== grantor.accountId) return refuse('delegation.not-holder');
  if (!grantor.active) return refuse('delegation.grantor-inactive');
  if (!grantor.delegable) return refuse('delegation.not-delegable');
  if (req.toAccountId === grantor.accountId) return refuse('delegation.self');
  if (grantor.depth + 1 > opts.maxDepth)
    return refuse('delegation.too-deep', `the chain would be ${grantor.depth + 1} delegations long; at most ${opts.maxDepth} are allowed`);
  if (!DELEGABLE_ROLES[grantor.role].includes(req.role))
    return refuse('delegation.widen-role', `a ${grantor.role} grant can delegate ${DELEGABLE_ROLES[grantor.role].join(', ')}; not ${req.role}`);
  if (!ROLE_SCOPES[req.role].includes(req.scopeType))
    return refuse('delegation.invalid-scope', `${req.role} is held on ${ROLE_SCOPES[req.role].join(' or ')} scopes, not on a ${req.scopeType} scope`);
  if (!req.scope || !scopeWithin(req.scope, grantor.scope)) return refuse('delegation.widen-scope');
  if (req.transferApproval && req.role !== 'coop_admin')
    return refuse('delegation.transfer-approval-role', `transferApproval applies to coop_admin grants, not to ${req.role}`);
  if (req.transferApproval && !grantor.approvesTransfers) return refuse('delegation.widen-transfer-approval');
  if (req.expiresAt.getTime() <= opts.now.getTime()) return refuse('delegation.expiry-past');
  if (grantor.expiresAt && req.expiresAt.getTime() > grantor.expiresAt.getTime())
    return refuse('delegation.extends-expiry', `the grantor's grant expires at ${grantor.expiresAt.toISOString()}; the delegation cannot outlive it`);
  return null;
}
