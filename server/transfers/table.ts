import { sql } from 'drizzle-orm';
import { pgTable, uuid, text, integer, timestamp, jsonb, primaryKey, uniqueIndex, index, bigint, check } from 'drizzle-orm/pg-core';
import { coops } from '../coops/table.js';
import { clusters } from '../clusters/table.js';
import { tenancies } from '../tenancies/table.js';
import { accounts } from '../accounts/table.js';
import type { TransferState } from './lifecycle.js';
import type { TransferEvidence } from './facts.js';
import type { CopyProgress } from './copy.js';
import type { GreenlightMove } from '../greenlight/table.js';

export interface StoredDecision {
  stage: 'check' | 'freeze';
  decision: 'allow' | 'deny';
  policyIds: string[];
  reasons: string[];
  policySetHash: string;
  registryVersion: string;
  at: string;
}

/**
 * Why a transfer stopped, and where its tenancy is served meanwhile: shown in
 * `status` with what an operator can do, until a retry or a resolution clears it.
 */
export interface TransferFailure {
  /** the step that failed: copy, switch, verify-files, verify-listing, verify-playback, complete, source-delete, ... */
  step: string;
  reason: string;
  at: string;
  /** the side that holds the complete data, where the tenancy is active now */
  servedBy: 'source' | 'target';
  /** the recording that stopped it, when one did */
  recordId?: string;
  /** what an operator can do: `retry`, `resolve --roll-forward`, `resolve --roll-back`, or a new transfer */
  actions: string[];
}

/** What the switch changed beyond the tenancy's own row, so it can be undone exactly. */
export interface SwitchRecord {
  /** accounts whose home co-op moved from the source to the target */
  accountsMoved: string[];
  /** memberships the switch ended (members who objected), to give back on a roll back */
  membershipsLeftOut: Array<{ accountId: string; role: 'owner' | 'admin' | 'member' }>;
  /** the source co-op's Greenlight the tenancy named (it cannot name it at the target), to give back on a roll back */
  greenlightId?: string | null;
}

/** What the copy has done so far (the copy engine's figures, plus recordings), for `status` and `watch`. */
export interface TransferProgress extends CopyProgress {
  recordingsDone: number;
  recordingsTotal: number;
  at: string;
}

export const transfers = pgTable(
  'transfers',
  {
    id: uuid('id').primaryKey(),
    tenancyId: uuid('tenancy_id').notNull().references(() => tenancies.id),
    sourceCoopId: uuid('source_coop_id').notNull().references(() => coops.id),
    sourceClusterId: uuid('source_cluster_id').notNull().references(() => clusters.id),
    // A co-op and cluster of this instance; both null when the target is on another instance (`peer`).
    targetCoopId: uuid('target_coop_id').references(() => coops.id),
    targetClusterId: uuid('target_cluster_id').references(() => clusters.id),
    /**
     * The target instance's entity id when the tenancy moves to another meetplane instance: the
     * protocol's state is the peer_transfers row of the same id (server/peer-transfers).
     */
    peer: text('peer'),
    state: text('state').$type<TransferState>().notNull().default('draft'),
    requestedBy: uuid('requested_by').notNull().references(() => accounts.id),
    evidence: jsonb('evidence').$type<TransferEvidence>().notNull(),
    noticeDays: integer('notice_days').notNull(),
    noticeSentAt: timestamp('notice_sent_at', { withTimezone: true, mode: 'date' }),
    // A planned freeze date and time (a weekend cut-over); the freeze still waits for every member's full notice period.
    freezeAt: timestamp('freeze_at', { withTimezone: true, mode: 'date' }),
    lastDecision: jsonb('last_decision').$type<StoredDecision>(),
    // When the transfer entered its state: the grace periods count from here.
    stateSince: timestamp('state_since', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    // The runner advancing it now; a killed runner's lease expires and another takes over.
    leaseOwner: text('lease_owner'),
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true, mode: 'date' }),
    progress: jsonb('progress').$type<TransferProgress>(),
    // Recordings past the tenancy's retention, chosen before they are deleted so a rerun deletes the same ones.
    retentionExpired: jsonb('retention_expired').$type<string[]>(),
    sourceDeletedAt: timestamp('source_deleted_at', { withTimezone: true, mode: 'date' }),
    // Set when a step failed (and the tenancy was unfrozen where its data is whole); cleared by retry or resolve.
    failure: jsonb('failure').$type<TransferFailure>(),
    switched: jsonb('switched').$type<SwitchRecord>(),
    // The Greenlight front ends the members' rooms move between (server/greenlight/transfer-move.ts): the
    // tenancy's at the source, the one the transfer names at the target; and what moves there. No foreign
    // keys: a transfer is history and outlives the front ends; deleting one a transfer in progress names is refused.
    sourceGreenlightId: uuid('source_greenlight_id'),
    targetGreenlightId: uuid('target_greenlight_id'),
    greenlight: jsonb('greenlight').$type<GreenlightMove>(),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    // One transfer of a tenancy at a time: a second one cannot even be created.
    uniqueIndex('transfers_one_active_per_tenancy')
      .on(t.tenancyId)
      .where(sql`state not in ('completed', 'rejected', 'cancelled', 'failed', 'rolled_back')`),
    index('transfers_target_coop').on(t.targetCoopId),
    index('transfers_source_coop').on(t.sourceCoopId),
    // Either a target here (co-op and cluster) or a target instance, never both, never neither.
    check('transfers_one_target', sql`(${t.peer} is null) = (${t.targetCoopId} is not null and ${t.targetClusterId} is not null)`),
  ],
);

