// Every column that holds a value sealed under the master key, with the
// associated-data label its owner seals it with (the owner's own label function,
// so the two cannot drift). A master-key rotation re-seals exactly these; a test
// compares this list with the database's `*_sealed` columns, so a new sealed
// column cannot be forgotten here.
import { secretLabel as clusterSecretLabel } from '../clusters/service.js';
import { STORAGE_LABEL } from '../transfers/cluster-storage.js';
import { secretLabel as tenancySecretLabel } from '../tenancies/service.js';
import { label as oidcKeyLabel } from '../oidc/keys.js';
import { secretLabel as clientSecretLabel } from '../oidc/clients.js';
import { secretLabel as upstreamSecretLabel } from '../oidc/upstream.js';
import { keyLabel as upstreamClientKeyLabel } from '../oidc/upstream-auth.js';
import { LEGACY_LABEL, sealLabel as auditLogKeyLabel } from '../audit/log-keys.js';
import { sealLabel as coopKeyLabel } from '../receipts/keys.js';
import { label as memberExportLabel } from '../transfers/member-export.js';
import { label as federationKeyLabel } from '../federation/keys.js';
import { label as witnessKeyLabel } from '../federation/witness-key.js';
import { tenancyContentLabel as peerTransferContentLabel } from '../peer-transfers/table.js';
import { forwardSecretLabel } from '../forwarding/service.js';
import { databaseUrlLabel as greenlightDatabaseUrlLabel, secretKeyBaseLabel as greenlightKeyLabel } from '../greenlight/frontends.js';

export interface SealedColumn {
  /** SQL table name. */
  table: string;
  /** SQL column holding the sealed value (may be null in some rows). */
  column: string;
  /** SQL primary-key columns, which also feed the label. */
  key: readonly string[];
  /** Other columns the label is made of. */
  labelFrom?: readonly string[];
  label(row: Record<string, string>): string;
}

export const SEALED_COLUMNS: readonly SealedColumn[] = [
  { table: 'clusters', column: 'secret_sealed', key: ['id'], label: (r) => clusterSecretLabel(r.id!) },
  { table: 'cluster_storage', column: 'credentials_sealed', key: ['cluster_id'], label: (r) => STORAGE_LABEL(r.cluster_id!) },
  { table: 'tenancies', column: 'bbb_secret_sealed', key: ['id'], label: (r) => tenancySecretLabel(r.id!) },
  { table: 'oidc_keys', column: 'private_sealed', key: ['kid'], label: (r) => oidcKeyLabel(r.kid!) },
  { table: 'oidc_clients', column: 'secret_sealed', key: ['id'], labelFrom: ['client_id'], label: (r) => clientSecretLabel(r.client_id!) },
  { table: 'upstream_providers', column: 'secret_sealed', key: ['id'], label: (r) => upstreamSecretLabel(r.id!) },
  { table: 'upstream_providers', column: 'client_key_sealed', key: ['id'], label: (r) => upstreamClientKeyLabel(r.id!) },
  { table: 'audit_log_keys', column: 'private_sealed', key: ['vkey'], label: (r) => auditLogKeyLabel(r.vkey!) },
  { table: 'audit_keys', column: 'private_sealed', key: ['name'], label: () => LEGACY_LABEL },
  { table: 'coop_keys', column: 'private_sealed', key: ['kid'], labelFrom: ['coop_id'], label: (r) => coopKeyLabel(r.coop_id!, r.kid!) },
  { table: 'member_exports', column: 'content_sealed', key: ['id'], label: (r) => memberExportLabel(r.id!) },
  { table: 'federation_keys', column: 'private_sealed', key: ['kid'], label: (r) => federationKeyLabel(r.kid!) },
  { table: 'witness_keys', column: 'private_sealed', key: ['vkey'], label: (r) => witnessKeyLabel(r.vkey!) },
  { table: 'greenlight_frontends', column: 'database_url_sealed', key: ['id'], label: (r) => greenlightDatabaseUrlLabel(r.id!) },
  { table: 'greenlight_frontends', column: 'secret_key_base_sealed', key: ['id'], label: (r) => greenlightKeyLabel(r.id!) },
  { table: 'peer_transfers', column: 'tenancy_content_sealed', key: ['id'], label: (r) => peerTransferContentLabel(r.id!) },
  { table: 'tenancy_forwards', column: 'secret_sealed', key: ['tenancy_id'], label: (r) => forwardSecretLabel(r.tenancy_id!) },
];
