// One tenancy's transfer, made from the approved plan. It is an ordinary
// transfer: created and checked by the transfers service (the data-protection
// rules decide), then approved by the plan's two approvers, each approval
// decided by the policies for that person as they stand now (their
// transfer.approveAsSource / AsTarget), exactly as if they had approved it by
// hand. The owner's approval is theirs to give (they accept on their page or
// through the API); an owner who already accepted the hand-over for their
// tenancy carries it into a retried transfer, again decided for them by the policies.
import { and, eq } from 'drizzle-orm';
import { authorized, type Principal } from '../auth/principal.js';
import { findAccount } from '../accounts/service.js';
import { appendAudit } from '../audit/trail.js';
import { transferRef } from '../authz/guard.js';
import { ProblemError } from '../http/problem.js';
import { approveTransfer, checkTransfer, createTransfer, type ApprovalRole, type Transfer } from '../transfers/service.js';
import { recordProcessingAgreement } from '../transfers/service.js';
import { startNotice } from '../transfers/notice.js';
import type { HandoverDeps } from './deps.js';
import { handoverApprovals, handoverClusters, handoverTenancies, handoverWaves } from './table.js';
import { transferApprovals } from '../transfers/table.js';
import { accounts, memberships } from '../accounts/table.js';
import { findTenancy } from '../tenancies/service.js';
import { findCoop } from '../coops/service.js';
import { enqueueMail, type Mail } from '../mail/outbox.js';
import { OWNER_TEXT, ownerLanguage } from './owner-text.js';
import type { Handover, HandoverTenancy } from './plan.js';

const APPROVE_AS = { source_admin: 'transfer.approveAsSource', target_admin: 'transfer.approveAsTarget', owner: 'transfer.approveAsOwner' } as const;
const DAY_MS = 86_400_000;
const ADEQUACY = { claimedBasis: 'adequacy', dpfListed: false, pipedaSubject: false, sccsDocuments: [], impactAssessment: null } as const;

/** A person as the policies see them when they are not the one making the request. */
export async function principalOf(deps: HandoverDeps, accountId: string): Promise<Principal> {
  const a = await findAccount(deps.exec.db, accountId);
  return { accountId, coopId: a?.coopId ?? null, platformAdmin: false, via: 'pat', tokenId: null };
}

/** Approves in `role` as `who`, if the policies let that person approve in that role now; else 403 naming the rules. */
export async function approveAs(deps: HandoverDeps, who: Principal, t: Transfer, role: ApprovalRole): Promise<Transfer> {
  const ref = transferRef(t);
  let allowed = null;
  for (const action of ['transfer.approve', APPROVE_AS[role]]) {
    const d = await deps.authz.decide(who, action, ref);
    if (d.decision === 'allow') {
      allowed = d;
      continue;
    }
    await deps.authz.auditDenial(who, 'transfer.approve', ref, d);
    throw new ProblemError(403, 'forbidden', 'Forbidden', `the ${role.replace('_', ' ')} approval is refused by the policies (${d.policyIds.join(', ') || 'no permit'})`, {
      policyIds: d.policyIds,
    });
  }
  // The role's own decision (the last one asked) goes with the approval into the audit log.
  return approveTransfer(deps.exec.db, authorized(who, { decision: 'allow', policyIds: allowed!.policyIds, policySetHash: allowed!.policySetHash }), t, role);
}

/** What every tenancy's transfer of one plan needs, read once for a run over many tenancies. */
export interface PlanContext {
  waves: Array<typeof handoverWaves.$inferSelect>;
  clusters: Array<typeof handoverClusters.$inferSelect>;
  approvers: Partial<Record<'source_admin' | 'target_admin', Principal>>;
}

export async function planContext(deps: HandoverDeps, h: Handover): Promise<PlanContext> {
  const db = deps.exec.db;
  const [waves, clusters, approvals] = await Promise.all([
    db.select().from(handoverWaves).where(eq(handoverWaves.handoverId, h.id)),
    db.select().from(handoverClusters).where(eq(handoverClusters.handoverId, h.id)),
    db.select().from(handoverApprovals).where(eq(handoverApprovals.handoverId, h.id)),
  ]);
  const approvers: PlanContext['approvers'] = {};
  for (const a of approvals) approvers[a.role] = await principalOf(deps, a.accountId);
  return { waves, clusters, approvers };
}

/**
 * Creates, checks and approves (plan approvers; the owner too when they already
 * accepted) the tenancy's transfer. A refusal anywhere is the tenancy's failure,
 * recorded on it; the others are not held up.
 */
