import { pgTable, uuid, text, timestamp, jsonb, primaryKey, index, boolean, integer } from 'drizzle-orm/pg-core';
import { coops } from '../coops/table.js';
import { tenancies } from '../tenancies/table.js';

/**
 * Every oidc-provider model (sessions, interactions, codes, refresh tokens,
 * device codes, grants, ...) in one table keyed by model name and id. The
 * lookup columns copy fields of the payload the adapter must search by.
 */
export const oidcModels = pgTable(
  'oidc_models',
  {
    model: text('model').notNull(),
    id: text('id').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    grantId: text('grant_id'),
    uid: text('uid'),
    userCode: text('user_code'),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    consumedAt: timestamp('consumed_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    primaryKey({ columns: [t.model, t.id] }),
    index('oidc_models_grant').on(t.grantId),
    index('oidc_models_uid').on(t.uid),
    index('oidc_models_user_code').on(t.userCode),
    index('oidc_models_expires').on(t.expiresAt),
  ],
);

/**
 * Signing keys (kind 'signing', one row per algorithm and generation) and
 * cookie keys (kind 'cookie'). Private material is sealed under the master key.
 * A retired key still verifies (is published) until `retiredAt` plus the
 * longest token lifetime; it never signs again.
 */
export const oidcKeys = pgTable('oidc_keys', {
  kid: text('kid').primaryKey(),
  kind: text('kind', { enum: ['signing', 'cookie'] }).notNull(),
  alg: text('alg'),
  privateSealed: text('private_sealed').notNull(),
  publicJwk: jsonb('public_jwk').$type<Record<string, unknown>>(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  retiredAt: timestamp('retired_at', { withTimezone: true, mode: 'date' }),
});

/** OIDC clients registered for a tenancy or a co-op (e.g. one per Greenlight). */
export const oidcClients = pgTable(
  'oidc_clients',
  {
    id: uuid('id').primaryKey(),
    clientId: text('client_id').notNull().unique(),
    name: text('name').notNull(),
    coopId: uuid('coop_id').notNull().references(() => coops.id),
    tenancyId: uuid('tenancy_id').references(() => tenancies.id),
    kind: text('kind', { enum: ['web', 'public', 'machine'] }).notNull(),
    redirectUris: jsonb('redirect_uris').$type<string[]>().notNull(),
    postLogoutRedirectUris: jsonb('post_logout_redirect_uris').$type<string[]>().notNull(),
    scope: text('scope').notNull(),
    // Where meetplane POSTs logout tokens (OpenID Connect Back-Channel Logout 1.0); null: not told.
    backchannelLogoutUri: text('backchannel_logout_uri'),
    backchannelLogoutSessionRequired: boolean('backchannel_logout_session_required').notNull().default(false),
    // The only algorithm this client's ID tokens (and logout tokens) are signed with.
    idTokenSignedResponseAlg: text('id_token_signed_response_alg', { enum: ['ES256', 'RS256'] }).notNull().default('ES256'),
    // Null for public clients; sealed, bound to the client id.
    secretSealed: text('secret_sealed'),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('oidc_clients_coop').on(t.coopId)],
);

/** A co-op's own OIDC provider its members may log in with (brokering). */
export const upstreamProviders = pgTable('upstream_providers', {
  id: uuid('id').primaryKey(),
  coopId: uuid('coop_id').notNull().references(() => coops.id).unique(),
  displayName: text('display_name').notNull(),
  issuer: text('issuer').notNull(),
  clientId: text('client_id').notNull(),
  secretSealed: text('secret_sealed').notNull(),
  // How meetplane authenticates at the upstream's token endpoint; null: chosen from its discovery.
  authMethod: text('auth_method', { enum: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] }),
  // meetplane's own key for private_key_jwt with this upstream (sealed private JWK; the public one is published).
  clientKeySealed: text('client_key_sealed'),
  clientPublicJwk: jsonb('client_public_jwk').$type<Record<string, unknown>>(),
  // Another meetplane instance's entity id: its provider and our client registration come from the
  // federation (trust checked at every log-in), and meetplane authenticates with its published key.
  federationEntity: text('federation_entity'),
  enabled: boolean('enabled').notNull().default(true),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});
