// The request side of authorisation: turns a Principal into Cedar facts (its
// active grants and its tenancy memberships, cached until either table changes
// anywhere or a grant runs out: server/cache/db-caches.ts), asks the evaluator, and turns a denial into a problem: 404
// when the principal may not even see the object, else 403 naming the
// deciding policies. Every decision on a state-changing action is audited:
// denials here, allows by the service in the transaction of the change.
import { eq } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import type { Principal } from '../auth/principal.js';
import { appendAudit, type PolicyDecision } from '../audit/trail.js';
import { person, type PersonRef } from '../audit/subjects.js';
import { problems } from '../http/problem.js';
import { accounts, memberships } from '../accounts/table.js';
import { activeGrants, grantApprovesTransfers, resolveScope, type Grant } from '../grants/service.js';
import { holdingsOf } from '../../policies/holdings.js';
import { dbCache } from '../cache/db-caches.js';
import { policyEvaluator, type AuthzContext, type Decision, type Evaluator, type Explanation, type PrincipalFacts, type ResourceRef } from '../../policies/evaluator.js';

const PLATFORM_RESOURCE: ResourceRef = { type: 'Platform' };

export interface Facts extends PrincipalFacts {
  /** The active grants in full (chains included), for claims and explanations. */
  active: Grant[];
}

/** The console operator (`meetplane admin ...`) acts as a platform admin. */
const CONSOLE_GRANT = { id: 'console', role: 'platform_admin', scope: { type: 'global' }, delegable: true } as const;

/** Decisions kept per facts object (a page of results asks about a few co-ops and clusters). */
const MAX_DECISIONS_PER_FACTS = 256;

export class Authz {
  readonly #facts = new WeakMap<Principal, Promise<Facts>>();
  readonly #decisions = new WeakMap<PrincipalFacts, Map<string, Decision>>();

  constructor(
    readonly db: Db,
    readonly evaluator: Evaluator = policyEvaluator(),
  ) {}

  /** The principal's facts, read once per request (the Principal object is per request). */
  facts(p: Principal): Promise<Facts> {
    let f = this.#facts.get(p);
    if (!f) {
      f = this.#load(p);
      this.#facts.set(p, f);
      f.catch(() => this.#facts.delete(p));
    }
    return f;
  }

  async #load(p: Principal): Promise<Facts> {
    if (p.via === 'local') return { accountId: p.accountId, coopId: p.coopId, grants: [CONSOLE_GRANT], memberOf: [], active: [] };
    const m = p.machine;
    const key = m ? `client:${p.accountId}:${p.coopId}:${m.tenancyId}` : `account:${p.accountId}:${p.coopId}`;
    const cached = await this.#cache().get(key, () => (m ? this.clientFacts({ id: p.accountId, coopId: p.coopId!, tenancyId: m.tenancyId }) : this.accountFacts(p.accountId, p.coopId)));
    return cached!;
  }

