// The mail outbox: enqueue in the caller's transaction, deliver later over
// SMTP (nodemailer) with exponential backoff. Rows are claimed with
// FOR UPDATE SKIP LOCKED, so several processes never send one mail twice.
// A mail counts as delivered when the mail server accepted it (sent_at); one
// the server refused for good (a 5xx reply) is marked failed and not retried.
import { inArray, sql } from 'drizzle-orm';
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

/** Queues the mails; returns their outbox ids, in order (callers that track delivery keep them). */
export async function enqueueMail(tx: Executor, mails: Mail[]): Promise<string[]> {
  if (mails.length === 0) return [];
  const rows = mails.map((m) => ({ id: uuidv7(), toAddress: m.to, subject: m.subject, body: m.body, topic: m.topic }));
  await tx.insert(mailOutbox).values(rows);
  return rows.map((r) => r.id);
}

/** An SMTP reply in the 5xx range: the server will not take this mail, however often it is offered. */
export function isPermanentFailure(err: unknown): boolean {
  const code = (err as { responseCode?: unknown }).responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
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
        where sent_at is null and failed_at is null and next_attempt_at <= now() order by next_attempt_at limit ${batch} for update skip locked`),
    );
    for (const m of due) {
      try {
        await transport.sendMail({ from, to: m.to_address, subject: m.subject, text: m.body });
        await tx.execute(sql`update mail_outbox set sent_at = now(), attempts = attempts + 1, last_error = null where id = ${m.id}`);
        sent++;
      } catch (err) {
        const delay = Math.min(MAX_BACKOFF_S, 2 ** (m.attempts + 1));
        // Keep the reason, not the address (the log and the table are read by operators).
        const code = (err as { responseCode?: number }).responseCode;
        const reason = [code, (err as { code?: string }).code ?? (err as Error).message ?? 'error'].filter(Boolean).join(' ').slice(0, 200);
        if (isPermanentFailure(err)) {
          await tx.execute(sql`update mail_outbox set attempts = attempts + 1, last_error = ${reason}, failed_at = now() where id = ${m.id}`);
          log.warn({ mailId: m.id, attempts: m.attempts + 1, reason }, 'mail refused by the mail server; not retried');
        } else {
          await tx.execute(
            sql`update mail_outbox set attempts = attempts + 1, last_error = ${reason}, next_attempt_at = now() + make_interval(secs => ${delay}) where id = ${m.id}`,
          );
          log.warn({ mailId: m.id, attempts: m.attempts + 1, reason }, 'mail delivery failed; will retry');
        }
        failed++;
      }
    }
  });
  return { sent, failed };
}

/** Counts of a topic's mails: still to send (failing: tried at least once), sent, and refused for good. */
export async function outboxStatus(db: Executor, topic: string): Promise<{ queued: number; sent: number; failing: number; refused: number }> {
  const [row] = rowsOf<{ queued: number; sent: number; failing: number; refused: number }>(
    await db.execute(sql`select count(*) filter (where sent_at is null and failed_at is null)::int as queued,
      count(*) filter (where sent_at is not null)::int as sent,
      count(*) filter (where sent_at is null and failed_at is null and attempts > 0)::int as failing,
      count(*) filter (where failed_at is not null)::int as refused
      from mail_outbox where topic = ${topic}`),
  );
  return row ?? { queued: 0, sent: 0, failing: 0, refused: 0 };
}

/** What became of one mail: accepted by the mail server, refused for good, or still being tried. */
export interface MailDelivery {
  id: string;
  sentAt: Date | null;
  failedAt: Date | null;
  attempts: number;
  lastError: string | null;
}

export async function mailDeliveries(db: Executor, ids: string[]): Promise<Map<string, MailDelivery>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: mailOutbox.id, sentAt: mailOutbox.sentAt, failedAt: mailOutbox.failedAt, attempts: mailOutbox.attempts, lastError: mailOutbox.lastError })
    .from(mailOutbox)
    .where(inArray(mailOutbox.id, ids));
  return new Map(rows.map((r) => [r.id, r]));
}
