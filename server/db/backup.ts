// Backup and restore of the embedded database (PGlite): a backup is PGlite's
// own dump of its data directory (a gzipped tar, `dumpDataDir`), taken under
// the data-directory lock so nothing writes meanwhile; a restore loads it into
// a new, empty data directory. The master key is NOT in the backup: every
// secret in it (cluster and tenancy BBB secrets, sign-on and audit signing
// keys, upstream client secrets) is sealed under that key, so a backup without
// its key restores a database whose secrets nobody can open. Keep the key
// (MASTER_KEY, or DATA_DIR/master.key) apart from the backups, and safe.
// PostgreSQL is backed up with its own tools (pg_dump; see README).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { lockDataDir } from './lock.js';
import { appliedMigrationCount, openDatabase, openPglite, rowsOf } from './index.js';

export const PGLITE_DIR = 'pglite';

export interface BackupSummary {
  bytes: number;
  auditEntries: number;
  migrations: number;
}

async function summary(db: Parameters<typeof appliedMigrationCount>[0], bytes: number): Promise<BackupSummary> {
  const [row] = rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from audit_entries`));
  return { bytes, auditEntries: Number(row?.n ?? 0), migrations: await appliedMigrationCount(db) };
}

/** Writes a backup of the embedded database in `dataDir` to `file` (owner-only), under the data-directory lock. */
export async function backupEmbedded(dataDir: string, file: string): Promise<BackupSummary> {
  if (!existsSync(path.join(dataDir, PGLITE_DIR))) throw new BackupError(`no embedded database in ${dataDir} (nothing at ${path.join(dataDir, PGLITE_DIR)})`);
  const database = await openDatabase({ dataDir });
  try {
    const client = (database.db as unknown as { $client: { dumpDataDir(c: 'gzip'): Promise<Blob> } }).$client;
    const dump = Buffer.from(await (await client.dumpDataDir('gzip')).arrayBuffer());
    // Whole or not at all: a half-written backup never carries the final name.
    const partial = `${file}.partial`;
    writeFileSync(partial, dump, { mode: 0o600 });
    renameSync(partial, file);
    return await summary(database.db, dump.length);
  } finally {
    await database.close();
  }
}

/** Loads a backup into `dataDir`, which must hold no database yet; the restored database is opened once to check it. */
export async function restoreEmbedded(file: string, dataDir: string): Promise<BackupSummary> {
  const target = path.join(dataDir, PGLITE_DIR);
  if (existsSync(target) && readdirSync(target).length > 0)
    throw new BackupError(`${dataDir} holds a database already; restore into a new, empty data directory (nothing is overwritten)`);
  const dump = readFileSync(file);
  if (dump.length < 2 || dump[0] !== 0x1f || dump[1] !== 0x8b) throw new BackupError(`${file} is not a meetplane backup (a gzipped PGlite dump)`);
  mkdirSync(dataDir, { recursive: true });
  const lock = lockDataDir(dataDir);
  try {
    const database = await openPglite(target, new Blob([dump]));
    try {
      return await summary(database.db, dump.length);
    } finally {
      await database.close();
    }
  } finally {
    lock.release();
  }
}

export class BackupError extends Error {
  override name = 'BackupError';
}
