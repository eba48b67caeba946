// The pure rules of a hand-over plan: the timeline against the notice period
// (the rule a single transfer's planned freeze follows), the even spread of
// tenancies over waves, and where a data-move cluster's tenancies go (the
// target cluster with the most room, saying on what figures it was chosen).
import { describe, expect, it } from 'vitest';
import { spreadOverWaves, timelineIssues, type Timeline } from '../../server/handovers/timeline.js';
import { placeClusters } from '../../server/handovers/placement.js';
import { databaseReach } from '../support/import-graph.js';

const DAY = 86_400_000;
const now = new Date('2027-01-10T12:00:00Z');
const at = (days: number) => new Date(now.getTime() + days * DAY);
const timeline = (over: Partial<Timeline> = {}): Timeline => ({
  announceAt: at(0),
  waves: [
    { freezeFrom: at(30), freezeUntil: at(31), concurrency: 4 },
    { freezeFrom: at(37), freezeUntil: at(38), concurrency: 4 },
  ],
  cutoverAt: at(40),
  decommissionAt: at(60),
  noticeDays: 30,
  ...over,
});

describe('the hand-over timeline', () => {
  it('holds when every wave leaves the full notice period after the announcement', () => {
    expect(timelineIssues(timeline(), { now, minNoticeDays: 30 })).toEqual([]);
  });

  it('refuses a wave that freezes before the notice period has run, counted from the announcement', () => {
    const issues = timelineIssues(timeline({ announceAt: at(2) }), { now, minNoticeDays: 30 });
    expect(issues.map((i) => i.path)).toEqual(['waves.0.freezeFrom']);
    expect(issues[0]!.message).toContain(at(32).toISOString());
  });

  it('counts the notice from now when the announcement lies in the past: nobody is told yesterday', () => {
    expect(timelineIssues(timeline({ announceAt: at(-10) }), { now, minNoticeDays: 30 })).toEqual([]);
    expect(timelineIssues(timeline({ announceAt: at(-10), waves: [{ freezeFrom: at(25), freezeUntil: at(26), concurrency: 1 }], cutoverAt: at(27) }), { now, minNoticeDays: 30 }).map((i) => i.path)).toEqual([
      'waves.0.freezeFrom',
    ]);
  });

  it('refuses a notice period under the policy minimum, waves out of order, a cut-over inside a wave and a decommission before the cut-over', () => {
    const issues = timelineIssues(
      timeline({
        noticeDays: 7,
        waves: [
          { freezeFrom: at(37), freezeUntil: at(38), concurrency: 4 },
          { freezeFrom: at(30), freezeUntil: at(30), concurrency: 4 },
        ],
        cutoverAt: at(37.5),
        decommissionAt: at(37),
      }),
      { now, minNoticeDays: 14 },
    );
    expect(issues.map((i) => i.path)).toEqual(['noticeDays', 'waves.1.freezeUntil', 'waves.1.freezeFrom', 'cutoverAt', 'decommissionAt']);
  });

  it('spreads tenancies over the waves as evenly as possible, in order', () => {
    expect(spreadOverWaves([1, 2, 3, 4, 5, 6, 7], 3)).toEqual([[1, 2, 3], [4, 5], [6, 7]]);
    expect(spreadOverWaves([1], 3)).toEqual([[1], [], []]);
  });
});

describe('placing data-move clusters on the target co-op', () => {
  const targets = [
    { id: 'small', capacity: 100, state: 'enabled' as const, load: 20 },
    { id: 'big', capacity: 500, state: 'enabled' as const, load: 300 },
    { id: 'off', capacity: 5000, state: 'disabled' as const, load: 0 },
  ];

  it('puts the largest demand first on the cluster with the most room left, and says so with its figures', () => {
    const { placed, issues } = placeClusters(
      [
        { clusterId: 'a', demand: 50 },
        { clusterId: 'b', demand: 150 },
      ],
      targets,
    );
    expect(issues).toEqual([]);
    expect(placed.map((p) => [p.clusterId, p.targetClusterId])).toEqual([
      ['b', 'big'],
      ['a', 'small'],
    ]);
    expect(placed[0]).toMatchObject({ basis: 'measured', targetCapacity: 500, targetLoad: 300 });
    expect(placed[0]!.note).toContain('50 left');
  });

  it('reports a cluster that does not fit, a disabled target named by the plan, and a target never polled', () => {
    expect(placeClusters([{ clusterId: 'a', demand: 900 }], targets).issues).toEqual(['cluster a: target cluster big lacks room (-700 after placing a demand of 900)']);
    expect(placeClusters([{ clusterId: 'a', demand: 1, targetClusterId: 'off' }], targets).issues).toEqual(['cluster a: target cluster off is disabled']);
    const unpolled = placeClusters([{ clusterId: 'a', demand: 1 }], [{ id: 'new', capacity: 100, state: 'enabled', load: null }]);
    expect(unpolled.placed[0]).toMatchObject({ basis: 'none', targetLoad: null });
    expect(unpolled.placed[0]!.note).toContain('never polled');
  });
});

describe('hand-over report verifier independence', () => {
  it('federation/handover-report-verify.ts imports no database code (the CLI verifies reports offline with it)', () => {
    const { files, offending } = databaseReach('federation/handover-report-verify.ts', (f) => f.startsWith('server/receipts'));
    expect(files).toContain('server/audit/canonical.ts');
    expect(offending).toEqual([]);
  });
});
