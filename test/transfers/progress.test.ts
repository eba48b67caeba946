// What `meetplane transfers watch` shows: the bars, figures, rate and ETA
// rendered from a transfer's status, without a terminal or a server.
import { describe, expect, it } from 'vitest';
import { bar, formatBytePair, formatBytes, formatDuration, formatRate, isFinal, progressLine, renderProgress, type TransferProgress, type WatchedTransfer } from '../../cli/progress.js';

const HAPPY = ['draft', 'checked', 'approved', 'notice', 'frozen', 'copying', 'switching', 'verifying', 'completed'];

function transfer(state: string, progress: Partial<TransferProgress> | null = null): WatchedTransfer {
  const at = HAPPY.indexOf(state);
  return {
    state,
    steps: HAPPY.map((step, i) => ({ step, status: at < 0 ? (i === 0 ? 'done' : 'skipped') : i < at ? 'done' : i === at ? 'current' : 'pending' })),
    freezeNotBefore: null,
    progress: progress && {
      recordingsDone: 0,
      recordingsTotal: 10,
      filesDone: 0,
      filesTotal: 40,
      bytesDone: 0,
      bytesTotal: 5_200_000,
      bytesPerSecond: 0,
      etaSeconds: null,
      at: '2026-03-01T12:00:00.000Z',
      ...progress,
    },
  };
}

