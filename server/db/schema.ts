// Every table, for drizzle-kit and for typed queries. Each domain module owns its
// own table file; this only gathers them.
export * from '../coops/table.js';
export * from '../clusters/table.js';
export * from '../tenancies/table.js';
export * from '../accounts/table.js';
export * from '../audit/table.js';
