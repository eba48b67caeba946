// The hand-over timeline, checked before anything is planned: announcement,
// waves (each a freeze window and a concurrency limit), cut-over, source
// decommission. Each wave's freeze must leave every member the full notice
// period from the announcement (and from now: nobody is told in the past),
// the same rule a single transfer's planned freeze date follows; the notice
// period itself is at least the policy minimum.
const DAY_MS = 86_400_000;

export interface WavePlan {
  freezeFrom: Date;
  freezeUntil: Date;
  concurrency: number;
}

export interface Timeline {
  announceAt: Date;
  waves: WavePlan[];
  cutoverAt: Date;
  decommissionAt: Date;
  noticeDays: number;
}

export interface TimelineIssue {
  path: string;
  message: string;
}

/** Every way the timeline breaks the rules (empty: it holds). */
export function timelineIssues(t: Timeline, opts: { now: Date; minNoticeDays: number }): TimelineIssue[] {
  const issues: TimelineIssue[] = [];
  if (t.noticeDays < opts.minNoticeDays)
    issues.push({ path: 'noticeDays', message: `must be at least the policy minimum notice (${opts.minNoticeDays} days)` });
  if (t.waves.length === 0) issues.push({ path: 'waves', message: 'needs at least one wave' });
  const noticeFrom = Math.max(t.announceAt.getTime(), opts.now.getTime());
  const earliestFreeze = new Date(noticeFrom + t.noticeDays * DAY_MS);
  t.waves.forEach((w, i) => {
    if (w.freezeFrom < earliestFreeze)
      issues.push({
        path: `waves.${i}.freezeFrom`,
        message: `must leave every member the notice period (${t.noticeDays} days from the announcement, and from now): not before ${earliestFreeze.toISOString()}`,
      });
    if (w.freezeUntil <= w.freezeFrom) issues.push({ path: `waves.${i}.freezeUntil`, message: 'must be after the freeze window opens' });
    if (i > 0 && w.freezeFrom < t.waves[i - 1]!.freezeFrom) issues.push({ path: `waves.${i}.freezeFrom`, message: 'waves must be in order: not before the previous wave' });
  });
  const last = t.waves.reduce<Date | null>((m, w) => (!m || w.freezeUntil > m ? w.freezeUntil : m), null);
  if (last && t.cutoverAt < last) issues.push({ path: 'cutoverAt', message: `must be after the last wave's freeze window (${last.toISOString()})` });
  if (t.decommissionAt < t.cutoverAt) issues.push({ path: 'decommissionAt', message: 'must not be before the cut-over' });
  return issues;
}

/** Splits tenancies into `waves` sets of sizes as even as possible, in the given order. */
export function spreadOverWaves<T>(items: readonly T[], waves: number): T[][] {
  const out: T[][] = Array.from({ length: waves }, () => []);
  const base = Math.floor(items.length / waves);
  const extra = items.length % waves;
  let at = 0;
  for (let w = 0; w < waves; w++) {
    const n = base + (w < extra ? 1 : 0);
    out[w] = items.slice(at, at + n);
    at += n;
  }
  return out;
}
