import { sql } from 'drizzle-orm';
import { pgTable, bigint, text, timestamp, customType, index, smallint, primaryKey, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

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

/**
 * Entries written by changes but not yet in the log: everything but the index
 * and time, which the sequencer (sequencer.ts) gives them when it moves them
 * into audit_entries, deleting them here in the same transaction. `body` is
 * the canonical JSON of the entry without those two fields.
 */
export const auditPending = pgTable('audit_pending', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  actorRef: text('actor_ref'),
  action: text('action').notNull(),
  subjectType: text('subject_type').notNull(),
  subjectId: text('subject_id').notNull(),
  body: text('body').notNull(),
});

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

/**
 * Before the log's identity was stored: one key per origin derived from
 * PUBLIC_URL. Read once, to adopt the key that signed the newest checkpoint
 * (log-identity.ts); never written any more.
 */
export const auditKeys = pgTable('audit_keys', {
  name: text('name').primaryKey(),
  privateSealed: text('private_sealed').notNull(),
  publicKey: bytea('public_key').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/**
 * The log's identity: its origin (the checkpoint's first line) and Ed25519
 * signing key, fixed when the log is created and changed only by an announced
 * rotation (`meetplane audit rotate-key`). Exactly one key signs (retired_at
 * null); retired keys stay, so the log's history can be told. The private key
 * is sealed under the master key, its label bound to the vkey.
 */
export const auditLogKeys = pgTable(
  'audit_log_keys',
  {
    /** C2SP vkey: origin+keyid+base64(0x01 || public key). */
    vkey: text('vkey').primaryKey(),
    origin: text('origin').notNull(),
    privateSealed: text('private_sealed').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    retiredAt: timestamp('retired_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [uniqueIndex('audit_log_keys_one_active').on(sql`(${t.retiredAt} is null)`).where(sql`${t.retiredAt} is null`)],
);

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
