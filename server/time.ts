// Dates as the API and exports write them: ISO 8601 in UTC, null for none.
export const isoOrNull = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);
