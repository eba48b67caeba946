// Forwarding after a move: when a tenancy is switched out to another meetplane
// instance, front ends still call this instance's gateway with the tenancy's secret
// until their operators point them at the target. Until the forward's `until`, the
// gateway passes those calls on to the target's gateway for the tenancy, re-signed
// with the secret the target gave; after it, it answers that the tenancy moved and
// where to. Called by the transfer lifecycle in its own transaction.
import { and, eq, gt } from 'drizzle-orm';
import type { Tx } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Principal } from '../auth/principal.js';
import { appendAudit } from '../audit/trail.js';
import { problems } from '../http/problem.js';
import { isCleanText } from '../http/text.js';
import { OutboundRefused, type Outbound } from '../net/outbound.js';
import { tenancies } from '../tenancies/table.js';
import { tenancyForwards } from './table.js';

export interface ForwardInput {
  tenancyId: string;
  /** the transfer that moved it (kept as history) */
  transferId: string;
  /** the target instance's entity id */
  peer: string;
  /** the target's BBB API base for the tenancy, e.g. https://target.example/t/<slug>/bigbluebutton/api */
  gatewayUrl: string;
  /** the secret the target's gateway checks the tenancy's calls with */
  secret: string;
  /** the end of the grace period */
  until: Date;
}

export interface ForwardingContext {
  box: SecretBox;
  /** the instance's outbound policy: the URL must be one it would call */
  outbound: Outbound;
  actor: Principal;
}

/** The forward's secret is sealed for this row only. */
export const forwardSecretLabel = (tenancyId: string) => `tenancy-forward-secret:${tenancyId}`;

/**
 * The gateway URL as it will be called: https, or http only where the outbound policy
 * allows loopback (tests, a local setup); no credentials, query or fragment; a literal
 * address the policy refuses is refused now (a name is checked on each call).
 */
export function checkGatewayUrl(outbound: Outbound, input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw problems.validation([{ path: 'gatewayUrl', message: 'not a valid URL' }]);
  }
  const invalid = (message: string) => problems.validation([{ path: 'gatewayUrl', message }]);
  if (url.protocol === 'http:' && !allowsLoopback(outbound)) throw invalid('must be https');
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('must be https');
  if (url.search !== '' || url.hash !== '') throw invalid('must not have a query or fragment');
  try {
    outbound.checkUrl(url);
  } catch (err) {
    if (err instanceof OutboundRefused) throw invalid(err.message);
    throw err;
  }
  return url.href.replace(/\/+$/, '');
}

/** Whether the policy lets this instance call loopback addresses (OUTBOUND_ALLOW lists them: tests only). */
function allowsLoopback(outbound: Outbound): boolean {
  try {
    outbound.checkUrl('http://127.0.0.1/');
    return true;
  } catch {
    return false;
  }
}

/**
 * Marks the tenancy 'moved' and records where its gateway calls go until `until`, in the
 * caller's transaction, audited (`tenancy.forward`, without the secret). The same transfer
 * again changes nothing; a tenancy archived, or moved by another transfer, is refused (409).
 * Every meetplane process's gateway forwards from the commit (the tables' change notices).
 */
