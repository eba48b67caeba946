// Every table, for drizzle-kit and for typed queries. Each domain module owns its
// own table file; this only gathers them.
export * from '../coops/table.js';
export * from '../clusters/table.js';
export * from '../tenancies/table.js';
export * from '../accounts/table.js';
export * from '../audit/table.js';
export * from '../accounts/sso-table.js';
export * from '../oidc/table.js';
export * from '../jobs/table.js';
export * from '../clusters/health-table.js';
export * from '../inventory/table.js';
export * from '../grants/table.js';
export * from '../transfers/table.js';
export * from '../mail/table.js';
export * from '../receipts/table.js';
export * from '../memberships/table.js';
export * from '../handovers/table.js';
export * from '../federation/table.js';
export * from '../greenlight/table.js';
export * from '../peer-transfers/table.js';
export * from '../forwarding/table.js';
