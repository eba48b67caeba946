// The mail outbox: enqueue in the caller's transaction, deliver later over
// SMTP (nodemailer) with exponential backoff. Rows are claimed with
// FOR UPDATE SKIP LOCKED, so several processes never send one mail twice.
import { sql } from 'drizzle-orm';
import { createTransport, type Transporter } from 'nodemailer';
import { rowsOf, type Db, type Executor } from '../db/index.js';
import { uuidv7 } from '../ids.js';
import type { Logger } from '../logger.js';
import { mailOutbox } from './table.js';

export interface Mail {
  to: string;
  subject: string;
  body: string;
  topic: string;
}

export async function enqueueMail(tx: Executor, mails: Mail[]): Promise<void> {
  if (mails.length === 0) return;
  await tx.insert(mailOutbox).values(mails.map((m) => ({ id: uuidv7(), toAddress: m.to, subject: m.subject, body: m.body, topic: m.topic })));
}

export function smtpTransport(smtpUrl: string): Transporter {
  return createTransport(smtpUrl);
}

const MAX_BACKOFF_S = 3600;

/**
 * Sends up to `batch` due mails. Returns how many were sent and how many failed
 * (to be retried after 2^attempts seconds, at most an hour apart).
 */
export async function deliverDue(db: Db, transport: Transporter, from: string, log: Logger, batch = 20): Promise<{ sent: number; failed: number }> {
  let sent = 0;
  let failed = 0;
  await db.transaction(async (tx) => {
    const due = rowsOf<{ id: string; to_address: string; subject: string; body: string; attempts: number }>(
      await tx.execute(sql`select id, to_address, subject, body, attempts from mail_outbox
        where sent_at is null and next_attempt_at <= now() order by next_attempt_at limit ${batch} for update skip locked`),
    );
    for (const m of due) {
      try {
        await transport.sendMail({ from, to: m.to_address, subject: m.subject, text: m.body });
        await tx.execute(sql`update mail_outbox set sent_at = now(), attempts = attempts + 1, last_error = null where id = ${m.id}`);
        sent++;
      } catch (err) {
        const delay = Math.min(MAX_BACKOFF_S, 2 ** (m.attempts + 1));
        // Keep the reason, not the address (the log and the table are read by operators).
        const reason = ((err as { code?: string }).code ?? (err as Error).message ?? 'error').slice(0, 200);
        await tx.execute(
          sql`update mail_outbox set attempts = attempts + 1, last_error = ${reason}, next_attempt_at = now() + make_interval(secs => ${delay}) where id = ${m.id}`,
        );
        log.warn({ mailId: m.id, attempts: m.attempts + 1, reason }, 'mail delivery failed; will retry');
        failed++;
      }
    }
  });
  return { sent, failed };
}

export async function outboxStatus(db: Executor, topic: string): Promise<{ queued: number; sent: number; failing: number }> {
  const [row] = rowsOf<{ queued: number; sent: number; failing: number }>(
    await db.execute(sql`select count(*) filter (where sent_at is null)::int as queued,
      count(*) filter (where sent_at is not null)::int as sent,
      count(*) filter (where sent_at is null and attempts > 0)::int as failing
      from mail_outbox where topic = ${topic}`),
  );
  return row ?? { queued: 0, sent: 0, failing: 0 };
}
