// Grants: roles held on scopes, delegated along chains. Reading a grant always
// reads its whole chain, so a grant counts as active only while it and every
// grant it came from are neither revoked nor expired. Every change is audited
// in the transaction that makes it.
import { and, asc, eq, gt, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { Db, Executor, Tx } from '../db/index.js';
import { rowsOf } from '../db/index.js';
import { uuidv7 } from '../ids.js';
import { endSessions } from '../accounts/sessions.js';
import { appendAudit, type AuditValue, type PolicyDecision } from '../audit/trail.js';
import { person } from '../audit/subjects.js';
import type { Principal } from '../auth/principal.js';
import { ProblemError, problems } from '../http/problem.js';
import { findCoop } from '../coops/service.js';
import { findCluster } from '../clusters/service.js';
import { findTenancy } from '../tenancies/service.js';
import { findAccount } from '../accounts/service.js';
import type { Role, Scope } from '../../policies/roles.js';
import type { ScopeResource } from '../../policies/entities.js';
import { checkDelegation, DELEGATION_RULES, type ResolvedScope, type Refusal } from './rules.js';
import { grants } from './table.js';

export type GrantRow = typeof grants.$inferSelect;
export type GrantStatus = 'active' | 'expired' | 'revoked' | 'inactive';

/** Who holds a grant: a person's account, or a machine client (client credentials). */
export type Holder = { kind: 'account'; id: string } | { kind: 'client'; id: string };

export function holderOf(row: Pick<GrantRow, 'accountId' | 'clientId'>): Holder {
  return row.accountId ? { kind: 'account', id: row.accountId } : { kind: 'client', id: row.clientId! };
}

export interface Grant extends GrantRow {
  /** The account's or the machine client's id: what the policies see as the principal. */
  holderId: string;
  scope: Scope;
  /** Grant ids it was delegated from, nearest first. */
  chain: string[];
  /** Holders (accounts or machine clients) of those grants, nearest first. */
  delegators: string[];
  /** revoked / expired: this grant; inactive: one it came from is revoked or expired. */
  status: GrantStatus;
}

export function scopeOf(row: Pick<GrantRow, 'scopeType' | 'scopeId'>): Scope {
  return row.scopeType === 'global' ? { type: 'global' } : { type: row.scopeType, id: row.scopeId! };
}

const isLive = (r: { revokedAt: Date | null; expiresAt: Date | null }, now: Date) => !r.revokedAt && (!r.expiresAt || r.expiresAt > now);

/** The chains (ancestors, nearest first) of the grants matching `where`, walking granted_by up. */
async function withChains(db: Executor, where: SQL, now: Date): Promise<Grant[]> {
  const rows = await db.select().from(grants).where(where).orderBy(asc(grants.id));
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const ancestry = rowsOf<{ leaf: string; id: string; holder_id: string; hop: number; live: boolean }>(
    await db.execute(sql`
      with recursive chain as (
        select g.id as leaf, g.granted_by as up_id, 0 as hop from grants g where g.id in ${ids}
        union all
        select c.leaf, p.granted_by, c.hop + 1 from grants p join chain c on p.id = c.up_id where c.hop < 64
      )
      select c.leaf, p.id, coalesce(p.account_id, p.client_id) as holder_id, c.hop,
             (p.revoked_at is null and (p.expires_at is null or p.expires_at > ${now.toISOString()}::timestamptz)) as live
      from chain c join grants p on p.id = c.up_id
      order by c.leaf, c.hop`),
  );
  const byLeaf = new Map<string, typeof ancestry>();
  for (const a of ancestry) byLeaf.set(a.leaf, [...(byLeaf.get(a.leaf) ?? []), a]);
  return rows.map((row) => {
    const up = byLeaf.get(row.id) ?? [];
    const status: GrantStatus = row.revokedAt ? 'revoked' : !isLive(row, now) ? 'expired' : up.every((a) => a.live) ? 'active' : 'inactive';
    return { ...row, holderId: holderOf(row).id, scope: scopeOf(row), chain: up.map((a) => a.id), delegators: up.map((a) => a.holder_id), status };
  });
}

/**
 * The holder's grants that are active now: not revoked, not expired, and the
 * whole chain above them too. `holderId` is an account's or a machine client's
 * id (both are UUIDv7s, drawn apart).
 */
export async function activeGrants(db: Executor, holderId: string, now = new Date()): Promise<Grant[]> {
  const live = and(
    or(eq(grants.accountId, holderId), eq(grants.clientId, holderId)),
    sql`${grants.revokedAt} is null`,
    sql`(${grants.expiresAt} is null or ${grants.expiresAt} > ${now.toISOString()}::timestamptz)`,
  )!;
  return (await withChains(db, live, now)).filter((g) => g.status === 'active');
}

export async function findGrant(db: Executor, id: string, now = new Date()): Promise<Grant | undefined> {
  const [g] = await withChains(db, eq(grants.id, id), now);
  return g;
}

/** What the caller may list: everything, or its own grants, those delegated from them, and those inside co-ops it runs. */
export type GrantVisibility = { all: true } | { all: false; accountId: string; coopIds: string[] };

export async function listGrants(
  db: Db,
  visible: GrantVisibility,
  opts: { accountId?: string; clientId?: string; activeOnly?: boolean; after?: string; limit: number; now?: Date },
): Promise<Grant[]> {
  const now = opts.now ?? new Date();
  const conds: SQL[] = [];
  if (!visible.all) {
    const mine = sql`select id from grants where account_id = ${visible.accountId} or client_id = ${visible.accountId}`;
    const below = sql`(with recursive below as (${mine} union all select g.id from grants g join below b on g.granted_by = b.id) select id from below)`;
    const inCoops =
      visible.coopIds.length === 0
        ? sql`false`
        : sql`((${grants.scopeType} = 'coop' and ${grants.scopeId} in ${visible.coopIds})
            or (${grants.scopeType} = 'cluster' and ${grants.scopeId} in (select id from clusters where coop_id in ${visible.coopIds}))
            or (${grants.scopeType} = 'tenancy' and ${grants.scopeId} in (select id from tenancies where coop_id in ${visible.coopIds})))`;
    conds.push(sql`(${grants.id} in ${below} or ${inCoops})`);
  }
  if (opts.accountId) conds.push(eq(grants.accountId, opts.accountId));
  if (opts.clientId) conds.push(eq(grants.clientId, opts.clientId));
  if (opts.activeOnly) conds.push(sql`${grants.revokedAt} is null`, sql`(${grants.expiresAt} is null or ${grants.expiresAt} > ${now.toISOString()}::timestamptz)`);
  if (opts.after) conds.push(gt(grants.id, opts.after));
  const ids = await db
    .select({ id: grants.id })
    .from(grants)
    .where(and(...conds))
    .orderBy(asc(grants.id))
    .limit(opts.limit + 1);
  if (ids.length === 0) return [];
  const rows = await withChains(db, inArray(grants.id, ids.map((r) => r.id)), now);
  return opts.activeOnly ? rows.filter((g) => g.status === 'active') : rows;
}

/** Whether the id is a machine client's (raw SQL: oidc/clients.ts imports this module). */
async function isMachineClient(db: Executor, id: string): Promise<boolean> {
  return rowsOf(await db.execute(sql`select 1 from oidc_clients where id = ${id} and kind = 'machine'`)).length > 0;
}

/**
 * Revokes every live grant the machine client holds (and, with each, what was
 * delegated from it), in the caller's transaction: a deleted client keeps no power.
 */
export async function revokeClientGrantsIn(tx: Tx, actor: Principal, clientId: string, reason: string): Promise<string[]> {
  const held = await withChains(tx, and(eq(grants.clientId, clientId), sql`${grants.revokedAt} is null`)!, new Date());
  const out: string[] = [];
  // Nearest the root first: revoking it revokes the client's grants delegated from it too.
  for (const g of held.sort((a, b) => a.depth - b.depth)) {
    const [still] = rowsOf<{ revoked_at: unknown }>(await tx.execute(sql`select revoked_at from grants where id = ${g.id}`));
    if (still?.revoked_at !== null) continue;
    out.push(...(await revokeGrantIn(tx, actor, g, reason)));
  }
  return out;
}

/** The scope with its place in the tree, or null when it does not exist. */
export async function resolveScope(db: Executor, scope: Scope): Promise<{ rule: ResolvedScope; resource: ScopeResource } | null> {
  switch (scope.type) {
    case 'global':
      return { rule: scope, resource: { type: 'Platform' } };
    case 'coop': {
      const c = await findCoop(db, scope.id);
      return c ? { rule: { type: 'coop', id: c.id }, resource: { type: 'Coop', id: c.id } } : null;
    }
    case 'cluster': {
      const c = await findCluster(db, scope.id);
      return c ? { rule: { type: 'cluster', id: c.id, coopId: c.coopId }, resource: { type: 'Cluster', id: c.id, coopId: c.coopId } } : null;
    }
    case 'tenancy': {
      const t = await findTenancy(db, scope.id);
      return t ? { rule: { type: 'tenancy', id: t.id, coopId: t.coopId }, resource: { type: 'Tenancy', id: t.id, coopId: t.coopId, clusterId: t.clusterId } } : null;
    }
  }
}

function auditView(g: GrantRow): Record<string, AuditValue> {
  return {
    // A person is pseudonymised; a machine client is no person and is named.
    holder: g.accountId ? person(g.accountId) : { client: g.clientId! },
    role: g.role,
    scope: g.scopeType === 'global' ? 'global' : `${g.scopeType}:${g.scopeId}`,
    grantedBy: g.grantedBy,
    delegable: g.delegable,
    transferApproval: g.transferApproval,
    depth: g.depth,
    expiresAt: g.expiresAt?.toISOString() ?? null,
    revokedAt: g.revokedAt?.toISOString() ?? null,
  };
}

/** A grant from no other grant: the bootstrap platform admin's. Runs in the caller's transaction. */
export async function insertRootGrant(
  tx: Tx,
  actor: Principal,
  input: { accountId: string; role: Role; scope: Scope; reason: string; delegable?: boolean; expiresAt?: Date | null },
): Promise<GrantRow> {
  const [row] = await tx
    .insert(grants)
    .values({
      id: uuidv7(),
      accountId: input.accountId,
      role: input.role,
      scopeType: input.scope.type,
      scopeId: input.scope.type === 'global' ? null : input.scope.id,
      grantedBy: null,
      delegable: input.delegable ?? true,
      depth: 0,
      expiresAt: input.expiresAt ?? null,
      reason: input.reason,
    })
    .returning();
  await endSessions(tx, [input.accountId]);
  await appendAudit(tx, { actor, action: 'grant.create', subject: { type: 'grant', id: row!.id }, after: auditView(row!), details: { reason: input.reason } });
  return row!;
}

/**
 * Whether a grant approves transfers: a first-hand grant (from no other grant)
 * does; a delegated one only when delegated with transferApproval. For the
 * policies this matters on coop_admin grants (policies/transfer-approval.cedar).
 */
export function grantApprovesTransfers(g: Pick<GrantRow, 'grantedBy' | 'transferApproval'>): boolean {
  return g.grantedBy === null || g.transferApproval;
}

export interface DelegationInput {
  fromGrantId: string;
  /** Who receives it: an account, or a machine client. */
  to: Holder;
  role: Role;
  scope: Scope;
  delegable: boolean;
  /** A coop_admin grant that approves transfers (the rules decide whether the grantor may give it). */
  transferApproval?: boolean;
  expiresAt: Date;
  reason: string;
}

export class DelegationRefused extends ProblemError {
  constructor(readonly refusal: Refusal) {
    super(403, 'delegation-refused', 'Delegation refused', refusal.detail, { rule: refusal.rule, ruleText: DELEGATION_RULES[refusal.rule] });
  }
}

/**
 * Delegates from one of the actor's grants. The rules decide first (so a scope
 * outside the grantor's is refused alike whether or not it exists), then the
 * policies through `authorize` (grant.delegate on the target scope). A refusal
 * is audited and thrown as a 403 naming its rule.
 */
export async function delegate(
  db: Db,
  actor: Principal,
  input: DelegationInput,
  opts: { maxDepth: number; authorize: (scope: ScopeResource) => Promise<PolicyDecision>; now?: Date },
): Promise<Grant> {
  const now = opts.now ?? new Date();
  const grantor = await findGrant(db, input.fromGrantId, now);
  if (!grantor) throw problems.notFound('grant');
  const target = await resolveScope(db, input.scope);
  const grantorScope = await resolveScope(db, grantor.scope);
  const refusal = grantorScope
    ? checkDelegation(
        {
          accountId: grantor.holderId,
          role: grantor.role,
          scope: grantorScope.rule,
          delegable: grantor.delegable,
          expiresAt: grantor.expiresAt,
          depth: grantor.depth,
          active: grantor.status === 'active',
          approvesTransfers: grantApprovesTransfers(grantor),
        },
        {
          actorAccountId: actor.accountId,
          toAccountId: input.to.id,
          role: input.role,
          scopeType: input.scope.type,
          scope: target?.rule ?? null,
          expiresAt: input.expiresAt,
          transferApproval: input.transferApproval ?? false,
        },
        { now, maxDepth: opts.maxDepth },
      )
    : ({ rule: 'delegation.grantor-inactive', detail: 'the scope of the grant delegated from no longer exists' } as const);
  if (refusal) {
    await db.transaction((tx) =>
      appendAudit(tx, {
        actor,
        action: 'grant.delegate',
        subject: { type: 'grant', id: grantor.id },
        outcome: 'denied',
        details: { rule: refusal.rule, role: input.role, transferApproval: input.transferApproval ?? false },
      }),
    );
    throw new DelegationRefused(refusal);
  }
  if (input.to.kind === 'account' && !(await findAccount(db, input.to.id))) throw problems.validation([{ path: 'account', message: 'no such account' }]);
  if (input.to.kind === 'client' && !(await isMachineClient(db, input.to.id)))
    throw problems.validation([{ path: 'client', message: 'no such machine client (only machine clients hold grants)' }]);
  const decision = await opts.authorize(target!.resource);
  const id = uuidv7();
  await db.transaction(async (tx) => {
    // Lock the chain: a revocation running meanwhile either waits for this
    // delegation (and then revokes it too) or has already revoked, seen here.
    const chain = [grantor.id, ...grantor.chain];
    const locked = rowsOf<{ id: string; revoked_at: unknown }>(
      await tx.execute(sql`select id, revoked_at from grants where id in ${chain} for share`),
    );
    if (locked.length !== chain.length || locked.some((r) => r.revoked_at !== null))
      throw new DelegationRefused({ rule: 'delegation.grantor-inactive', detail: DELEGATION_RULES['delegation.grantor-inactive'] });
    const [row] = await tx
      .insert(grants)
      .values({
        id,
        accountId: input.to.kind === 'account' ? input.to.id : null,
        clientId: input.to.kind === 'client' ? input.to.id : null,
        role: input.role,
        scopeType: input.scope.type,
        scopeId: target!.rule.type === 'global' ? null : target!.rule.id,
        grantedBy: grantor.id,
        delegable: input.delegable,
        transferApproval: input.transferApproval ?? false,
        depth: grantor.depth + 1,
        expiresAt: input.expiresAt,
        reason: input.reason,
      })
      .returning();
    // Sessions opened on the holder's old roles end (server/accounts/sessions.ts).
    if (input.to.kind === 'account') await endSessions(tx, [input.to.id]);
    // The actor acted through the grantor grant: its chain goes into the entry.
    const acting = grantor.depth > 0 ? { ...actor, delegation: chain } : actor;
    await appendAudit(tx, { actor: acting, action: 'grant.delegate', subject: { type: 'grant', id }, after: auditView(row!), details: { reason: input.reason }, decision });
  });
  return (await findGrant(db, id, now))!;
}

/**
 * Revokes the grant and, in the same transaction, everything delegated from
 * it (recursively). Returns the ids revoked, the grant's own first.
 */
export async function revokeGrant(db: Db, actor: Principal, grant: Grant, reason: string, decision: PolicyDecision): Promise<string[]> {
  return db.transaction((tx) => revokeGrantIn(tx, actor, grant, reason, decision));
}

/** revokeGrant inside the caller's transaction (an account offboarded or erased revokes several grants as one change). */
export async function revokeGrantIn(tx: Tx, actor: Principal, grant: Grant, reason: string, decision?: PolicyDecision): Promise<string[]> {
  // Taken before the walk below, so delegations committed meanwhile are seen by it.
  const [root] = rowsOf<{ revoked_at: unknown; version: number }>(
    await tx.execute(sql`select revoked_at, version from grants where id = ${grant.id} for update`),
  );
  if (!root || root.revoked_at !== null) throw problems.conflict('grant-revoked', 'the grant is revoked already');
  if (root.version !== grant.version) throw problems.preconditionFailed(`"${grant.id}.${root.version}"`);
  const now = new Date().toISOString();
  const revoked = rowsOf<{ id: string; account_id: string | null; client_id: string | null }>(
    await tx.execute(sql`
      with recursive tree as (
        select id from grants where id = ${grant.id}
        union all
        select g.id from grants g join tree t on g.granted_by = t.id
      )
      update grants set revoked_at = ${now}::timestamptz, revoked_by = ${actor.accountId}, version = version + 1
      where id in (select id from tree) and revoked_at is null
      returning id, account_id, client_id`),
  );
  const cascaded = revoked.filter((r) => r.id !== grant.id);
  await endSessions(tx, revoked.flatMap((r) => (r.account_id ? [r.account_id] : [])));
  await appendAudit(tx, {
    actor,
    action: 'grant.revoke',
    subject: { type: 'grant', id: grant.id },
    before: auditView(grant),
    after: { ...auditView(grant), revokedAt: now },
    details: { reason, cascaded: cascaded.map((r) => r.id) },
    decision,
  });
  for (const r of cascaded)
    await appendAudit(tx, { actor, action: 'grant.revoke-cascade', subject: { type: 'grant', id: r.id }, details: { holder: r.account_id ? person(r.account_id) : { client: r.client_id! }, cause: grant.id } });
  return [grant.id, ...cascaded.map((r) => r.id)];
}
