// Trust chain resolution against real HTTP on loopback: a trust anchor, an intermediate and two
// leaves each serve their entity configuration (and the superiors their fetch endpoint), signed
// with their own keys; the resolver fetches through the server's outbound policy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calculateJwkThumbprint } from 'jose';
import { Outbound } from '../../server/net/outbound.js';
import { publicJwks } from '../../federation/entity-statement.js';
import { TrustChainResolver, verifyPinnedPeer, type TrustAnchor } from '../../federation/trust-chain.js';
import { LoopbackEntity as Entity, newKey } from '../support/federation-entity.js';

const outbound = new Outbound({ allow: ['127.0.0.0/8'] });
let anchor: Entity, intermediate: Entity, coopA: Entity, coopB: Entity;
let trustAnchor: TrustAnchor;

beforeAll(async () => {
  [anchor, intermediate, coopA, coopB] = await Promise.all([new Entity().start('ta'), new Entity().start('ia'), new Entity().start('a'), new Entity().start('b')]);
  trustAnchor = { entityId: anchor.id, jwks: publicJwks([anchor.key]) };
  coopA.hints = [anchor.id];
  coopA.metadata = { openid_provider: { issuer: `${coopA.id}/oidc`, id_token_signing_alg_values_supported: ['ES256', 'RS256', 'none'] }, meetplane: { jurisdictions: ['GB'] } };
  anchor.enrol(coopA, { metadata_policy: { openid_provider: { id_token_signing_alg_values_supported: { subset_of: ['ES256', 'EdDSA', 'RS256'] } } } }, 600);
  coopB.hints = [intermediate.id];
  coopB.metadata = { meetplane: { jurisdictions: ['CA'] } };
  intermediate.hints = [anchor.id];
  anchor.enrol(intermediate, { metadata_policy: { meetplane: { jurisdictions: { superset_of: ['CA'] } } } });
  intermediate.enrol(coopB, { metadata_policy: { meetplane: { legal_regime: { default: 'Québec co-operatives act' } } } });
});
afterAll(() => Promise.all([anchor, intermediate, coopA, coopB].map((e) => e.close())));