/**
 * One approval per role, and one per person: the data-protection rules want
 * three different people, and the database holds to it even when one person's
 * approvals in two roles arrive at the same time.
 */
export const transferApprovals = pgTable(
  'transfer_approvals',
  {
    transferId: uuid('transfer_id').notNull().references(() => transfers.id),
    role: text('role', { enum: ['source_admin', 'target_admin', 'owner'] }).notNull(),
    accountId: uuid('account_id').notNull().references(() => accounts.id),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.transferId, t.role] }), uniqueIndex('transfer_approvals_one_per_person').on(t.transferId, t.accountId)],
);

/** An owner's objection stops the transfer; a member's keeps their personal data out of it. */
export const transferObjections = pgTable(
  'transfer_objections',
  {
    transferId: uuid('transfer_id').notNull().references(() => transfers.id),
    accountId: uuid('account_id').notNull().references(() => accounts.id),
    kind: text('kind', { enum: ['owner', 'member'] }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.transferId, t.accountId] })],
);

/**
 * The notice each member of the tenancy was sent when the notice started: its
 * period counts, for that member, from the first of the mail's acceptance by
 * the mail server (the outbox row), its first showing on the member's page,
 * and an admin's record of another way the member was told.
 */
export const transferNotices = pgTable(
  'transfer_notices',
  {
    transferId: uuid('transfer_id').notNull().references(() => transfers.id),
    accountId: uuid('account_id').notNull().references(() => accounts.id),
    /** the mail_outbox row carrying the notice mail (no foreign key: the outbox belongs to the mail module) */
    mailId: uuid('mail_id'),
    shownAt: timestamp('shown_at', { withTimezone: true, mode: 'date' }),
    toldAt: timestamp('told_at', { withTimezone: true, mode: 'date' }),
    toldHow: text('told_how'),
    /** the admin's note on how (may name people: never in the audit log, which holds its SHA-256) */
    toldNote: text('told_note'),
    toldBy: uuid('told_by'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.transferId, t.accountId] })],
);

/** Art. 28 processing agreements on record between a tenancy and a co-op. */
export const processingAgreements = pgTable(
  'processing_agreements',
  {
    id: uuid('id').primaryKey(),
    tenancyId: uuid('tenancy_id').notNull().references(() => tenancies.id),
    coopId: uuid('coop_id').notNull().references(() => coops.id),
    documentSha256: text('document_sha256').notNull(),
    signedOn: text('signed_on').notNull(),
    validUntil: text('valid_until'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('processing_agreements_tenancy').on(t.tenancyId, t.coopId)],
);


/** Where a cluster keeps its published recordings (file:// or sftp://), credentials sealed. */
export const clusterStorage = pgTable('cluster_storage', {
  clusterId: uuid('cluster_id')
    .primaryKey()
    .references(() => clusters.id, { onDelete: 'cascade' }),
  url: text('url').notNull(),
  credentialsSealed: text('credentials_sealed'),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/** Every file a transfer copied, with the SHA-256 of what the target holds: the copy resumes from here. */
export const transferFiles = pgTable(
  'transfer_files',
  {
    transferId: uuid('transfer_id').notNull().references(() => transfers.id),
    path: text('path').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    sha256: text('sha256').notNull(),
    doneAt: timestamp('done_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.transferId, t.path] })],
);

/**
 * The Art. 20 export of a member who objected: their personal data, kept out
 * of the transfer, in a machine-readable form only they can download. Sealed.
 */
export const memberExports = pgTable(
  'member_exports',
  {
    id: uuid('id').primaryKey(),
    transferId: uuid('transfer_id').notNull().references(() => transfers.id),
    accountId: uuid('account_id').notNull().references(() => accounts.id),
    contentSealed: text('content_sealed').notNull(),
    sha256: text('sha256').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('member_exports_one_per_transfer').on(t.transferId, t.accountId)],
);
