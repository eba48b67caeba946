// Recordings past the tenancy's retention are deleted at the source before the
// copy and never transferred (DESIGN.md, data-protection rules: retention).
import type { Recording } from '../bbb/client.js';

const DAY_MS = 86_400_000;

/**
 * The recordings whose retention ran out by `now`: started more than
 * `retentionDays` days ago. A recording without a start time is kept (nothing
 * says it expired). Sorted, so the same inventory always gives the same list.
 */
export function expiredRecordings(recordings: readonly Pick<Recording, 'recordID' | 'startTime'>[], retentionDays: number, now: Date): string[] {
  const cutoff = now.getTime() - retentionDays * DAY_MS;
  return recordings
    .filter((r) => r.startTime > 0 && r.startTime < cutoff)
    .map((r) => r.recordID)
    .sort();
}
