import { pgTable, bigint, text, timestamp, customType, uuid, index } from 'drizzle-orm/pg-core';

export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  // postgres.js hands back Buffer, PGlite Uint8Array: normalise to Uint8Array.
  fromDriver: (v) => new Uint8Array(v),
});

/**
 * Append-only, totally ordered record of every state change. `entry` holds the
 * RFC 8785 canonical JSON bytes exactly as hashed; the other columns are
 * copies for filtering and are never trusted by a verifier.
 */
export const auditEntries = pgTable(
  'audit_entries',
  {
    idx: bigint('idx', { mode: 'number' }).primaryKey(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    actorId: uuid('actor_id'),
    action: text('action').notNull(),
    subjectType: text('subject_type').notNull(),
    subjectId: text('subject_id').notNull(),
    entry: bytea('entry').notNull(),
    leafHash: bytea('leaf_hash').notNull(),
  },
  (t) => [
    index('audit_entries_subject').on(t.subjectType, t.subjectId),
    index('audit_entries_actor').on(t.actorId),
    index('audit_entries_action').on(t.action),
    index('audit_entries_time').on(t.createdAt),
  ],
);
