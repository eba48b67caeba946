// Transfers between meetplane instances (peers): the protocol's state on each side. The source
// instance keeps the tenancy and the offer it sent; the target instance keeps the offer it received
// and its answer. Both sides share the transfer's id (the offer's `transfer_id`), so each message
// names the same row on both.
import { sql } from 'drizzle-orm';
import { pgTable, uuid, text, integer, timestamp, jsonb, index, primaryKey, bigint, uniqueIndex } from 'drizzle-orm/pg-core';
import { coops } from '../coops/table.js';
import { tenancies } from '../tenancies/table.js';
import { accounts } from '../accounts/table.js';
import type { TransferEvidence } from '../transfers/facts.js';
import type { StoredDecision } from '../transfers/table.js';
import type { CopyProgress } from '../transfers/copy.js';
import type { OfferSummary } from '../../federation/transfer-messages.js';
import type { CosignedCheckpoint, PeerReceiptJws } from '../../federation/peer-receipt.js';

export type PeerTransferSide = 'source' | 'target';

/**
 * source side: rejected (the rules refused before anything was sent), offering (not yet delivered),
 * offered, accepted, refused (by the target), cancelled, packaged (the manifest of the frozen tenancy
 * is served), verified (the target confirmed every file and created the tenancy), switched (the source
 * switched its front ends over; the target is told). target side: offered, accepted, refused, pulling
 * (the manifest arrived), pulled (every file is here and matches, the tenancy is created, frozen),
 * failed (a file or the tenancy's content did not match), completed (the source switched: the tenancy is active here).
 */
export type PeerTransferState =
  | 'rejected'
  | 'offering'
  | 'offered'
  | 'accepted'
  | 'refused'
  | 'cancelled'
  | 'packaged'
  | 'verified'
  | 'switched'
  | 'pulling'
  | 'pulled'
  | 'failed'
  | 'completed';

/** The sealing label of a transfer's tenancy content (it holds the tenancy's BBB secret). */
export const tenancyContentLabel = (transferId: string) => `peer-transfer-tenancy-content:${transferId}`;

/** The target's answer as the source holds it (and the target sent it). */
export interface PeerAnswer {
  decision: 'accepted' | 'refused';
  /** the target cluster (its name at the target) the tenancy will be hosted on */
  cluster?: string;
  /** rule ids and reasons of a refusal */
  policyIds: string[];
  reasons: string[];
  /** who answered at the target: an opaque reference (target entity id # account id) */
  approver: string;
  at: string;
}

/**
 * What the target states about itself, as the rules decided on it: its co-op (from the federation
 * metadata when offered) and the cluster's country (the offered one, then the one it accepted on).
 */
export interface StatedTarget {
  coopName: string;
  jurisdiction: string;
  legalRegime: string;
  dpfListed: boolean;
  pipedaSubject: boolean;
  clusterCountry: string;
  /** the co-op's contact address, for the members' notice (older peers state none) */
  contactEmail: string | null;
}

