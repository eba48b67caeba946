// Sign-on across meetplane instances, both halves in the provider's terms.
// - As the provider (instance A): a relying party of another instance needs no
//   registration by a person. Its client_id is its entity id; when the
//   federation trusts it (a pinned peer, or a chain to a trust anchor), its
//   `openid_relying_party` metadata is its registration: redirect URIs and the
//   public keys it authenticates with (private_key_jwt only: there is no secret).
//   An entity the federation does not trust is an unknown client.
// - As the relying party (instance B): the entity configuration publishes that
//   metadata for every upstream that is another instance (upstream.ts).
// The federation layer (server/federation) resolves trust; this module sees it
// only through PeerTrust, so sign-on does not depend on the federation layer.
import { isNotNull } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/index.js';
import { upstreamProviders } from './table.js';
import { CLIENT_KEY_ALG } from './upstream-auth.js';

/**
 * The metadata the federation resolved for an entity it trusts; throws when it trusts none such.
 * `fresh`: resolve anew rather than from a cached chain (the peer may have rotated its keys).
 */
export type PeerMetadata = (entityId: string, opts?: { fresh?: boolean }) => Promise<Record<string, unknown>>;

/** Set once the federation layer is up (server/app.ts); until then no peer is trusted. */
export interface PeerTrust {
  metadata?: PeerMetadata;
}

const EntityId = z.url().refine((u) => /^https?:\/\//.test(u));
const RelyingParty = z.object({
  redirect_uris: z.array(z.url()).min(1).max(20),
  jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1).max(20) }),
  client_name: z.string().max(200).optional(),
});

// Anyone can send an authorization request naming any URL as client_id, and resolving it through an
// anchor fetches that URL (through the outbound policy): a refusal is remembered for a while so
// repeated requests do not become repeated fetches. A peer trusted since is known within REFUSAL_MS.
const REFUSAL_MS = 30_000;
const refused = new Map<string, number>();

/** The client registration of a trusted instance's relying party, or undefined. */
export async function peerClient(trust: PeerTrust, clientId: string): Promise<Record<string, unknown> | undefined> {
  if (!trust.metadata || !EntityId.safeParse(clientId).success) return undefined;
  if ((refused.get(clientId) ?? 0) > Date.now()) return undefined;
  let metadata: Record<string, unknown>;
  try {
    metadata = await trust.metadata(clientId);
  } catch {
    if (refused.size >= 1000) refused.clear(); // bounded: a flood of names cannot grow it
    refused.set(clientId, Date.now() + REFUSAL_MS);
    return undefined; // not trusted (or unreachable): an unknown client
  }
  const rp = RelyingParty.safeParse(metadata.openid_relying_party);
  if (!rp.success) return undefined;
  return {
    client_id: clientId,
    client_name: rp.data.client_name ?? new URL(clientId).host,
    application_type: 'web',
    redirect_uris: rp.data.redirect_uris,
    jwks: rp.data.jwks,
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: CLIENT_KEY_ALG,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    scope: 'openid email profile',
  };
}

/**
 * This instance's `openid_relying_party` metadata: where other instances send
 * members back, and the keys it authenticates with, one per upstream that is
 * another instance; undefined while there is none.
 */
export async function relyingPartyMetadata(db: Db, where: { publicUrl: string; callbackUrl: string }): Promise<Record<string, unknown> | undefined> {
  const rows = await db
    .select({ jwk: upstreamProviders.clientPublicJwk })
    .from(upstreamProviders)
    .where(isNotNull(upstreamProviders.federationEntity));
  const keys = rows.flatMap((r) => (r.jwk ? [r.jwk] : []));
  if (!keys.length) return undefined;
  return {
    client_registration_types: ['automatic'],
    client_name: new URL(where.publicUrl).host,
    redirect_uris: [where.callbackUrl],
    jwks: { keys },
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: CLIENT_KEY_ALG,
    grant_types: ['authorization_code'],
    response_types: ['code'],
  };
}
