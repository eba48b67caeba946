// The ID token of another meetplane instance is believed only when it is signed by a key the
// federation vouches for: the `jwks` of the provider metadata the trust chain (or the pinned peer's
// signed configuration) resolved to. Over plain TLS anyone answering at the peer's token endpoint
// could hand back a token; the chain's signed metadata is what ties the keys to the peer.
import { compactVerify, createLocalJWKSet, errors } from 'jose';
import type { PeerTrust } from './federated-clients.js';

/** The token is not signed by a key the peer's resolved metadata names (even resolved afresh). */
export class PeerKeyRefused extends Error {}

type Jwks = Parameters<typeof createLocalJWKSet>[0];

function keysOf(metadata: Record<string, unknown>): Jwks | undefined {
  const jwks = (metadata.openid_provider as { jwks?: unknown } | undefined)?.jwks;
  if (jwks === undefined) return undefined;
  if (!jwks || typeof jwks !== 'object' || !Array.isArray((jwks as { keys?: unknown }).keys)) throw new PeerKeyRefused('the resolved provider metadata has a malformed jwks');
  return jwks as Jwks;
}

/**
 * Checks the signature of `idToken` against the peer's resolved keys. A key it does not know makes
 * it resolve the peer afresh once (its cached chain may predate a key rotation), then refuses.
 * Returns false when the metadata names no keys (the caller checks against its jwks_uri instead).
 * Throws PeerKeyRefused, or what `trust.metadata` throws when the peer is no longer trusted.
 */
export async function verifyPeerIdToken(trust: Required<PeerTrust>, entityId: string, idToken: string): Promise<boolean> {
  for (const fresh of [false, true]) {
    const keys = keysOf(await trust.metadata(entityId, { fresh }));
    if (!keys) return false;
    try {
      await compactVerify(idToken, createLocalJWKSet(keys));
      return true;
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey && !fresh) continue;
      if (err instanceof errors.JOSEError) throw new PeerKeyRefused(`ID token of ${entityId} not signed by a key of its resolved metadata: ${err.code}`);
      throw err;
    }
  }
  throw new PeerKeyRefused(`ID token of ${entityId} not checked`); // not reached: the fresh pass returns or throws
}
