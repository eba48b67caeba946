import { sql } from 'drizzle-orm';
import { index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/**
 * Each co-op's Ed25519 receipt-signing keys. The private JWK is sealed under the
 * master key (label bound to coop and kid). At most one key per co-op signs
 * (retired_at null); retired keys stay so old receipts keep verifying. No
 * foreign key to coops: a deleted co-op's public keys must outlive it.
 */
export const coopKeys = pgTable(
  'coop_keys',
  {
    kid: text('kid').primaryKey(),
    coopId: uuid('coop_id').notNull(),
    publicJwk: jsonb('public_jwk').$type<Record<string, string>>().notNull(),
    privateSealed: text('private_sealed').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    retiredAt: timestamp('retired_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    index('coop_keys_coop').on(t.coopId, t.createdAt),
    uniqueIndex('coop_keys_one_active').on(t.coopId).where(sql`${t.retiredAt} is null`),
  ],
);

/** The receipt of each completed transfer: a JWS (General JSON Serialization) signed by both co-ops. */
export const transferReceipts = pgTable('transfer_receipts', {
  // No foreign key: the transfers table belongs to the transfers module.
  transferId: uuid('transfer_id').primaryKey(),
  jws: jsonb('jws').$type<{ payload: string; signatures: Array<{ protected: string; signature: string }> }>().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});
