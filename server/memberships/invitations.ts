// Invitations to join a tenancy. Whoever may set the tenancy's members may
// invite anyone by e-mail address; the person becomes a member only by
// accepting on their own page (/me). The inviter learns nothing they did not
// type: the answer and the list look the same whether or not the address
// belongs to an account here (without one, the invitation simply never gets
// an answer and expires). Every change is audited with pseudonyms, never an
// address.
import { and, asc, desc, eq, gt, isNull, lte, isNotNull, sql, type SQL } from 'drizzle-orm';
import type { Db, Executor, Tx } from '../db/index.js';
import type { Principal } from '../auth/principal.js';
import { uuidv7 } from '../ids.js';
import { appendAudit } from '../audit/trail.js';
import { person } from '../audit/subjects.js';
import { problems } from '../http/problem.js';
import { enqueueMail } from '../mail/outbox.js';
import { accounts } from '../accounts/table.js';
import { findMembership, writeMembership, type MemberRole } from '../accounts/service.js';
import { coops } from '../coops/table.js';
import { tenancies } from '../tenancies/table.js';
import { memberInvitations } from './table.js';
import { invitationMailText } from './invitation-mail.js';
import { chooseLanguage } from '../web/i18n.js';

export type InvitationRow = typeof memberInvitations.$inferSelect;
export type InvitationState = 'pending' | 'accepted' | 'declined' | 'revoked' | 'expired';
export const INVITATION_STATES = ['pending', 'accepted', 'declined', 'revoked', 'expired'] as const;

/** How long an invitation stays open unless the inviter says otherwise. */
export const DEFAULT_INVITATION_DAYS = 14;
export const MAX_INVITATION_DAYS = 90;

export function stateOf(row: Pick<InvitationRow, 'acceptedAt' | 'declinedAt' | 'revokedAt' | 'expiresAt'>, now = new Date()): InvitationState {
  if (row.acceptedAt) return 'accepted';
  if (row.declinedAt) return 'declined';
  if (row.revokedAt) return 'revoked';
  return row.expiresAt.getTime() <= now.getTime() ? 'expired' : 'pending';
}

/** What the inviter sees: what they typed, and how it went. Never whether an account had the address. */
export function invitationView(row: InvitationRow, now = new Date()) {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    state: stateOf(row, now),
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    answeredAt: (row.acceptedAt ?? row.declinedAt)?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

const open = () => and(isNull(memberInvitations.acceptedAt), isNull(memberInvitations.declinedAt), isNull(memberInvitations.revokedAt));
const OPEN_WHERE = sql`accepted_at is null and declined_at is null and revoked_at is null`;

function stateCondition(state: InvitationState, now: Date): SQL {
  switch (state) {
    case 'pending':
      return and(open(), gt(memberInvitations.expiresAt, now))!;
    case 'expired':
      return and(open(), lte(memberInvitations.expiresAt, now))!;
    case 'accepted':
      return isNotNull(memberInvitations.acceptedAt);
    case 'declined':
      return isNotNull(memberInvitations.declinedAt);
    case 'revoked':
      return isNotNull(memberInvitations.revokedAt);
  }
}

export interface InviteInput {
  email: string;
  role: MemberRole;
  expiresInDays?: number;
}

/**
 * Invites the address to the tenancy, or renews the open invitation it has
 * there (new role, inviter and expiry). When an account has the address, it is
 * told by mail (through the outbox, in this transaction) and sees the
 * invitation on its page.
 */
export async function inviteMember(
  db: Db,
  actor: Principal,
  tenancy: { id: string; name: string; coopId: string },
  input: InviteInput,
  publicUrl: string,
  now = new Date(),
): Promise<InvitationRow> {
  const email = input.email.toLowerCase();
  const expiresAt = new Date(now.getTime() + (input.expiresInDays ?? DEFAULT_INVITATION_DAYS) * 86_400_000);
  return db.transaction(async (tx) => {
    const [invitee] = await tx.select({ id: accounts.id, name: accounts.name, language: accounts.language }).from(accounts).where(eq(accounts.email, email)).limit(1);
    // A client acting for itself has no account to name as the inviter.
    const [inviter] = actor.via === 'local' ? [] : await tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, actor.accountId)).limit(1);
    const fresh = uuidv7();
    const [row] = await tx
      .insert(memberInvitations)
      .values({ id: fresh, tenancyId: tenancy.id, accountId: invitee?.id ?? null, email, role: input.role, invitedBy: inviter?.id ?? null, createdAt: now, expiresAt })
      .onConflictDoUpdate({
        target: [memberInvitations.tenancyId, memberInvitations.email],
        targetWhere: OPEN_WHERE,
        set: { accountId: invitee?.id ?? null, role: input.role, invitedBy: inviter?.id ?? null, expiresAt },
      })
      .returning();
    await appendAudit(tx, {
      actor,
      action: row!.id === fresh ? 'membership-invitation.create' : 'membership-invitation.renew',
      subject: { type: 'tenancy', id: tenancy.id },
      after: { invitation: row!.id, invitee: invitee ? person(invitee.id) : null, role: input.role, expiresAt: expiresAt.toISOString() },
    });
    if (invitee) await enqueueMail(tx, [await invitationMail(tx, row!, invitee, tenancy, publicUrl)]);
    return row!;
  });
}