  /** A principal's facts across requests: until a grant or membership changes anywhere, or the first of its grants expires. */
  #cache() {
    return dbCache<string, Facts>(this.db, 'principal-facts', {
      tables: ['grants', 'memberships'],
      expiresAt: (f) => f.active.reduce<number | null>((first, g) => (g.expiresAt && (first === null || g.expiresAt.getTime() < first) ? g.expiresAt.getTime() : first), null),
    });
  }

  /** A machine client's facts: its active grants, no memberships, and the scope it was created for. */
  async clientFacts(client: { id: string; coopId: string; tenancyId: string | null }): Promise<Facts> {
    const active = await activeGrants(this.db, client.id);
    return {
      accountId: client.id,
      coopId: client.coopId,
      grants: active.map((g) => ({ id: g.id, role: g.role, scope: g.scope, delegable: g.delegable, approvesTransfers: grantApprovesTransfers(g) })),
      memberOf: [],
      machine: { coopId: client.coopId, tenancyId: client.tenancyId },
      active,
    };
  }

  /** Any account's active grants and memberships, as the policies see them. */
  async accountFacts(accountId: string, coopId: string | null): Promise<Facts> {
    const [active, member] = await Promise.all([
      activeGrants(this.db, accountId),
      this.db.select({ tenancyId: memberships.tenancyId, role: memberships.role }).from(memberships).where(eq(memberships.accountId, accountId)),
    ]);
    // A tenancy's owner and admins (membership roles) hold those roles on it, as
    // a grant would give them; they cannot delegate them (only grants delegate).
    const fromMembership = member.flatMap((m) =>
      m.role === 'member'
        ? []
        : [{ id: `membership:${m.tenancyId}`, role: m.role === 'owner' ? ('tenancy_owner' as const) : ('tenancy_admin' as const), scope: { type: 'tenancy' as const, id: m.tenancyId }, delegable: false }],
    );
    return {
      accountId,
      coopId,
      grants: [...active.map((g) => ({ id: g.id, role: g.role, scope: g.scope, delegable: g.delegable, approvesTransfers: grantApprovesTransfers(g) })), ...fromMembership],
      memberOf: member.map((m) => m.tenancyId),
      active,
    };
  }

  /** The decision alone; the grants come from the database here (or its cache), so they count as verified. */
  async decide(p: Principal, action: string, resource: ResourceRef): Promise<Decision> {
    return this.decideFor(await this.facts(p), action, resource);
  }

  /**
   * The decision for facts that stand for a principal (e.g. an upstream provider linking an account).
   * The policies are a pure function of facts, action, resource and context: the answer for one set
   * of facts is kept with that facts object, which the facts cache replaces on any change to grants
   * or memberships, so the same question about the same facts is asked of Cedar once.
   */
  async decideFor(facts: PrincipalFacts, action: string, resource: ResourceRef): Promise<Decision> {
    const context = await this.#context(facts, action, resource);
    let asked = this.#decisions.get(facts);
    if (!asked) this.#decisions.set(facts, (asked = new Map()));
    const key = `${action} ${JSON.stringify(resource)} ${JSON.stringify(context)}`;
    let decision = asked.get(key);
    if (!decision) {
      decision = this.evaluator.authorize(facts, action, resource, context);
      if (asked.size >= MAX_DECISIONS_PER_FACTS) asked.clear();
      asked.set(key, decision);
    }
    return decision;
  }

  async explain(p: Principal, action: string, resource: ResourceRef): Promise<Explanation> {
    const facts = await this.facts(p);
    return this.evaluator.explain(facts, action, resource, await this.#context(facts, action, resource));
  }

  /** An action on another account (or a machine client) also carries whether the actor holds every role it holds. */
  async #context(facts: PrincipalFacts, action: string, resource: ResourceRef): Promise<AuthzContext> {
    if (!this.evaluator.actions.get(action)?.groups.includes('onAccount')) return { grantsVerified: true };
    if (resource.type === 'Account') return { grantsVerified: true, actorHoldsEveryRole: await this.holdsEveryRole(facts, resource) };
    if (resource.type === 'Client') return { grantsVerified: true, actorHoldsEveryRole: await this.holdsEveryRoleOfClient(facts, resource) };
    return { grantsVerified: true };
  }

  /** holdsEveryRole for a client: a machine client's active grants (web and public clients hold none). */
  async holdsEveryRoleOfClient(actor: PrincipalFacts, client: { id: string; coopId: string; tenancy?: { id: string } | null }): Promise<boolean> {
    if (actor.accountId === client.id) return true;
    return this.#covers(actor, await this.clientFacts({ id: client.id, coopId: client.coopId, tenancyId: client.tenancy?.id ?? null }));
  }

  /** Whether every cover.* question the holder's facts raise is allowed for the actor. */
  async #covers(actor: PrincipalFacts, holder: PrincipalFacts & { platformAdmin?: boolean }): Promise<boolean> {
    for (const h of holdingsOf(holder)) {
      // A scope that no longer exists cannot be placed in the tree: only a platform admin covers it.
      const placed = (await resolveScope(this.db, h.scope))?.resource ?? PLATFORM_RESOURCE;
      if (this.evaluator.authorize(actor, h.action, placed, { grantsVerified: true }).decision !== 'allow') return false;
    }
    return true;
  }

  /**
   * Whether the actor holds, on every scope, at least every role the account
   * holds: one cover.* decision per role (policies/cover.cedar).
   */
  async holdsEveryRole(actor: PrincipalFacts, account: { id: string; coopId: string | null }): Promise<boolean> {
    if (actor.accountId === account.id) return true;
    const [target, [row]] = await Promise.all([
      this.accountFacts(account.id, account.coopId),
      this.db.select({ platformAdmin: accounts.platformAdmin }).from(accounts).where(eq(accounts.id, account.id)),
    ]);
    return this.#covers(actor, { ...target, platformAdmin: row?.platformAdmin ?? false });
  }

  /**
   * Allowed: the decision, for the audit entry of the change. Denied: throws
   * 404 (`what` not found) when `readAction` is denied too, else 403 naming the
   * policies. A denied change is audited before throwing.
   */
  async require(p: Principal, action: string, resource: ResourceRef, opts: { what: string; readAction?: string }): Promise<PolicyDecision> {
    const d = await this.decide(p, action, resource);
    if (d.decision === 'allow') return { decision: 'allow', policyIds: d.policyIds, policySetHash: d.policySetHash };
    if (this.evaluator.actions.get(action)?.changes) await this.auditDenial(p, action, resource, d);
    // Refused a read, or refused a change of something one may not even read: it looks missing.
    const hidden = opts.readAction !== undefined && (opts.readAction === action || (await this.decide(p, opts.readAction, resource)).decision === 'deny');
    if (hidden) throw problems.notFound(opts.what);
    throw forbidden(action, d);
  }

  async auditDenial(p: Principal, action: string, resource: ResourceRef, d: Decision): Promise<void> {
    await this.db.transaction((tx) =>
      appendAudit(tx, {
        actor: p,
        action,
        subject: auditSubject(resource),
        outcome: 'denied',
        decision: { decision: 'deny', policyIds: d.policyIds, policySetHash: d.policySetHash },
      }),
    );
  }
}

/** 403 problem+json naming the deciding policies (none: no policy permits it). */
export function forbidden(action: string, d: Decision) {
  return problems.forbidden(`${action} is not permitted: ${d.reasons.join('; ')}`, { action, policyIds: d.policyIds, policySetHash: d.policySetHash });
}

export function auditSubject(r: ResourceRef): { type: string; id: string | PersonRef } {
  switch (r.type) {
    case 'Platform':
      return { type: 'platform', id: 'meetplane' };
    case 'Account':
      return { type: 'account', id: person(r.id) };
    default:
      return { type: r.type.toLowerCase(), id: r.id };
  }
}
