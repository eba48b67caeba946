// The embedded database (PGlite) allows one process at a time and does not
// enforce it itself: a second process aborts inside WebAssembly. So whoever
// opens it first takes DATA_DIR/meetplane.lock (created with O_EXCL, holding
// its pid, host, command and start time); a second process is refused with a
// line naming the holder. A lock whose process is gone from this host is stale
// and taken over with a warning.
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const LOCK_FILE = 'meetplane.lock';

interface Holder {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
}

/** The data directory is held by another live process. */
export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
  constructor(
    readonly dataDir: string,
    readonly holder: Holder,
  ) {
    const started = new Date(holder.startedAt);
    const when = Number.isNaN(started.getTime()) ? 'at an unknown time' : `started ${started.toISOString().slice(11, 16)} UTC`;
    const where = holder.host === os.hostname() ? '' : ` on host ${holder.host}`;
    const who = holder.pid > 0 ? `process ${holder.pid}${where} (${holder.command}, ${when})` : 'another meetplane process';
    super(
      `the embedded database in ${dataDir} is in use by ${who}; ` +
        'stop it first, or use DATABASE_URL (PostgreSQL) for several processes',
    );
  }
}

const UNKNOWN_HOLDER: Holder = { pid: 0, host: os.hostname(), command: '', startedAt: '' };

export interface DataDirLock {
  release(): void;
}

/** The command line as a user would recognise it: `meetplane serve`. */
function currentCommand(): string {
  // Never a token in a file others may read: `--token x` and `--token=x` are left out.
  const args = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--token') && all[i - 1] !== '--token');
  return ['meetplane', ...args].join(' ').slice(0, 200);
}

function parseHolder(text: string): Holder | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<Holder>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return undefined;
    return { pid: parsed.pid, host: parsed.host, command: String(parsed.command ?? 'unknown command'), startedAt: String(parsed.startedAt ?? '') };
  } catch {
    return undefined; // half-written or foreign content: judged by its age below
  }
}

function alive(pid: number): boolean {
  if (pid === process.pid) return false; // our own pid in a file we did not write: a previous run (pid 1 in a container)
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * Takes the lock on `dataDir` or throws DataDirLockedError. `warn` hears about
 * a stale lock taken over. The lock is released by `release()` and, failing
 * that, when the process exits.
 */
export function lockDataDir(dataDir: string, warn: (message: string) => void = (m) => process.stderr.write(`meetplane: ${m}\n`)): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_FILE);
  const mine: Holder = { pid: process.pid, host: os.hostname(), command: currentCommand(), startedAt: new Date().toISOString() };
  const content = JSON.stringify(mine) + '\n';
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, content);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw e;
    }
    let text: string;
    let mtimeMs: number;
    try {
      text = readFileSync(file, 'utf8');
      mtimeMs = statSync(file).mtimeMs;
    } catch {
      continue; // released meanwhile: try again
    }
    const holder = parseHolder(text);
    if (holder && (holder.host !== os.hostname() || alive(holder.pid))) throw new DataDirLockedError(dataDir, holder);
    // Unreadable content is a lock being written right now, unless it is old.
    if (!holder && Date.now() - mtimeMs < 5_000) throw new DataDirLockedError(dataDir, UNKNOWN_HOLDER);
    takeOver(file, text, holder, warn);
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    try {
      // Only our own lock: never remove one a later process took over.
      if (readFileSync(file, 'utf8') === content) unlinkSync(file);
    } catch {
      /* already gone */
    }
  };
  process.on('exit', release);
  return { release };
}

/**
 * Moves the stale lock aside, so that of two processes taking over at once only
 * one succeeds (rename is atomic) and the other finds the new lock.
 */
function takeOver(file: string, judged: string, holder: Holder | undefined, warn: (message: string) => void): void {
  const aside = `${file}.stale.${process.pid}`;
  try {
    renameSync(file, aside);
  } catch {
    return; // someone else moved it: the next attempt sees theirs
  }
  // What we moved must be the stale lock we judged, not one a process took meanwhile: put that back.
  if (readFileSync(aside, 'utf8') !== judged) {
    renameSync(aside, file);
    throw new DataDirLockedError(path.dirname(file), UNKNOWN_HOLDER);
  }
  unlinkSync(aside);
  warn(
    holder
      ? `took over a stale lock on ${path.dirname(file)}: process ${holder.pid} (${holder.command}) is no longer running`
      : `took over an unreadable stale lock on ${path.dirname(file)}`,
  );
}
