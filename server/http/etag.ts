// Optimistic concurrency: every resource carries a version; its ETag is derived
// from id and version, and updates require a matching If-Match.
import { problems } from './problem.js';

export function etagOf(row: { id: string; version: number }): string {
  return `"${row.id}.${row.version}"`;
}

/** Throws 428 without If-Match, 412 when it does not match the current ETag. */
export function requireIfMatch(ifMatch: string | undefined, row: { id: string; version: number }): void {
  if (!ifMatch) throw problems.preconditionRequired();
  const current = etagOf(row);
  const offered = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (!offered.includes(current) && !offered.includes('*')) throw problems.preconditionFailed(current);
}
