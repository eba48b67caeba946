import { pgTable, bigint, text, timestamp, customType, index, smallint, primaryKey, uuid } from 'drizzle-orm/pg-core';

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
    /** The actor's pseudonymous reference (see subjects.ts), or null for the local operator. */
    actorRef: text('actor_ref'),
    action: text('action').notNull(),
    subjectType: text('subject_type').notNull(),
    subjectId: text('subject_id').notNull(),
    entry: bytea('entry').notNull(),
    leafHash: bytea('leaf_hash').notNull(),
  },
  (t) => [
    index('audit_entries_subject').on(t.subjectType, t.subjectId),
    index('audit_entries_actor').on(t.actorRef),
    index('audit_entries_action').on(t.action),
    index('audit_entries_time').on(t.createdAt),
    index('audit_entries_leaf').on(t.leafHash),
  ],
);

/** Hashes of complete subtrees at levels >= 1 (level 0 is audit_entries.leaf_hash). */
export const auditNodes = pgTable(
  'audit_nodes',
  {
    level: smallint('level').notNull(),
    idx: bigint('idx', { mode: 'number' }).notNull(),
    hash: bytea('hash').notNull(),
  },
  (t) => [primaryKey({ columns: [t.level, t.idx] })],
);

/** Every signed checkpoint ever issued (C2SP signed note), kept forever. */
export const auditCheckpoints = pgTable('audit_checkpoints', {
  size: bigint('size', { mode: 'number' }).primaryKey(),
  rootHash: bytea('root_hash').notNull(),
  note: text('note').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/** The instance's checkpoint signing key (Ed25519), private half sealed. */
export const auditKeys = pgTable('audit_keys', {
  name: text('name').primaryKey(),
  privateSealed: text('private_sealed').notNull(),
  publicKey: bytea('public_key').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/**
 * Per-person keys for the pseudonymous references entries carry instead of
 * account ids. Deleting a person's key makes every entry about them
 * unlinkable, while the entries (and the log's hashes) stay intact.
 */
export const auditSubjectKeys = pgTable('audit_subject_keys', {
  accountId: uuid('account_id').primaryKey(),
  key: bytea('key').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});
