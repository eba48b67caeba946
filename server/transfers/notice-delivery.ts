// When each member of a tenancy was reached by a transfer's notice, and so when
// the tenancy may be frozen. A member is reached at the first of: the mail
// server accepting their notice mail (the outbox's sent_at), the notice being
// shown on their member page, an admin's record of another way they were told,
// and their own objection. The freeze waits until every current member has had
// the whole notice period from then, and not before the planned freeze date.
import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { Executor } from '../db/index.js';
import { accounts, memberships } from '../accounts/table.js';
import { mailDeliveries } from '../mail/outbox.js';
import { transferNotices, transferObjections, transfers } from './table.js';

const DAY_MS = 86_400_000;

/** How a member was first reached. */
export type ReachedBy = 'mail' | 'page' | 'told' | 'objection';

/** What became of the notice mail: accepted, refused for good, still being tried (failing once tried), or none sent. */
export type MailState = 'sent' | 'refused' | 'queued' | 'failing' | 'none';

export interface MemberNotice {
  accountId: string;
  email: string;
  reachedAt: Date | null;
  reachedBy: ReachedBy | null;
  mail: MailState;
  attempts: number;
  lastError: string | null;
  told: { at: Date; how: string } | null;
}

type NoticeTransfer = { id: string; tenancyId: string; noticeSentAt: Date | null; noticeDays: number; freezeAt: Date | null };

/** Every current member of the tenancy and how (if at all) the transfer's notice reached them. */
export async function memberNotices(db: Executor, t: Pick<NoticeTransfer, 'id' | 'tenancyId'>): Promise<MemberNotice[]> {
  const members = await db
    .select({ accountId: memberships.accountId, email: accounts.email })
    .from(memberships)
    .innerJoin(accounts, eq(accounts.id, memberships.accountId))
    .where(eq(memberships.tenancyId, t.tenancyId));
  if (members.length === 0) return [];
  const ids = members.map((m) => m.accountId);
  const notices = new Map(
    (await db.select().from(transferNotices).where(and(eq(transferNotices.transferId, t.id), inArray(transferNotices.accountId, ids)))).map((n) => [n.accountId, n]),
  );
  const objected = new Map(
    (
      await db
        .select({ accountId: transferObjections.accountId, at: transferObjections.createdAt })
        .from(transferObjections)
        .where(and(eq(transferObjections.transferId, t.id), inArray(transferObjections.accountId, ids)))
    ).map((o) => [o.accountId, o.at]),
  );
  const mails = await mailDeliveries(db, [...notices.values()].flatMap((n) => (n.mailId ? [n.mailId] : [])));
  return members
    .map((m) => {
      const n = notices.get(m.accountId);
      const mail = n?.mailId ? mails.get(n.mailId) : undefined;
      const candidates: Array<[ReachedBy, Date | null | undefined]> = [
        ['mail', mail?.sentAt],
        ['page', n?.shownAt],
        ['told', n?.toldAt],
        ['objection', objected.get(m.accountId)],
      ];
      const first = candidates.filter((c): c is [ReachedBy, Date] => c[1] instanceof Date).sort((a, b) => a[1].getTime() - b[1].getTime())[0];
      const state: MailState = !mail ? 'none' : mail.sentAt ? 'sent' : mail.failedAt ? 'refused' : mail.attempts > 0 ? 'failing' : 'queued';
      return {
        accountId: m.accountId,
        email: m.email,
        reachedAt: first?.[1] ?? null,
        reachedBy: first?.[0] ?? null,
        mail: state,
        attempts: mail?.attempts ?? 0,
        lastError: mail?.lastError ?? null,
        told: n?.toldAt ? { at: n.toldAt, how: n.toldHow ?? '' } : null,
      };
    })
    .sort((a, b) => a.accountId.localeCompare(b.accountId));
}

/** Not reached, and the mail will not get there by itself: refused for good, or still not accepted after `attempts` tries. */
export function undeliverable(n: MemberNotice, attempts: number): boolean {
  return n.reachedAt === null && (n.mail === 'refused' || n.mail === 'none' || n.attempts >= attempts);
}

export interface NoticeReach {
  members: number;
  reached: number;
  /** when the last member was reached, once all are (with no members: when the notice started) */
  allReachedAt: Date | null;
  notReached: MemberNotice[];
}

export function reachOf(t: Pick<NoticeTransfer, 'noticeSentAt'>, notices: MemberNotice[]): NoticeReach {
  const notReached = notices.filter((n) => n.reachedAt === null);
  const last = notices.reduce<Date | null>((acc, n) => (n.reachedAt && (!acc || n.reachedAt > acc) ? n.reachedAt : acc), null);
  return { members: notices.length, reached: notices.length - notReached.length, allReachedAt: notReached.length ? null : (last ?? t.noticeSentAt), notReached };
}

export async function noticeReach(db: Executor, t: NoticeTransfer): Promise<NoticeReach> {
  return reachOf(t, await memberNotices(db, t));
}

/**
 * The earliest the tenancy may be frozen: the planned freeze date, and the end
 * of the notice period of the member reached last. Before everyone is reached
 * the notice period counts from the notice's start at best, so this is a lower
 * bound; null before the notice started.
 */
export function freezeNotBefore(t: Pick<NoticeTransfer, 'noticeSentAt' | 'noticeDays' | 'freezeAt'>, reach?: Pick<NoticeReach, 'allReachedAt'>): Date | null {
  if (!t.noticeSentAt) return t.freezeAt;
  const from = reach?.allReachedAt ?? t.noticeSentAt;
  const end = new Date(from.getTime() + t.noticeDays * DAY_MS);
  return t.freezeAt && t.freezeAt > end ? t.freezeAt : end;
}

/** Why a transfer in notice is not frozen yet: members not reached, or the date not come. */
export type FreezeWait = { waiting: 'notice-delivery'; undelivered: number } | { waiting: 'freeze-date'; until: string };

/** Undefined when the transfer may be frozen now. */
export async function freezeWait(db: Executor, t: NoticeTransfer, now: Date): Promise<FreezeWait | undefined> {
  const reach = await noticeReach(db, t);
  if (reach.notReached.length) return { waiting: 'notice-delivery', undelivered: reach.notReached.length };
  const at = freezeNotBefore(t, reach)!;
  return at.getTime() > now.getTime() ? { waiting: 'freeze-date', until: at.toISOString() } : undefined;
}

/** Every transfer in notice that may not be frozen yet, and why (for `transfers run`). */
export async function waitingNotices(db: Executor, now: Date): Promise<Array<{ id: string } & FreezeWait>> {
  const open = await db
    .select({ id: transfers.id, tenancyId: transfers.tenancyId, noticeSentAt: transfers.noticeSentAt, noticeDays: transfers.noticeDays, freezeAt: transfers.freezeAt })
    .from(transfers)
    .where(eq(transfers.state, 'notice'));
  const out: Array<{ id: string } & FreezeWait> = [];
  for (const t of open) {
    const wait = await freezeWait(db, t, now);
    if (wait) out.push({ id: t.id, ...wait });
  }
  return out;
}

/** A member reached on their page: recorded once, the first time. Returns whether this was the first time. */
export async function recordShown(db: Executor, transferId: string, accountId: string, at: Date): Promise<boolean> {
  const rows = await db
    .insert(transferNotices)
    .values({ transferId, accountId, shownAt: at })
    .onConflictDoUpdate({
      target: [transferNotices.transferId, transferNotices.accountId],
      set: { shownAt: at },
      setWhere: isNull(transferNotices.shownAt),
    })
    .returning({ accountId: transferNotices.accountId });
  return rows.length > 0;
}
