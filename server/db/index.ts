// The database factory: PGlite in DATA_DIR when no DATABASE_URL is given (the
// newcomer's default), PostgreSQL through postgres.js otherwise. Both are
// driven through the same drizzle schema and the same migrations.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import * as schema from './schema.js';
import { lockDataDir } from './lock.js';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handle has the same query API as the database. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type Executor = Db | Tx;

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  migrate(): Promise<void>;
  close(): Promise<void>;
}

/** migrations/ at the package root, from both server/db (tsx) and dist/server/db (built). */
export const MIGRATIONS_DIR = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'migrations');
    try {
      readFileSync(path.join(candidate, 'meta', '_journal.json'));
      return candidate;
    } catch {
      dir = path.dirname(dir);
    }
  }
  throw new Error('migrations folder not found');
})();

type CloseHook = (db: Db) => Promise<void>;
const closeHooks = new Set<CloseHook>();

/**
 * Work a module must finish on the database before a handle from openDatabase
 * closes (the audit sequencer numbers the entries this process left pending).
 * Registered by that module, so this one imports none of them.
 */
export function beforeClose(hook: CloseHook): void {
  closeHooks.add(hook);
}

function closingHooks(database: Database): Database {
  return {
    ...database,
    close: async () => {
      try {
        for (const hook of closeHooks) await hook(database.db);
      } finally {
        await database.close();
      }
    },
  };
}

export async function openDatabase(opts: { databaseUrl?: string | undefined; dataDir: string }): Promise<Database> {
  if (opts.databaseUrl) return closingHooks(await openPostgres(opts.databaseUrl));
  // One process at a time on the embedded database: refused here with a clear
  // line rather than an abort inside WebAssembly.
  const lock = lockDataDir(opts.dataDir);
  try {
    const database = closingHooks(await openPglite(path.join(opts.dataDir, 'pglite')));
    return {
      ...database,
      close: async () => {
        try {
          await database.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (e) {
    lock.release();
    throw e;
  }
}

export async function openPostgres(url: string, max = 10): Promise<Database> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const { migrate } = await import('drizzle-orm/postgres-js/migrator');
  const client = postgres(url, { max, onnotice: () => {}, connection: { application_name: 'meetplane' } });
  const db = drizzle(client, { schema });
  return {
    db: db as unknown as Db,
    kind: 'postgres',
    migrate: () => withMigrationLock(db as unknown as Db, () => migrate(db, { migrationsFolder: MIGRATIONS_DIR })),
    close: () => client.end({ timeout: 5 }),
  };
}

const PGLITE_SHARED_BUFFERS = '16MB';

/** dataDir undefined: in memory (tests). */
export async function openPglite(dataDir?: string, loadDataDir?: Blob): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  // PostgreSQL's default shared_buffers (128 MB) sits in PGlite's WebAssembly memory and is
  // touched as pages are read, so it ends up resident; a co-op's database is a few MB.
  const startParams = [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`];
  const client = await PGlite.create(dataDir, loadDataDir ? { loadDataDir, startParams } : { startParams });
  const db = drizzle(client, { schema });
  return {
    db: db as unknown as Db,
    kind: 'pglite',
    migrate: () => migrate(db, { migrationsFolder: MIGRATIONS_DIR }),
    close: () => client.close(),
  };
}

// Several processes starting together against one Postgres must not run the
// same migration twice: serialise them on an advisory lock.
async function withMigrationLock(db: Db, run: () => Promise<void>): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(7243501)`);
    await run();
  });
}

/** How many migrations the code ships; /readyz compares it with the database. */
export function expectedMigrationCount(): number {
  const journal = JSON.parse(readFileSync(path.join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as {
    entries: unknown[];
  };
  return journal.entries.length;
}

export async function appliedMigrationCount(db: Executor): Promise<number> {
  const [row] = rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`));
  return Number(row?.n ?? 0);
}

/** postgres.js answers `execute` with an array of rows, PGlite with `{ rows }`. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}