const barOf = (line: string) => line.match(/\[([#-]+)\]/)![1]!;

describe('renderProgress', () => {
  it('shows only the step before the copy starts', () => {
    expect(renderProgress(transfer('frozen'), 80)).toEqual(['frozen (step 5 of 9)']);
    expect(renderProgress({ ...transfer('notice'), freezeNotBefore: '2026-04-01T00:00:00.000Z' }, 80)).toEqual(['notice (step 4 of 9), freezes not before 2026-04-01T00:00:00.000Z']);
  });

  it('draws empty bars at 0%, with the ETA unknown', () => {
    const lines = renderProgress(transfer('copying', {}), 80);
    expect(lines[0]).toBe('copying (step 6 of 9)');
    expect(lines[1]).toMatch(/^recordings \[-+\]   0%  0\/10 recordings, 0\/40 files$/);
    expect(lines[2]).toMatch(/^bytes {6}\[-+\]   0%  0\.0\/5\.2 MB, 0\.0 MB\/s, ETA unknown$/);
  });

  it('draws partial bars with the figures, the rate in MB/s and the ETA', () => {
    const lines = renderProgress(transfer('copying', { recordingsDone: 3, filesDone: 12, bytesDone: 1_100_000, bytesPerSecond: 4_200_000, etaSeconds: 65 }), 80);
    expect(lines[1]).toMatch(/ 30%  3\/10 recordings, 12\/40 files$/);
    expect(lines[2]).toMatch(/ 21%  1\.1\/5\.2 MB, 4\.2 MB\/s, ETA 1m05s$/);
    const [recordings, bytes] = [barOf(lines[1]!), barOf(lines[2]!)];
    expect(recordings.length).toBe(bytes.length); // the bars line up
    expect(recordings.replace(/-/g, '').length).toBe(Math.floor(0.3 * recordings.length));
    expect(bytes.replace(/-/g, '').length).toBe(Math.floor((1_100_000 / 5_200_000) * bytes.length));
  });

  it('fills the bars at 100%, and leaves out rate and ETA once the copy is over', () => {
    const full = { recordingsDone: 10, filesDone: 40, bytesDone: 5_200_000, bytesPerSecond: 3e6, etaSeconds: 0 };
    const copying = renderProgress(transfer('copying', full), 80);
    expect(barOf(copying[1]!)).toMatch(/^#+$/);
    expect(barOf(copying[2]!)).toMatch(/^#+$/);
    expect(copying[2]).toMatch(/100%  5\.2\/5\.2 MB, 3\.0 MB\/s, ETA 0s$/);
    const done = renderProgress(transfer('completed', full), 80);
    expect(done[0]).toBe('completed (step 9 of 9)');
    expect(done[1]).toMatch(/100%  10\/10 recordings, 40\/40 files$/);
    expect(done[2]).toMatch(/100%  5\.2\/5\.2 MB$/);
  });

  it('does not divide by zero totals: empty bars, no percentage', () => {
    const lines = renderProgress(transfer('copying', { recordingsTotal: 0, filesTotal: 0, bytesTotal: 0 }), 80);
    expect(lines[1]).toMatch(/^recordings \[-+\]  --%  0\/0 recordings, 0\/0 files$/);
    expect(lines[2]).toMatch(/^bytes {6}\[-+\]  --%  0\/0 B, 0\.0 MB\/s, ETA unknown$/);
  });

  it('never writes a line as wide as the terminal, so a redraw never wraps', () => {
    const t = transfer('copying', { recordingsDone: 123, recordingsTotal: 4567, filesDone: 9999, filesTotal: 99999, bytesDone: 12e9, bytesTotal: 345e9, bytesPerSecond: 98e6, etaSeconds: 200_000 });
    for (const width of [20, 40, 60, 80, 200]) for (const line of renderProgress(t, width)) expect(line.length).toBeLessThan(width);
    const wide = renderProgress(t, 200);
    expect(barOf(wide[1]!).length).toBe(40);
    expect(wide[2]).toMatch(/12\.0\/345 GB, 98\.0 MB\/s, ETA 2d07h$/);
  });

  it('keeps the bars the same width from one poll to the next, whatever the figures', () => {
    const widths = [
      transfer('copying', {}),
      transfer('copying', { recordingsDone: 3, recordingsTotal: 1000, filesDone: 12, filesTotal: 40_000, bytesPerSecond: 4_200_000, etaSeconds: 65 }),
      transfer('completed', { recordingsDone: 10, filesDone: 40, bytesDone: 5_200_000 }),
    ].flatMap((t) => renderProgress(t, 80).slice(1).map((l) => barOf(l).length));
    expect(new Set(widths).size).toBe(1);
  });

  it('names a final state without a step when the transfer left the happy path', () => {
    expect(renderProgress(transfer('rolled_back', { recordingsDone: 3 }), 80)[0]).toBe('rolled_back');
    expect(isFinal('rolled_back') && isFinal('completed') && !isFinal('copying')).toBe(true);
  });
});

describe('progressLine (logs and pipes)', () => {
  it('is one plain line with the figures', () => {
    expect(progressLine(transfer('frozen'))).toBe('frozen (step 5 of 9)');
    expect(progressLine(transfer('copying', { recordingsDone: 3, filesDone: 12, bytesDone: 1_100_000, bytesPerSecond: 4_200_000, etaSeconds: 3_725 }))).toBe(
      'copying (step 6 of 9): 3/10 recordings, 12/40 files, 1.1/5.2 MB, 4.2 MB/s, ETA 1h02m',
    );
    expect(progressLine(transfer('copying', {}))).toContain('ETA unknown');
    expect(progressLine(transfer('failed', { recordingsDone: 3 }))).toBe('failed: 3/10 recordings, 0/40 files, 0.0/5.2 MB');
  });
});

describe('units', () => {
  it('formats bytes, rates, durations and bars', () => {
    expect([formatBytes(0), formatBytes(999), formatBytes(1000), formatBytes(5_234_567), formatBytes(123_000_000_000)]).toEqual(['0 B', '999 B', '1.0 kB', '5.2 MB', '123 GB']);
    expect(formatBytePair(500_000, 2_000_000_000)).toBe('0.0/2.0 GB');
    expect([formatRate(0), formatRate(42_000), formatRate(4_200_000), formatRate(250e6)]).toEqual(['0.0 MB/s', '0.04 MB/s', '4.2 MB/s', '250 MB/s']);
    expect([formatDuration(0), formatDuration(59.6), formatDuration(65), formatDuration(7_380), formatDuration(90_000)]).toEqual(['0s', '1m00s', '1m05s', '2h03m', '1d01h']);
    expect([bar(0, 4, 4), bar(1, 4, 4), bar(4, 4, 4), bar(9, 4, 4), bar(0, 0, 4)]).toEqual(['[----]', '[#---]', '[####]', '[####]', '[----]']);
  });
});
