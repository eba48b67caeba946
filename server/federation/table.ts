import { pgTable, text, timestamp, jsonb, uuid } from 'drizzle-orm/pg-core';
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
  addedBy: uuid('added_by'),
  addedAt: timestamp('added_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});
