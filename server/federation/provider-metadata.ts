// The openid_provider metadata of the entity configuration: the parts of the provider's discovery
// document a peer needs to trust it (issuer, endpoints, keys, algorithms). Derived from the same
// configuration the provider is built from (oidc-provider's default routes under /oidc), because
// its discovery answers only on a raw Node request; a test compares each field with the live
// discovery document, so a drift fails there. `jwks` carries the provider's public sign-on keys
// in the signed statement itself: a relying party verifies ID tokens with the keys the chain
// vouches for, not with whatever the jwks_uri answers (OpenID Federation §5.2.1).
import type { Config } from '../config.js';
import { issuerOf } from '../oidc/provider.js';
import { SIGNING_ALGS } from '../oidc/keys.js';

export function providerMetadata(config: Config, jwks?: { keys: unknown[] }): Record<string, unknown> {
  const issuer = issuerOf(config);
  return {
    issuer,
    authorization_endpoint: `${issuer}/auth`,
    token_endpoint: `${issuer}/token`,
    userinfo_endpoint: `${issuer}/me`,
    jwks_uri: `${issuer}/jwks`,
    ...(jwks ? { jwks } : {}),
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...SIGNING_ALGS],
  };
}