export const peerTransfers = pgTable(
  'peer_transfers',
  {
    id: uuid('id').primaryKey(),
    side: text('side').$type<PeerTransferSide>().notNull(),
    /** the other instance's entity id */
    peer: text('peer').notNull(),
    state: text('state').$type<PeerTransferState>().notNull(),
    // Source side: the tenancy that moves, from where, who asked and on what evidence.
    tenancyId: uuid('tenancy_id').references(() => tenancies.id),
    sourceCoopId: uuid('source_coop_id').references(() => coops.id),
    sourceClusterId: uuid('source_cluster_id'),
    requestedBy: uuid('requested_by').references(() => accounts.id),
    evidence: jsonb('evidence').$type<TransferEvidence>(),
    decision: jsonb('decision').$type<StoredDecision>(),
    // Target side: the co-op it is offered to, and who answered.
    targetCoopId: uuid('target_coop_id').references(() => coops.id),
    answeredBy: uuid('answered_by').references(() => accounts.id),
    // Both sides: the target co-op and cluster as the target names them, what the offer says, the signed messages.
    targetCoop: text('target_coop').notNull(),
    targetCluster: text('target_cluster').notNull(),
    summary: jsonb('summary').$type<OfferSummary>(),
    /** Source side: the target's stated facts the data-protection rules decide on (at the freeze too). */
    statedTarget: jsonb('stated_target').$type<StatedTarget>(),
    offerJwt: text('offer_jwt'),
    offerSha256: text('offer_sha256'),
    answer: jsonb('answer').$type<PeerAnswer>(),
    answerJwt: text('answer_jwt'),
    // The package (after the freeze): every file with its size and SHA-256, as the exact JSON text the
    // source serves; the signed manifest message names its SHA-256.
    manifest: text('manifest'),
    manifestSha256: text('manifest_sha256'),
    /**
     * Source side: the tenancy's content (tenancy, rooms, recordings, members, its BBB secret) as the
     * exact JSON text served to the target, sealed; the manifest names its SHA-256.
     */
    tenancyContentSealed: text('tenancy_content_sealed'),
    /** Source side: the target's gateway URL of the tenancy, as its verification states it (calls are forwarded there). */
    targetGatewayUrl: text('target_gateway_url'),
    /** At the target while it pulls: files and bytes done of the manifest's, the rate, the time left. */
    progress: jsonb('progress').$type<CopyProgress & { at: string }>(),
    /**
     * After the switch, what the receipt is made of as it comes together (receipt.ts): this instance's
     * checkpoint cosigned by the other (own), the other's cosigned by this one (peer), and at the
     * target what the source stated for the summary (its approvals and policy-set hash).
     */
    receiptParts: jsonb('receipt_parts').$type<ReceiptParts>(),
    /** The receipt, signed by both instances (federation/peer-receipt.ts); kept on both sides, never changed. */
    receipt: jsonb('receipt').$type<PeerReceiptJws>(),
    /** The latest message this side owes the other beyond offer and answer (manifest, verified), retried like them. */
    outgoingJwt: text('outgoing_jwt'),
    // Delivery of the message this side owes the other (the offer, or the answer): retried with backoff.
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }),
    lastError: text('last_error'),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('peer_transfers_tenancy').on(t.tenancyId),
    index('peer_transfers_target_coop').on(t.targetCoopId),
    index('peer_transfers_due').on(t.nextAttemptAt),
    // One transfer of a tenancy to another instance at a time: a second offer cannot even be recorded.
    uniqueIndex('peer_transfers_one_active_per_tenancy')
      .on(t.tenancyId)
      .where(sql`side = 'source' and state in ('offering', 'offered', 'accepted', 'packaged', 'verified', 'switched')`),
  ],
);

/** The parts of a receipt each side gathers before it is signed. */
export interface ReceiptParts {
  own?: CosignedCheckpoint;
  peer?: CosignedCheckpoint;
  approvals?: Array<{ role: string; ref: string }>;
  policySetHash?: string;
  /** At the target: the receipt as it signed it (its signature alone), which the source's must match. */
  signed?: PeerReceiptJws;
}

/** The states in which a source's transfer still holds its tenancy (the index above). */
export const ACTIVE_AT_SOURCE = ['offering', 'offered', 'accepted', 'packaged', 'verified', 'switched'] as const;

/** Every file the target pulled, with the SHA-256 of what its storage holds: the pull resumes from here. */
export const peerTransferFiles = pgTable(
  'peer_transfer_files',
  {
    transferId: uuid('transfer_id')
      .notNull()
      .references(() => peerTransfers.id),
    path: text('path').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    sha256: text('sha256').notNull(),
    doneAt: timestamp('done_at', { withTimezone: true, mode: 'date' }).notNull(),
    /**
     * Set once the file was rewritten here (a metadata.xml, its playback links for this instance): the
     * SHA-256 the source signed, checked before the rewrite; size and sha256 are the rewritten file's.
     */
    sourceSha256: text('source_sha256'),
  },
  (t) => [primaryKey({ columns: [t.transferId, t.path] })],
);

/** Message ids (jti) seen from each peer, until the message expires: a replayed message is refused. */
export const peerMessageIds = pgTable(
  'peer_message_ids',
  {
    issuer: text('issuer').notNull(),
    jti: text('jti').notNull(),
    /** SHA-256 of the message: the same message delivered twice (a retry) is not a replay */
    sha256: text('sha256').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.issuer, t.jti] })],
);
