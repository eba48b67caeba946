import { sql } from 'drizzle-orm';
import { bigint, boolean, pgTable, primaryKey, text, timestamp, jsonb, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { JWK } from 'jose';

/**
 * The instance's federation keys (OpenID Federation entity statements), apart from the sign-on
 * keys. Private material sealed under the master key; a retired key is still published until
 * every statement it signed has expired, and never signs again.
 */
export const federationKeys = pgTable('federation_keys', {
  kid: text('kid').primaryKey(),
  alg: text('alg').notNull(),
  privateSealed: text('private_sealed').notNull(),
  publicJwk: jsonb('public_jwk').$type<JWK>().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  retiredAt: timestamp('retired_at', { withTimezone: true, mode: 'date' }),
});

/**
 * Entities this instance vouches for as trust anchor or intermediate: the key it verified at
 * enrolment (by its thumbprint), and the policy and constraints its subordinate statement carries.
 */
export const federationSubordinates = pgTable('federation_subordinates', {
  entityId: text('entity_id').primaryKey(),
  jwks: jsonb('jwks').$type<{ keys: JWK[] }>().notNull(),
  metadataPolicy: jsonb('metadata_policy').$type<Record<string, Record<string, Record<string, unknown>>>>(),
  constraints: jsonb('constraints').$type<Record<string, unknown>>(),
  enrolledBy: uuid('enrolled_by'),
  enrolledAt: timestamp('enrolled_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/** Trust anchors this instance resolves chains to, with the key set it was configured with. */
export const federationAnchors = pgTable('federation_anchors', {
  entityId: text('entity_id').primaryKey(),
  jwks: jsonb('jwks').$type<{ keys: JWK[] }>().notNull(),
  addedBy: uuid('added_by'),
  addedAt: timestamp('added_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/** Pinned peers: instances trusted without an anchor, by the thumbprint of their federation key. */
export const federationPeers = pgTable('federation_peers', {
  entityId: text('entity_id').primaryKey(),
  thumbprint: text('thumbprint').notNull(),
  /** Witness each other's audit logs from the peer's metadata (`peers add --no-witness`: false). */
  witness: boolean('witness').notNull().default(true),
  addedBy: uuid('added_by'),
  addedAt: timestamp('added_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/**
 * The instance's witness key (C2SP tlog-witness): an Ed25519 key whose cosignature/v1 lines say
 * "this checkpoint is consistent with everything of that log I cosigned before". Sealed under
 * the master key; the vkey (type 0x04) is what auditors list in their witness policy.
 */
export const witnessKeys = pgTable('witness_keys', {
  vkey: text('vkey').primaryKey(),
  name: text('name').notNull(),
  privateSealed: text('private_sealed').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/**
 * Logs this instance witnesses, by origin, with the verifier key their checkpoints must carry
 * and the latest checkpoint it cosigned (size 0 and no note until the first).
 */
export const witnessedLogs = pgTable('witnessed_logs', {
  origin: text('origin').primaryKey(),
  vkey: text('vkey').notNull(),
  size: bigint('size', { mode: 'number' }).notNull().default(0),
  rootHash: text('root_hash'),
  checkpoint: text('checkpoint'),
  /** The pinned peer whose verified metadata named this log; null: added by a platform admin by hand. */
  viaEntity: text('via_entity'),
  /**
   * No longer witnessed (its peer unpinned). The row stays, with what was cosigned, so the log
   * witnessed again later cannot be rolled back past it; add-checkpoint answers 404 meanwhile.
   */
  retiredAt: timestamp('retired_at', { withTimezone: true, mode: 'date' }),
  addedBy: uuid('added_by'),
  addedAt: timestamp('added_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }),
});

/**
 * Evidence of a log's misbehaviour seen by the witness: two validly signed checkpoints of one
 * origin that cannot both be views of one append-only log (a fork, a rollback, or a consistency
 * proof that does not verify). Both notes are kept as they were received.
 */
export const witnessIncidents = pgTable('witness_incidents', {
  id: uuid('id').primaryKey().defaultRandom(),
  origin: text('origin').notNull(),
  kind: text('kind').$type<'fork' | 'rollback' | 'bad-proof'>().notNull(),
  recordedCheckpoint: text('recorded_checkpoint').notNull(),
  presentedCheckpoint: text('presented_checkpoint').notNull(),
  oldSize: bigint('old_size', { mode: 'number' }).notNull(),
  proof: jsonb('proof').$type<string[]>().notNull(),
  detectedAt: timestamp('detected_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/** Witnesses this instance asks to cosign its own audit checkpoints (their add-checkpoint URL and vkey). */
export const cosigningWitnesses = pgTable('cosigning_witnesses', {
  url: text('url').primaryKey(),
  vkey: text('vkey').notNull(),
  /** The size the witness last cosigned, as it told us: the next request's `old`. */
  size: bigint('size', { mode: 'number' }).notNull().default(0),
  /** The pinned peer whose verified metadata named this witness; null: added by a platform admin by hand. */
  viaEntity: text('via_entity'),
  addedBy: uuid('added_by'),
  addedAt: timestamp('added_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/** Cosignature lines witnesses returned for this instance's checkpoints, served with the checkpoint. */
export const checkpointCosignatures = pgTable(
  'checkpoint_cosignatures',
  {
    size: bigint('size', { mode: 'number' }).notNull(),
    witness: text('witness').notNull(),
    line: text('line').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.size, t.witness] })],
);

/**
 * Trust marks this instance issues as trust anchor (OpenID Federation §7): a platform admin grants
 * a type to an enrolled entity, which fetches the signed mark from the trust mark endpoint. A
 * revoked grant is kept, so the status endpoint can answer "revoked" for the marks it backed; at
 * most one grant per type and entity is in force.
 */
export const federationTrustMarks = pgTable(
  'federation_trust_marks',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    trustMarkType: text('trust_mark_type').notNull(),
    subject: text('subject').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    grantedBy: uuid('granted_by'),
    grantedAt: timestamp('granted_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    revokedBy: uuid('revoked_by'),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [uniqueIndex('federation_trust_marks_in_force').on(t.trustMarkType, t.subject).where(sql`${t.revokedAt} is null`)],
);

/** Trust marks issued to this instance, fetched from each issuer's trust mark endpoint and published in its entity configuration. */
export const federationHeldTrustMarks = pgTable(
  'federation_held_trust_marks',
  {
    trustMarkType: text('trust_mark_type').notNull(),
    issuer: text('issuer').notNull(),
    jwt: text('jwt').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    fetchedAt: timestamp('fetched_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.trustMarkType, t.issuer] })],
);
