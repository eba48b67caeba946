// Recordings past the tenancy's retention are deleted at the source before the
// copy and never transferred. The data-protection rules decide, recording by
// recording (dp-retention); the facts are the recording's age and the retention.
import type { Recording } from '../bbb/client.js';
import type { DataProtectionRules } from '../../policies/data-protection/rules.js';

const DAY_MS = 86_400_000;

export interface RetentionOutcome {
  /** record ids the rules keep out of the transfer, sorted */
  expired: string[];
  /** the rules that did (dp-retention), for the audit entry */
  policyIds: string[];
}

/**
 * Asks the rules about every recording. Decisions depend only on the whole
 * days of age, so one decision per distinct age serves them all (a tenancy
 * with 10^5 recordings has a few thousand). A recording without a start time
 * is kept: nothing says it expired.
 */
export function expiredRecordings(
  rules: DataProtectionRules,
  requesterId: string,
  recordings: readonly Pick<Recording, 'recordID' | 'startTime'>[],
  retentionDays: number,
  now: Date,
): RetentionOutcome {
  const byAge = new Map<number, { deny: boolean; policyIds: string[] }>();
  const expired: string[] = [];
  const policyIds = new Set<string>();
  for (const r of recordings) {
    if (!(r.startTime > 0)) continue;
    const ageDays = Math.max(0, Math.floor((now.getTime() - r.startTime) / DAY_MS));
    let d = byAge.get(ageDays);
    if (!d) {
      const decision = rules.mayTransferRecording(r.recordID, requesterId, { ageDays, retentionDays });
      d = { deny: decision.decision === 'deny', policyIds: decision.policyIds };
      byAge.set(ageDays, d);
    }
    if (d.deny) {
      expired.push(r.recordID);
      for (const id of d.policyIds) policyIds.add(id);
    }
  }
  return { expired: expired.sort(), policyIds: [...policyIds].sort() };
}
