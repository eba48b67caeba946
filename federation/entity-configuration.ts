// What a meetplane instance says about itself and about the instances it vouches for: the claims
// of its entity configuration (at /.well-known/openid-federation) and of subordinate statements.
// Pure: the server gathers the facts, this shapes them per OpenID Federation 1.0 §3 and §5.
import type { JWK } from 'jose';
import type { Constraints, StatementClaims } from './entity-statement.js';
import type { MetadataPolicy } from './metadata-policy.js';

/** The `meetplane` entity type: what a peer needs to know about an instance before trusting it with data. */
export interface MeetplaneMetadata {
  /**
   * The co-ops this instance hosts, as a peer transferring a tenancy to one of them decides on:
   * where it is, its legal regime, what it states of its data-protection standing, and the
   * clusters (by slug) and their countries a tenancy can be hosted on.
   */
  coops: Array<{
    slug: string;
    name: string;
    jurisdiction: string;
    legal_regime: string;
    dpf_listed: boolean;
    pipeda_subject: boolean;
    contact_email: string;
    clusters: Array<{ slug: string; country: string }>;
  }>;
  /** Where peers send this instance the signed messages of a transfer (offers, answers). */
  transfer_endpoint: string;
  /** Countries (ISO 3166-1 alpha-2) where this instance's clusters run. */
  cluster_jurisdictions: string[];
  /** origin and verifier_key: the signed-note key its checkpoints carry (what a witness checks them with). */
  audit_log: { origin: string; verifier_key: string; tiles_url: string };
  /** Its C2SP tlog witness: where peers send their checkpoints, and its cosignature/v1 key. */
  witness?: { add_checkpoint_url: string; vkey: string };
}

export interface InstanceFacts {
  entityId: string;
  keys: JWK[];
  authorityHints: string[];
  organizationName: string;
  contacts: string[];
  /** The provider's discovery document (openid_provider metadata). */
  openidProvider?: Record<string, unknown>;
  /** How members of other instances' providers are signed in here (openid_relying_party metadata). */
  openidRelyingParty?: Record<string, unknown>;
  meetplane: MeetplaneMetadata;
}

export const federationEndpoints = (entityId: string) => ({
  federation_fetch_endpoint: `${entityId}/federation/fetch`,
  federation_list_endpoint: `${entityId}/federation/list`,
  federation_resolve_endpoint: `${entityId}/federation/resolve`,
  // Trust marks (§8.4-8.6): answered by every instance, with 404 where it issued nothing.
  federation_trust_mark_endpoint: `${entityId}/federation/trust_mark`,
  federation_trust_mark_status_endpoint: `${entityId}/federation/trust_mark_status`,
  federation_trust_mark_list_endpoint: `${entityId}/federation/trust_mark_list`,
});

export function entityConfigurationClaims(f: InstanceFacts): StatementClaims {
  return {
    iss: f.entityId,
    sub: f.entityId,
    jwks: { keys: f.keys },
    ...(f.authorityHints.length > 0 ? { authority_hints: f.authorityHints } : {}),
    metadata: {
      federation_entity: {
        organization_name: f.organizationName,
        ...(f.contacts.length > 0 ? { contacts: f.contacts } : {}),
        ...federationEndpoints(f.entityId),
      },
      ...(f.openidProvider ? { openid_provider: f.openidProvider } : {}),
      ...(f.openidRelyingParty ? { openid_relying_party: f.openidRelyingParty } : {}),
      meetplane: f.meetplane as unknown as Record<string, unknown>,
    },
  };
}

export interface Subordinate {
  entityId: string;
  jwks: { keys: JWK[] };
  metadataPolicy?: MetadataPolicy | null;
  constraints?: Constraints | null;
}

export function subordinateStatementClaims(issuer: string, s: Subordinate): StatementClaims {
  return {
    iss: issuer,
    sub: s.entityId,
    jwks: s.jwks,
    source_endpoint: `${issuer}/federation/fetch`,
    ...(s.metadataPolicy && Object.keys(s.metadataPolicy).length > 0 ? { metadata_policy: s.metadataPolicy as StatementClaims['metadata_policy'] } : {}),
    ...(s.constraints && Object.keys(s.constraints).length > 0 ? { constraints: s.constraints } : {}),
  };
}
