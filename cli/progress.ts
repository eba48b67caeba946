// What `meetplane transfers watch` shows of a transfer: pure functions from its
// status (GET /api/v1/transfers/{id}) to text, so they are tested without a
// terminal. renderProgress gives the lines redrawn in place on a terminal;
// progressLine the single plain line printed per change into logs and pipes.

/** The copy's progress, as the server reports it (null until the copy starts). */
export type { TransferProgress } from '../server/transfers/table.js';
import type { TransferProgress } from '../server/transfers/table.js';

export interface WatchedTransfer {
  state: string;
  steps?: Array<{ step: string; status: string }>;
  freezeNotBefore?: string | null;
  progress?: TransferProgress | null;
}

/** The states a transfer ends in (server/transfers/lifecycle.ts). */
export const FINAL_STATES: ReadonlySet<string> = new Set(['completed', 'rejected', 'cancelled', 'failed', 'rolled_back']);

export const isFinal = (state: string) => FINAL_STATES.has(state);

/** "copying (step 6 of 9)"; a notice adds when the tenancy freezes. */
export function stateText(t: WatchedTransfer): string {
  const steps = t.steps ?? [];
  const at = steps.findIndex((s) => s.status === 'current');
  let text = at < 0 ? t.state : `${t.state} (step ${at + 1} of ${steps.length})`;
  if (t.state === 'notice' && t.freezeNotBefore) text += `, freezes not before ${t.freezeNotBefore}`;
  return text;
}

/** Whole per cent done, or null when there is nothing to count (a zero total). */
export function percent(done: number, total: number): number | null {
  if (!(total > 0)) return null;
  return Math.max(0, Math.min(100, Math.floor((done / total) * 100)));
}

/** `[#####-----]`: full only when everything is done; empty when the total is zero. */
export function bar(done: number, total: number, width: number): string {
  const w = Math.max(1, width);
  const filled = total > 0 ? Math.max(0, Math.min(w, Math.floor((done / total) * w))) : 0;
  return `[${'#'.repeat(filled)}${'-'.repeat(w - filled)}]`;
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'] as const;

function unitFor(n: number): number {
  let i = 0;
  while (i < UNITS.length - 1 && Math.abs(n) >= 1000 ** (i + 1)) i++;
  return i;
}

function scaled(n: number, unit: number): string {
  if (unit === 0) return String(Math.round(n));
  const v = n / 1000 ** unit;
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

/** Bytes in SI units (1 MB = 1,000,000 bytes): "5.2 MB". */
export function formatBytes(n: number): string {
  const unit = unitFor(n);
  return `${scaled(n, unit)} ${UNITS[unit]}`;
}

/** Done and total in the total's unit: "1.1/5.2 MB". */
export function formatBytePair(done: number, total: number): string {
  const unit = unitFor(Math.max(done, total));
  return `${scaled(done, unit)}/${scaled(total, unit)} ${UNITS[unit]}`;
}

/** Always in MB/s, so rates compare at a glance. */
export function formatRate(bytesPerSecond: number): string {
  const mb = Math.max(0, bytesPerSecond) / 1e6;
  return `${mb > 0 && mb < 0.1 ? mb.toFixed(2) : mb >= 100 ? mb.toFixed(0) : mb.toFixed(1)} MB/s`;
}

/** "45s", "1m05s", "2h03m", "1d02h". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const two = (n: number) => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${two(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d${two(Math.floor((s % 86_400) / 3600))}h`;
}

export const formatEta = (etaSeconds: number | null) => (etaSeconds === null || !Number.isFinite(etaSeconds) ? 'ETA unknown' : `ETA ${formatDuration(etaSeconds)}`);

// What each bar counts. Rate and ETA only while copying: once the copy is over
// they describe a moment long gone.
function counts(p: TransferProgress, copying: boolean) {
  return {
    recordings: `${p.recordingsDone}/${p.recordingsTotal} recordings, ${p.filesDone}/${p.filesTotal} files`,
    bytes: [formatBytePair(p.bytesDone, p.bytesTotal), ...(copying ? [formatRate(p.bytesPerSecond), formatEta(p.etaSeconds)] : [])].join(', '),
  };
}

const pct = (done: number, total: number) => {
  const p = percent(done, total);
  return (p === null ? '--' : String(p)).padStart(3) + '%';
};

/**
 * The lines a terminal shows for the transfer, none longer than `width - 1`
 * (so none wraps and a redraw can move up exactly that many lines):
 *
 *     copying (step 6 of 9)
 *     recordings [######--------------]  30%  3/10 recordings, 12/40 files
 *     bytes      [####----------------]  21%  1.1/5.2 MB, 4.2 MB/s, ETA 1m05s
 */
export function renderProgress(t: WatchedTransfer, width: number): string[] {
  const lines = [stateText(t)];
  const p = t.progress;
  if (p) {
    const text = counts(p, t.state === 'copying');
    const label = (s: string) => s.padEnd(11);
    // Both bars as wide as the terminal leaves room for beside a label, the per cent and
    // 40 characters of figures, between 10 and 40; the same from one poll to the next.
    const w = Math.max(10, Math.min(40, width - 1 - (11 + 2 + 1 + 4 + 2) - 40));
    lines.push(`${label('recordings')}${bar(p.recordingsDone, p.recordingsTotal, w)} ${pct(p.recordingsDone, p.recordingsTotal)}  ${text.recordings}`);
    lines.push(`${label('bytes')}${bar(p.bytesDone, p.bytesTotal, w)} ${pct(p.bytesDone, p.bytesTotal)}  ${text.bytes}`);
  }
  const max = Math.max(1, width - 1);
  return lines.map((l) => (l.length > max ? l.slice(0, max) : l));
}

/** One plain line: "copying (step 6 of 9): 3/10 recordings, 12/40 files, 1.1/5.2 MB, 4.2 MB/s, ETA 1m05s". */
export function progressLine(t: WatchedTransfer): string {
  const p = t.progress;
  if (!p) return stateText(t);
  const text = counts(p, t.state === 'copying');
  return `${stateText(t)}: ${text.recordings}, ${text.bytes}`;
}

/** A transfer from another instance, as the target follows it (GET /api/v1/peer-transfers/{id}). */
export interface WatchedPeerTransfer {
  state: string;
  progress?: (Omit<TransferProgress, 'recordingsDone' | 'recordingsTotal' | 'at'> & { at?: string }) | null;
}

/** The states a transfer between instances ends in at the target: completed, or not taken. */
export const PEER_FINAL_STATES: ReadonlySet<string> = new Set(['completed', 'cancelled', 'failed', 'refused', 'rejected']);

/** "pulling: 12/40 files, 1.1/5.2 MB, 4.2 MB/s, ETA 1m05s" (rate and ETA while pulling). */
export function peerProgressLine(t: WatchedPeerTransfer): string {
  const p = t.progress;
  if (!p) return t.state;
  const pulling = t.state === 'pulling';
  return `${t.state}: ${p.filesDone}/${p.filesTotal} files, ${[formatBytePair(p.bytesDone, p.bytesTotal), ...(pulling ? [formatRate(p.bytesPerSecond), formatEta(p.etaSeconds)] : [])].join(', ')}`;
}
