import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  applyEntityTypePolicy,
  applyMetadataPolicy,
  mergeMetadataPolicies,
  mergePolicyChain,
  mergeEntityTypePolicies,
  PolicyError,
  valueEqual,
  type EntityTypeMetadata,
  type EntityTypePolicy,
  type Json,
} from '../../federation/metadata-policy.js';

// Connect2id's 2019 metadata policy vectors (see ../shared/testvectors/README.md): read in place, never copied.
const VECTORS = fileURLToPath(
  new URL('../../../shared/testvectors/oidfed-metadata-policy/metadata-policy-test-vectors-2025-02-13.json', import.meta.url),
);

type Vector = {
  n: number;
  combination: string[];
  TA: EntityTypePolicy;
  INT: EntityTypePolicy;
  merged?: EntityTypePolicy;
  metadata: EntityTypeMetadata;
  resolved?: EntityTypeMetadata;
  error?: 'invalid_policy' | 'invalid_metadata';
};

const vectors = JSON.parse(readFileSync(VECTORS, 'utf8')) as Vector[];

/** Objects key by key; arrays as sets, since the spec leaves the order of merged and resolved arrays open. */
function sameObject(a: Record<string, Json>, b: Record<string, Json>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    if (!(k in a) || !(k in b)) return false;
    const x = a[k]!;
    const y = b[k]!;
    if (x && y && typeof x === 'object' && typeof y === 'object' && !Array.isArray(x) && !Array.isArray(y)) {
      if (!sameObject(x, y)) return false;
    } else if (!valueEqual(x, y)) return false;
  }
  return true;
}

type Outcome = { merged?: EntityTypePolicy; resolved?: EntityTypeMetadata; error?: string };

function run(v: Vector): Outcome {
  let merged: EntityTypePolicy;
  try {
    merged = mergeEntityTypePolicies(v.TA, v.INT);
  } catch (e) {
    if (e instanceof PolicyError) return { error: e.code };
    throw e;
  }
  try {
    return { merged, resolved: applyEntityTypePolicy(merged, v.metadata) };
  } catch (e) {
    if (e instanceof PolicyError) return { merged, error: e.code };
    throw e;
  }
}

describe('metadata policy: the 2019 published vectors', () => {
  it('has every case of the file', () => {
    expect(vectors.length).toBe(2019);
  });

  it('merges, resolves or refuses every case as expected', () => {
    const failures: string[] = [];
    for (const v of vectors) {
      const got = run(v);
      if (v.error) {
        if (got.error !== v.error) failures.push(`#${v.n} ${v.combination.join('+')}: want ${v.error}, got ${got.error ?? 'success'}`);
        // A metadata error still means the policies merged: check the merge as well.
        if (v.merged && got.merged && !sameObject(got.merged, v.merged)) failures.push(`#${v.n}: merged differs`);
        continue;
      }
      if (got.error) {
        failures.push(`#${v.n} ${v.combination.join('+')}: unexpected ${got.error}`);
        continue;
      }
      if (v.merged && !sameObject(got.merged!, v.merged))
        failures.push(`#${v.n}: merged ${JSON.stringify(got.merged)} != ${JSON.stringify(v.merged)}`);
      if (!sameObject(got.resolved!, v.resolved!))
        failures.push(`#${v.n}: resolved ${JSON.stringify(got.resolved)} != ${JSON.stringify(v.resolved)}`);
    }
    expect(failures.slice(0, 20), `${failures.length} of ${vectors.length} cases fail`).toEqual([]);
  });
});

describe('metadata policy: whole statements along a chain', () => {
  it('keeps a superior essential=true when a subordinate says false', () => {
    const merged = mergeMetadataPolicies(
      { openid_provider: { contacts: { essential: true } } },
      { openid_provider: { contacts: { essential: false } } },
    );
    expect(merged.openid_provider!.contacts!.essential).toBe(true);
    expect(() => applyMetadataPolicy(merged, { openid_provider: { issuer: 'https://a.example' } })).toThrow(
      expect.objectContaining({ code: 'invalid_metadata' }),
    );
  });

  it('merges three levels, trust anchor first, and applies per entity type', () => {
    const policy = mergePolicyChain([
      { openid_provider: { id_token_signing_alg_values_supported: { subset_of: ['ES256', 'EdDSA', 'RS256'] } } },
      { openid_provider: { id_token_signing_alg_values_supported: { subset_of: ['ES256', 'EdDSA'] } } },
      { meetplane: { jurisdictions: { superset_of: ['CA'] } } },
    ]);
    const out = applyMetadataPolicy(policy, {
      openid_provider: { id_token_signing_alg_values_supported: ['RS256', 'EdDSA'] },
      meetplane: { jurisdictions: ['CA', 'GB'] },
      federation_entity: { organization_name: 'Coop' },
    });
    expect(out.openid_provider!.id_token_signing_alg_values_supported).toEqual(['EdDSA']);
    expect(out.meetplane!.jurisdictions).toEqual(['CA', 'GB']);
    expect(out.federation_entity).toEqual({ organization_name: 'Coop' });
    expect(() => applyMetadataPolicy(policy, { meetplane: { jurisdictions: ['GB'] } })).toThrow(
      expect.objectContaining({ code: 'invalid_metadata' }),
    );
  });

  it('refuses a subordinate value that contradicts the anchor as invalid_policy', () => {
    expect(() =>
      mergeMetadataPolicies(
        { openid_provider: { token_endpoint_auth_methods_supported: { one_of: ['private_key_jwt'] } } },
        { openid_provider: { token_endpoint_auth_methods_supported: { one_of: ['client_secret_basic'] } } },
      ),
    ).toThrow(expect.objectContaining({ code: 'invalid_policy' }));
  });
});
