import { pgTable, uuid, text, integer, timestamp, index } from 'drizzle-orm/pg-core';

/**
 * Mail to send. Written in the same transaction as the change that calls for
 * it, so nothing is lost when the mail server is down; delivered and retried
 * by the outbox sender.
 */
export const mailOutbox = pgTable(
  'mail_outbox',
  {
    id: uuid('id').primaryKey(),
    toAddress: text('to_address').notNull(),
    subject: text('subject').notNull(),
    body: text('body').notNull(),
    /** What the mail is about, e.g. "transfer:<id>", for status pages. */
    topic: text('topic').notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /** when the mail server accepted the mail (SMTP 250 after DATA) */
    sentAt: timestamp('sent_at', { withTimezone: true, mode: 'date' }),
    /** when the mail server refused it for good (SMTP 5xx): no more attempts */
    failedAt: timestamp('failed_at', { withTimezone: true, mode: 'date' }),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('mail_outbox_due').on(t.sentAt, t.nextAttemptAt), index('mail_outbox_topic').on(t.topic)],
);
