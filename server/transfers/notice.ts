// The notice step: every member of the tenancy is told, by e-mail (through the
// outbox, in the same transaction) and on their member page, what will move,
// where to, and when; until the freeze they may object.
import { eq } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import type { Principal } from '../auth/principal.js';
import { accounts, memberships } from '../accounts/table.js';
import { findCoop } from '../coops/service.js';
import { findTenancy } from '../tenancies/service.js';
import { enqueueMail } from '../mail/outbox.js';
import { problems } from '../http/problem.js';
import { transition, type Transfer } from './service.js';

export function freezeDate(t: { noticeSentAt: Date | null; noticeDays: number }): Date | null {
  return t.noticeSentAt ? new Date(t.noticeSentAt.getTime() + t.noticeDays * 86_400_000) : null;
}

export async function startNotice(db: Db, actor: Principal, t: Transfer, publicUrl: string, now = new Date()): Promise<Transfer> {
  if (t.state !== 'approved') throw problems.conflict('transfer-state', `notice starts after approval; this transfer is ${t.state}`);
  const [tenancy, source, target] = await Promise.all([findTenancy(db, t.tenancyId), findCoop(db, t.sourceCoopId), findCoop(db, t.targetCoopId)]);
  const members = await db
    .select({ id: accounts.id, email: accounts.email, name: accounts.name, role: memberships.role })
    .from(memberships)
    .innerJoin(accounts, eq(accounts.id, memberships.accountId))
    .where(eq(memberships.tenancyId, t.tenancyId));
  const freeze = freezeDate({ noticeSentAt: now, noticeDays: t.noticeDays })!;
  const page = `${publicUrl}/me/transfers/${t.id}`;
  return db.transaction(async (tx) => {
    await enqueueMail(
      tx,
      members.map((m) => ({
        to: m.email,
        topic: `transfer:${t.id}`,
        subject: `${tenancy!.name} is moving to ${target!.name} on ${freeze.toISOString().slice(0, 10)}`,
        body: [
          `Hello ${m.name},`,
          '',
          `${source!.name} (${source!.jurisdiction}) hands the tenancy "${tenancy!.name}" over to ${target!.name} (${target!.jurisdiction}).`,
          `Its rooms, member accounts and recordings will move. On ${freeze.toUTCString()} the tenancy is frozen:`,
          'no new meetings can be started until the move is finished; meetings already running are given time to end.',
          '',
          `Until then you can consent or object on your member page: ${page}`,
          m.role === 'owner'
            ? 'As the owner, your objection stops the transfer.'
            : 'If you object, your personal data stays out of the move and you receive a machine-readable export of it instead.',
          '',
          'This message was sent by meetplane on behalf of both co-operatives.',
        ].join('\n'),
      })),
    );
    return transition(tx, actor, t, 'notice', 'transfer.notice', {
      set: { noticeSentAt: now },
      details: { members: members.length, freezeNotBefore: freeze.toISOString() },
    });
  });
}