describe('trust chain resolution', () => {
  it('resolves a direct subordinate and applies the anchor policy', async () => {
    const chain = await new TrustChainResolver(outbound).resolve(coopA.id, trustAnchor);
    expect(chain.statements.map((s) => [s.iss, s.sub])).toEqual([
      [coopA.id, coopA.id],
      [anchor.id, coopA.id],
      [anchor.id, anchor.id],
    ]);
    expect(chain.metadata.openid_provider!.id_token_signing_alg_values_supported).toEqual(['ES256', 'RS256']);
    // The anchor vouches for coop A for 10 minutes, everything else lasts an hour: the chain ends with the shortest.
    expect(chain.expiresAt).toBe(chain.statements[1]!.exp);
    expect(chain.expiresAt).toBeLessThan(chain.statements[0]!.exp);
  });

  it('resolves through an intermediate, merging both policies', async () => {
    const chain = await new TrustChainResolver(outbound).resolve(coopB.id, trustAnchor);
    expect(chain.statements.map((s) => s.iss)).toEqual([coopB.id, intermediate.id, anchor.id, anchor.id]);
    expect(chain.metadata.meetplane).toEqual({ jurisdictions: ['CA'], legal_regime: 'Québec co-operatives act' });
  });

  it('refuses a metadata policy the subject does not meet', async () => {
    const before = coopB.metadata;
    coopB.metadata = { meetplane: { jurisdictions: ['GB'] } };
    try {
      await expect(new TrustChainResolver(outbound).resolve(coopB.id, trustAnchor)).rejects.toMatchObject({ code: 'invalid_metadata' });
    } finally {
      coopB.metadata = before;
    }
  });

  it('refuses a configuration signed by a key the superior never vouched for', async () => {
    // The configuration publishes, and is signed by, a key of the same kid that the anchor never saw:
    // it verifies against itself, but not against the anchor's statement about coop A.
    const real = coopA.key;
    coopA.key = await newKey('a-1');
    try {
      await expect(new TrustChainResolver(outbound).resolve(coopA.id, trustAnchor)).rejects.toThrow(/signature or claims invalid|does not hold/);
    } finally {
      coopA.key = real;
    }
    await expect(new TrustChainResolver(outbound).resolve(coopA.id, trustAnchor)).resolves.toBeTruthy();
  });

  it('refuses an expired subordinate statement', async () => {
    anchor.enrol(coopA, {}, -10);
    try {
      await expect(new TrustChainResolver(outbound).resolve(coopA.id, trustAnchor)).rejects.toThrow(/has expired/);
    } finally {
      anchor.enrol(coopA, { metadata_policy: { openid_provider: { id_token_signing_alg_values_supported: { subset_of: ['ES256', 'EdDSA', 'RS256'] } } } }, 600);
    }
  });

  it('refuses an anchor whose configuration is not signed by the configured anchor key', async () => {
    const other = { entityId: anchor.id, jwks: publicJwks([await newKey('ta-1')]) };
    await expect(new TrustChainResolver(outbound).resolve(coopA.id, other)).rejects.toThrow(/signature or claims invalid/);
  });

  it('honours max_path_length and naming constraints', async () => {
    anchor.enrol(intermediate, { constraints: { max_path_length: 0 } });
    await expect(new TrustChainResolver(outbound).resolve(coopB.id, trustAnchor)).rejects.toThrow(/at most 0 intermediates/);
    anchor.enrol(intermediate, { constraints: { naming_constraints: { excluded: ['127.0.0.1'] } } });
    await expect(new TrustChainResolver(outbound).resolve(coopB.id, trustAnchor)).rejects.toThrow(/outside the naming constraints/);
    anchor.enrol(intermediate, { constraints: { allowed_entity_types: ['openid_provider'] } });
    const chain = await new TrustChainResolver(outbound).resolve(coopB.id, trustAnchor);
    expect(chain.metadata.meetplane).toBeUndefined();
    anchor.enrol(intermediate, { metadata_policy: { meetplane: { jurisdictions: { superset_of: ['CA'] } } } });
  });

  it('caches a chain until it expires', async () => {
    let now = Date.now();
    const resolver = new TrustChainResolver(outbound, () => now);
    const first = await resolver.resolve(coopA.id, trustAnchor);
    expect(await resolver.resolve(coopA.id, trustAnchor)).toBe(first);
    // Past the chain's expiry, and past any statement's lifetime (3600 s at most) however late it is
    // signed afresh: the cached chain must not be served, and the fresh statements are expired too. (Just
    // past the expiry, a statement re-signed a second later than the first was still valid: a flake.)
    now = first.expiresAt * 1000 + 3_700_000;
    await expect(resolver.resolve(coopA.id, trustAnchor)).rejects.toThrow(/has expired/);
  });

  it('never answers from a chain cached under other anchor keys', async () => {
    const resolver = new TrustChainResolver(outbound);
    await resolver.resolve(coopA.id, trustAnchor);
    // The same anchor configured again (by another process) with a key that did not sign it.
    const rekeyed = { entityId: anchor.id, jwks: publicJwks([await newKey('ta-2')]) };
    await expect(resolver.resolve(coopA.id, rekeyed)).rejects.toThrow(/which its verifier does not hold|signature or claims invalid/);
  });
});

describe('pinned peers', () => {
  it('accepts a configuration signed by the pinned key and refuses one signed by another', async () => {
    const print = await calculateJwkThumbprint(publicJwks([coopA.key]).keys[0]!);
    const resolver = new TrustChainResolver(outbound);
    await expect(verifyPinnedPeer(resolver, coopA.id, print)).resolves.toMatchObject({ sub: coopA.id });
    const real = coopA.key;
    coopA.key = await newKey('a-2');
    try {
      await expect(verifyPinnedPeer(resolver, coopA.id, print)).rejects.toThrow(/does not publish the pinned key/);
    } finally {
      coopA.key = real;
    }
    // Publishing the pinned key is not enough: the configuration must be signed by it, not by another key it publishes.
    const other = await newKey('a-other');
    coopA.extraKeys = [other];
    coopA.configKey = other;
    try {
      await expect(verifyPinnedPeer(resolver, coopA.id, print)).rejects.toThrow(/not signed by the pinned key/);
    } finally {
      coopA.configKey = undefined;
      coopA.extraKeys = [];
    }
  });
});
