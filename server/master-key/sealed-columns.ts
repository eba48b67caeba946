// Every column that holds a value sealed under the master key, with the
// associated-data label its owner seals it with. A master-key rotation re-seals
// exactly these; a test compares this list with the database's `*_sealed`
// columns, so a new sealed column cannot be forgotten here. The labels repeat
// the owners' formats on purpose (this module sits above the domains, not
// inside them); the rotation test opens every value with them, so a label that
// drifted from its owner's fails there.

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
  { table: 'clusters', column: 'secret_sealed', key: ['id'], label: (r) => `cluster-secret:${r.id}` },
  { table: 'cluster_storage', column: 'credentials_sealed', key: ['cluster_id'], label: (r) => `cluster-storage:${r.cluster_id}` },
  { table: 'tenancies', column: 'bbb_secret_sealed', key: ['id'], label: (r) => `tenancy-bbb-secret:${r.id}` },
  { table: 'oidc_keys', column: 'private_sealed', key: ['kid'], label: (r) => `oidc-key:${r.kid}` },
  { table: 'oidc_clients', column: 'secret_sealed', key: ['id'], labelFrom: ['client_id'], label: (r) => `oidc-client-secret:${r.client_id}` },
  { table: 'upstream_providers', column: 'secret_sealed', key: ['id'], label: (r) => `upstream-secret:${r.id}` },
  { table: 'upstream_providers', column: 'client_key_sealed', key: ['id'], label: (r) => `upstream-client-key:${r.id}` },
  { table: 'audit_log_keys', column: 'private_sealed', key: ['vkey'], label: (r) => `audit-log-key:${r.vkey}` },
  { table: 'audit_keys', column: 'private_sealed', key: ['name'], label: () => 'audit-checkpoint-key' },
  { table: 'coop_keys', column: 'private_sealed', key: ['kid'], labelFrom: ['coop_id'], label: (r) => `coop-signing-key:${r.coop_id}:${r.kid}` },
  { table: 'member_exports', column: 'content_sealed', key: ['id'], label: (r) => `member-export:${r.id}` },
  { table: 'federation_keys', column: 'private_sealed', key: ['kid'], label: (r) => `federation-key:${r.kid}` },
];
