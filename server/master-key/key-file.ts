// The generated master key in DATA_DIR/master.key (used when MASTER_KEY is
// unset) is swapped in two renames around the re-sealing transaction: the new
// key is written to master.key.new first, so a crash at any point leaves both
// keys on disk and `meetplane master-key rotate` run again works out which one
// opens the data. The replaced key is kept beside it, named by the time it was
// replaced: backups taken before the rotation open only with it.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeMasterKey } from '../crypto/master-key.js';

export interface KeyFilePaths {
  current: string;
  next: string;
}

export function keyFilePaths(dataDir: string): KeyFilePaths {
  const current = path.join(dataDir, 'master.key');
  return { current, next: `${current}.new` };
}

export function readKeyFile(file: string): Buffer {
  return decodeMasterKey(readFileSync(file, 'utf8'));
}

export function writeNextKeyFile(paths: KeyFilePaths, key: Buffer): void {
  writeFileSync(paths.next, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
}

export function discardNextKeyFile(paths: KeyFilePaths): void {
  rmSync(paths.next, { force: true });
}

/** Puts the new key in place; returns where the replaced key now is. */
export function promoteNextKeyFile(paths: KeyFilePaths, now = new Date()): string {
  const replaced = `${paths.current}.replaced-${now.toISOString().replace(/[:.]/g, '-')}`;
  if (existsSync(paths.current)) renameSync(paths.current, replaced);
  renameSync(paths.next, paths.current);
  return replaced;
}