export async function startForwarding(tx: Tx, ctx: ForwardingContext, input: ForwardInput): Promise<void> {
  const gatewayUrl = checkGatewayUrl(ctx.outbound, input.gatewayUrl);
  const issues: Array<{ path: string; message: string }> = [];
  if (input.secret === '' || !isCleanText(input.secret) || /\s/.test(input.secret)) issues.push({ path: 'secret', message: 'must be non-empty, without spaces or control characters' });
  if (input.peer.trim() === '') issues.push({ path: 'peer', message: 'must be the target instance\'s entity id' });
  if (!(input.until instanceof Date) || Number.isNaN(input.until.getTime())) issues.push({ path: 'until', message: 'must be a time' });
  if (issues.length) throw problems.validation(issues);

  const [current] = await tx
    .select({ state: tenancies.state, version: tenancies.version })
    .from(tenancies)
    .where(eq(tenancies.id, input.tenancyId))
    .for('update');
  if (!current) throw problems.notFound('tenancy');
  if (current.state === 'moved') {
    // The same switch again (a runner that did it and was stopped before it noted so): nothing more to do.
    const [existing] = await tx.select({ transferId: tenancyForwards.transferId }).from(tenancyForwards).where(eq(tenancyForwards.tenancyId, input.tenancyId));
    if (existing?.transferId === input.transferId) return;
  }
  if (current.state === 'archived' || current.state === 'moved') throw problems.conflict('tenancy-not-movable', `the tenancy is ${current.state}`);

  await tx
    .update(tenancies)
    .set({ state: 'moved', version: current.version + 1, updatedAt: new Date() })
    .where(eq(tenancies.id, input.tenancyId));
  const row = {
    transferId: input.transferId,
    peer: input.peer,
    gatewayUrl,
    secretSealed: ctx.box.seal(input.secret, forwardSecretLabel(input.tenancyId)),
    until: input.until,
    createdAt: new Date(),
  };
  // A tenancy that came back and moves out again replaces its old forward.
  await tx
    .insert(tenancyForwards)
    .values({ tenancyId: input.tenancyId, ...row })
    .onConflictDoUpdate({ target: tenancyForwards.tenancyId, set: row });
  await appendAudit(tx, {
    actor: ctx.actor,
    action: 'tenancy.forward',
    subject: { type: 'tenancy', id: input.tenancyId },
    before: { state: current.state },
    after: { state: 'moved' },
    details: { transferId: input.transferId, peer: input.peer, gatewayUrl, until: input.until.toISOString() },
  });
}

/**
 * Ends the grace period now (the target asked, or the operator decided): the row stays,
 * so the gateway still names the new URL; nothing is forwarded any more. Audited
 * (`tenancy.forward-stop`); false when the tenancy has no forward still running.
 */
export async function stopForwarding(tx: Tx, ctx: { actor: Principal; now?: Date }, tenancyId: string): Promise<boolean> {
  const now = ctx.now ?? new Date();
  const stopped = await tx
    .update(tenancyForwards)
    .set({ until: now })
    .where(and(eq(tenancyForwards.tenancyId, tenancyId), gt(tenancyForwards.until, now)))
    .returning({ transferId: tenancyForwards.transferId });
  if (stopped.length === 0) return false;
  await appendAudit(tx, {
    actor: ctx.actor,
    action: 'tenancy.forward-stop',
    subject: { type: 'tenancy', id: tenancyId },
    details: { transferId: stopped[0]!.transferId, until: now.toISOString() },
  });
  return true;
}

/**
 * Undoes startForwarding for a switch that is rolled back: the forward is removed and the
 * tenancy takes `state` again (what it was before the switch), served here as before.
 * Audited (`tenancy.forward-cancel`); false when the tenancy was not moved.
 */
export async function cancelForwarding(
  tx: Tx,
  ctx: { actor: Principal },
  input: { tenancyId: string; state: 'active' | 'frozen' | 'transferring' },
): Promise<boolean> {
  const [current] = await tx.select({ state: tenancies.state, version: tenancies.version }).from(tenancies).where(eq(tenancies.id, input.tenancyId)).for('update');
  if (!current || current.state !== 'moved') return false;
  const removed = await tx.delete(tenancyForwards).where(eq(tenancyForwards.tenancyId, input.tenancyId)).returning({ transferId: tenancyForwards.transferId });
  await tx.update(tenancies).set({ state: input.state, version: current.version + 1, updatedAt: new Date() }).where(eq(tenancies.id, input.tenancyId));
  await appendAudit(tx, {
    actor: ctx.actor,
    action: 'tenancy.forward-cancel',
    subject: { type: 'tenancy', id: input.tenancyId },
    before: { state: 'moved' },
    after: { state: input.state },
    details: { transferId: removed[0]?.transferId ?? null },
  });
  return true;
}