/** The mail, in the invitee's chosen language (English when none: a mail has no browser to ask). */
async function invitationMail(tx: Tx, row: InvitationRow, invitee: { name: string; language: string | null }, tenancy: { name: string; coopId: string }, publicUrl: string) {
  const [coop] = await tx.select({ name: coops.name }).from(coops).where(eq(coops.id, tenancy.coopId)).limit(1);
  const text = invitationMailText(chooseLanguage(undefined, invitee.language), { name: invitee.name, tenancy: tenancy.name, coop: coop?.name, role: row.role, expiresAt: row.expiresAt, publicUrl });
  return { to: row.email, topic: `member-invitation:${row.id}`, ...text };
}

/** The tenancy's invitations, newest first (cursor: the last id of the previous page). */
export async function listInvitations(db: Executor, tenancyId: string, opts: { state?: InvitationState; before?: string; limit: number; now?: Date }): Promise<InvitationRow[]> {
  const conds = [eq(memberInvitations.tenancyId, tenancyId)];
  if (opts.state) conds.push(stateCondition(opts.state, opts.now ?? new Date()));
  if (opts.before) conds.push(sql`${memberInvitations.id} < ${opts.before}`);
  return db
    .select()
    .from(memberInvitations)
    .where(and(...conds))
    .orderBy(desc(memberInvitations.id))
    .limit(opts.limit + 1);
}

/** Withdraws a pending invitation. Unknown (or another tenancy's) ids answer 404; answered or expired ones 409. */
export async function revokeInvitation(db: Db, actor: Principal, tenancyId: string, id: string, now = new Date()): Promise<InvitationRow> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(memberInvitations)
      .where(and(eq(memberInvitations.id, id), eq(memberInvitations.tenancyId, tenancyId)))
      .for('update');
    if (!row) throw problems.notFound('invitation');
    const state = stateOf(row, now);
    if (state !== 'pending') throw problems.conflict('invitation-closed', `the invitation is ${state}`);
    const [revoked] = await tx.update(memberInvitations).set({ revokedAt: now }).where(eq(memberInvitations.id, id)).returning();
    await appendAudit(tx, { actor, action: 'membership-invitation.revoke', subject: { type: 'tenancy', id: tenancyId }, after: { invitation: id } });
    return revoked!;
  });
}

export interface OpenInvitation {
  id: string;
  role: MemberRole;
  expiresAt: Date;
  tenancy: { name: string; slug: string };
  coop: { name: string };
}

/** The invitations waiting for this account's answer, oldest first. */
export async function openInvitationsFor(db: Executor, accountId: string, now = new Date()): Promise<OpenInvitation[]> {
  const rows = await db
    .select({
      id: memberInvitations.id,
      role: memberInvitations.role,
      expiresAt: memberInvitations.expiresAt,
      tenancyName: tenancies.name,
      tenancySlug: tenancies.slug,
      coopName: coops.name,
    })
    .from(memberInvitations)
    .innerJoin(tenancies, eq(tenancies.id, memberInvitations.tenancyId))
    .innerJoin(coops, eq(coops.id, tenancies.coopId))
    .where(and(eq(memberInvitations.accountId, accountId), stateCondition('pending', now)))
    .orderBy(asc(memberInvitations.id));
  return rows.map((r) => ({ id: r.id, role: r.role, expiresAt: r.expiresAt, tenancy: { name: r.tenancyName, slug: r.tenancySlug }, coop: { name: r.coopName } }));
}

/**
 * The invited person's answer. Accepting makes them a member with the invited
 * role (unless they are one already), in the same transaction as the answer and both audit entries. Someone
 * else's invitation answers like a missing one (404); an answered, revoked or
 * expired one 409.
 */
export async function answerInvitation(db: Db, member: Principal, id: string, answer: 'accept' | 'decline', now = new Date()): Promise<InvitationRow> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(memberInvitations)
      .where(and(eq(memberInvitations.id, id), eq(memberInvitations.accountId, member.accountId)))
      .for('update');
    if (!row) throw problems.notFound('invitation');
    const state = stateOf(row, now);
    if (state !== 'pending') throw problems.conflict('invitation-closed', `the invitation is ${state}`);
    const [answered] = await tx
      .update(memberInvitations)
      .set(answer === 'accept' ? { acceptedAt: now } : { declinedAt: now })
      .where(eq(memberInvitations.id, id))
      .returning();
    await appendAudit(tx, {
      actor: member,
      action: answer === 'accept' ? 'membership-invitation.accept' : 'membership-invitation.decline',
      subject: { type: 'tenancy', id: row.tenancyId },
      after: { invitation: id, invitee: person(member.accountId) },
    });
    // Already a member (added since): the role stays as it is; roles change through the member list.
    if (answer === 'accept' && !(await findMembership(tx, row.tenancyId, member.accountId)))
      await writeMembership(tx, member, row.tenancyId, member.accountId, row.role, { invitation: id });
    return answered!;
  });
}
