// The row an INSERT ... ON CONFLICT DO UPDATE proposed, column by column: what a multi-row upsert
// sets each conflicting row to (a single-row upsert can name its values; many rows cannot).
import { sql, type AnyColumn, type SQL } from 'drizzle-orm';

export const excluded = (column: AnyColumn): SQL => sql.raw(`excluded."${column.name}"`);
