// The notice step: every member of the tenancy is told, by e-mail (through the
// outbox, in the same transaction) and on their member page, what will move,
// where to, and when; until the freeze they may object. Each member's notice
// is recorded (transfer_notices) so the period counts from when it reached
// them (notice-delivery.ts), not from when it was queued.
import { createHash } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import type { Principal } from '../auth/principal.js';
import { accounts, memberships } from '../accounts/table.js';
import { findCoop } from '../coops/service.js';
import { findTenancy } from '../tenancies/service.js';
import { enqueueMail } from '../mail/outbox.js';
import { problems } from '../http/problem.js';
import { appendAudit } from '../audit/trail.js';
import { person } from '../audit/subjects.js';
import { transition, type Transfer } from './service.js';
import { transferNotices } from './table.js';
import { greenlightPeople } from './greenlight-step.js';
import type { SecretBox } from '../crypto/secretbox.js';
import { ProblemError } from '../http/problem.js';
import type { GreenlightMove } from '../greenlight/table.js';
import { GreenlightMoveError, readMove, roomLink } from '../greenlight/transfer-move.js';
import { freezeNotBefore } from './notice-delivery.js';
import { noticeMail } from './notice-mail.js';
import { describeTarget } from './target.js';

/**
 * The rooms that move at Greenlight, read when the notice starts so each
 * member's notice lists theirs; a source that cannot be read stops the notice
 * (nobody is told a list that may be wrong). The approval route reads it
 * first too, so an unreadable source refuses the last approval instead of
 * leaving the transfer approved without its notice.
 */
export async function greenlightAtNotice(db: Db, box: SecretBox | undefined, t: Transfer): Promise<GreenlightMove | undefined> {
  if (!t.sourceGreenlightId || !t.targetGreenlightId) return undefined;
  if (!box) throw new Error('startNotice needs the secret box for a transfer that moves Greenlight rooms');
  try {
    return (await readMove(db, box, { sourceGreenlightId: t.sourceGreenlightId, targetGreenlightId: t.targetGreenlightId }, await greenlightPeople(db, t))).move;
  } catch (err) {
    if (!(err instanceof GreenlightMoveError)) throw err;
    throw new ProblemError(502, 'greenlight-unreadable', "The source Greenlight's rooms cannot be read", `${err.message}; fix it, then approve again or start the notice again`);
  }
}

/** `box` opens the source Greenlight's database connection, for a transfer that moves Greenlight rooms. */
export async function startNotice(db: Db, actor: Principal, t: Transfer, publicUrl: string, now = new Date(), box?: SecretBox): Promise<Transfer> {
  if (t.state !== 'approved') throw problems.conflict('transfer-state', `notice starts after approval; this transfer is ${t.state}`);
  const [tenancy, source, target] = await Promise.all([findTenancy(db, t.tenancyId), findCoop(db, t.sourceCoopId), describeTarget(db, t)]);
  const members = await db
    .select({ id: accounts.id, email: accounts.email, name: accounts.name, language: accounts.language, role: memberships.role })
    .from(memberships)
    .innerJoin(accounts, eq(accounts.id, memberships.accountId))
    .where(eq(memberships.tenancyId, t.tenancyId));
  const greenlight = await greenlightAtNotice(db, box, t);
  // The earliest it can be, were every notice delivered at once; members are told it may be later.
  const freeze = freezeNotBefore({ noticeSentAt: now, noticeDays: t.noticeDays, freezeAt: t.freezeAt })!;
  const page = `${publicUrl}/me/transfers/${t.id}`;
  return db.transaction(async (tx) => {
    const mailIds = await enqueueMail(
      tx,
      members.map((m) => ({
        to: m.email,
        topic: `transfer:${t.id}`,
        ...noticeMail(m.language ?? 'en', {
          member: m.name,
          owner: m.role === 'owner',
          tenancy: tenancy!.name,
          source: source!,
          target: target!,
          freeze,
          noticeDays: t.noticeDays,
          page,
          rooms: greenlight?.rooms.filter((r) => r.owner === m.id).map((r) => ({ name: r.name, link: roomLink(greenlight.targetBaseUrl, r.friendlyId) })),
        }),
      })),
    );
    if (members.length) await tx.insert(transferNotices).values(members.map((m, i) => ({ transferId: t.id, accountId: m.id, mailId: mailIds[i]! })));
    return transition(tx, actor, t, 'notice', 'transfer.notice', {
      set: { noticeSentAt: now, ...(greenlight ? { greenlight } : {}) },
      details: { members: members.length, freezeNotBefore: freeze.toISOString() },
    });
  });
}

/** The ways an admin may record that a member was told of the transfer other than by the notice mail. */
export const TOLD_HOW = ['in-person', 'phone', 'letter', 'other-email', 'other'] as const;
export type ToldHow = (typeof TOLD_HOW)[number];

/**
 * An admin's record that a member whose notice mail did not reach them was
 * told another way: their notice period counts from now. The note may name
 * people, so the audit log gets its SHA-256 only.
 */
export async function recordTold(db: Db, actor: Principal, t: Transfer, accountId: string, how: ToldHow, note: string | null, now = new Date()): Promise<void> {
  if (t.state !== 'notice') throw problems.conflict('transfer-state', `members are told during the notice; this transfer is ${t.state}`);
  const [member] = await db
    .select({ id: memberships.accountId })
    .from(memberships)
    .where(and(eq(memberships.tenancyId, t.tenancyId), eq(memberships.accountId, accountId)));
  if (!member) throw problems.notFound('member of the tenancy');
  await db.transaction(async (tx) => {
    const [row] = await tx
      .insert(transferNotices)
      .values({ transferId: t.id, accountId, toldAt: now, toldHow: how, toldNote: note, toldBy: actor.accountId })
      .onConflictDoUpdate({
        target: [transferNotices.transferId, transferNotices.accountId],
        set: { toldAt: now, toldHow: how, toldNote: note, toldBy: actor.accountId },
        setWhere: isNull(transferNotices.toldAt),
      })
      .returning({ accountId: transferNotices.accountId });
    if (!row) throw problems.conflict('already-told', 'how this member was told is already on record');
    await appendAudit(tx, {
      actor,
      action: 'transfer.notice-told',
      subject: { type: 'transfer', id: t.id },
      details: { member: person(accountId), how },
      ...(note ? { evidence: { note: createHash('sha256').update(note, 'utf8').digest('hex') } } : {}),
    });
  });
}