export async function openTransfer(
  deps: HandoverDeps,
  actor: Principal,
  h: Handover,
  ht: HandoverTenancy,
  given?: PlanContext,
): Promise<{ transferId: string | null; failure: string | null }> {
  const db = deps.exec.db;
  let transferId: string | null = null;
  try {
    const ctx = given ?? (await planContext(deps, h));
    const wave = ctx.waves.find((w) => w.n === ht.wave);
    const { source_admin: sourceApprover, target_admin: targetApprover } = ctx.approvers;
    if (!sourceApprover || !targetApprover) throw new Error('the plan is not approved by both co-ops');
    if (h.agreementSha256 && ht.attempts === 0)
      await recordProcessingAgreement(db, actor, { tenancyId: ht.tenancyId, coopId: h.targetCoopId, documentSha256: h.agreementSha256, signedOn: h.agreementSignedOn!, validUntil: null });
    const cluster = ctx.clusters.find((c) => c.clusterId === ht.clusterId);
    // The wave's window as the planned freeze, when there is still the full notice before it. One reading of
    // the clock for this and for the transfer's own check: read twice, a window opening between the two readings
    // had the transfer refused ("must be at least the notice period from now") and the tenancy failed.
    const now = deps.exec.now?.() ?? new Date();
    const freezeAt = wave && wave.freezeFrom.getTime() >= now.getTime() + h.noticeDays * DAY_MS ? wave.freezeFrom : null;
    // The plan's Greenlight map says where the members' rooms go (the plan checked every readable one is mapped).
    const named = (await findTenancy(db, ht.tenancyId))?.greenlightId;
    const mapped = named ? h.greenlights.find((g) => g.sourceId === named) : undefined;
    let t = await createTransfer(db, actor, {
      tenancyId: ht.tenancyId,
      targetCoopId: h.targetCoopId,
      targetClusterId: cluster!.targetClusterId!,
      evidence: { ...ADEQUACY, sccsDocuments: [] },
      noticeDays: h.noticeDays,
      freezeAt,
      ...(mapped ? { targetGreenlight: mapped.targetId } : {}),
    }, now);
    transferId = t.id;
    t = await checkTransfer(db, deps.exec, actor, t);
    if (t.state === 'rejected') throw new Error(`the data-protection rules refused it: ${t.lastDecision?.reasons.join('; ') ?? 'no reason given'}`);
    t = await approveAs(deps, sourceApprover, t, 'source_admin');
    t = await approveAs(deps, targetApprover, t, 'target_admin');
    if (ht.answer === 'accepted') {
      const owner = await ownerWhoAccepted(deps, ht);
      if (owner) {
        t = await approveAs(deps, owner, t, 'owner');
        if (t.state === 'approved') t = await startNotice(db, owner, t, deps.publicUrl, new Date(), deps.exec.box);
      }
    }
    const mails = t.state === 'checked' ? await ownerMails(deps, h, ht, t) : [];
    await settle(deps, actor, h, ht, { transferId: t.id, state: 'transfer', failure: null, attempt: true, mails });
    return { transferId: t.id, failure: null };
  } catch (e) {
    const reason = e instanceof ProblemError ? e.message : e instanceof Error ? e.message : String(e);
    await settle(deps, actor, h, ht, { transferId, state: 'failed', failure: reason, attempt: true });
    return { transferId, failure: reason };
  }
}

/**
 * The tenancy's owners are told the plan and asked for their answer: on their
 * transfer's page, or through the API and CLI (accept, object, a later wave).
 */
async function ownerMails(deps: HandoverDeps, h: Handover, ht: HandoverTenancy, t: Transfer): Promise<Mail[]> {
  const db = deps.exec.db;
  const [tenancy, source, target] = await Promise.all([findTenancy(db, ht.tenancyId), findCoop(db, h.sourceCoopId), findCoop(db, h.targetCoopId)]);
  const owners = await db
    .select({ email: accounts.email, name: accounts.name, language: accounts.language })
    .from(memberships)
    .innerJoin(accounts, eq(accounts.id, memberships.accountId))
    .where(and(eq(memberships.tenancyId, ht.tenancyId), eq(memberships.role, 'owner')));
  return owners.map((o) => ({
    to: o.email,
    topic: `handover:${h.id}`,
    ...OWNER_TEXT[ownerLanguage(o.language, tenancy!.language)].mail({
      owner: o.name,
      tenancy: tenancy!.name,
      source: source!.name,
      target: target!.name,
      wave: ht.wave,
      freeze: t.freezeAt,
      page: `${deps.publicUrl}/me/handovers/${h.id}/tenancies/${ht.tenancyId}`,
      command: `meetplane handovers answer ${h.id} --tenancy ${ht.tenancyId} --accept | --object stay|export|other-host | --later`,
    }),
  }));
}

/** The owner who accepted: the one whose approval the tenancy's previous transfer carries. */
async function ownerWhoAccepted(deps: HandoverDeps, ht: HandoverTenancy): Promise<Principal | null> {
  if (!ht.transferId) return null;
  const [a] = await deps.exec.db
    .select({ accountId: transferApprovals.accountId })
    .from(transferApprovals)
    .where(and(eq(transferApprovals.transferId, ht.transferId), eq(transferApprovals.role, 'owner')));
  return a ? principalOf(deps, a.accountId) : null;
}

/** Records a tenancy's new place in the hand-over, audited. */
export async function settle(
  deps: Pick<HandoverDeps, 'exec'>,
  actor: Principal,
  h: Handover,
  ht: HandoverTenancy,
  change: { transferId?: string | null; state: HandoverTenancy['state']; failure: string | null; attempt?: boolean; set?: Partial<HandoverTenancy>; mails?: Mail[] },
): Promise<void> {
  await deps.exec.db.transaction(async (tx) => {
    if (change.mails?.length) await enqueueMail(tx, change.mails);
    await tx
      .update(handoverTenancies)
      .set({
        ...change.set,
        ...(change.transferId !== undefined ? { transferId: change.transferId } : {}),
        state: change.state,
        failure: change.failure,
        ...(change.attempt ? { attempts: ht.attempts + 1 } : {}),
        updatedAt: new Date(),
      })
      .where(and(eq(handoverTenancies.handoverId, h.id), eq(handoverTenancies.tenancyId, ht.tenancyId)));
    await appendAudit(tx, {
      actor,
      action: 'handover.tenancy',
      subject: { type: 'handover', id: h.id },
      before: { tenancy: ht.tenancyId, state: ht.state, wave: ht.wave },
      after: { tenancy: ht.tenancyId, state: change.state, wave: change.set?.wave ?? ht.wave, transfer: change.transferId ?? ht.transferId ?? null },
      ...(change.failure ? { details: { failure: change.failure } } : {}),
      outcome: change.state === 'failed' ? 'failure' : 'success',
    });
  });
}
