import path from 'node:path';

/** An error the CLI prints as one line, exiting with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    /** the HTTP status of the server's refusal, when it was one */
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * The errors a newcomer meets, as one line saying what to do (exit 2: fix the
 * configuration; 1: anything else). No stack trace reaches the terminal.
 */
export function describeError(e: unknown, env = process.env): { message: string; exitCode: number } {
  // Told apart by name: importing server/db/lock.ts here would pull database code into the offline
  // verifiers (receipts, audit), which must reach none.
  if ((e as Error)?.name === 'DataDirLockedError') return { message: (e as Error).message, exitCode: 1 };
  const err = e as NodeJS.ErrnoException & { port?: number };
  // AES-GCM refuses to open a value sealed under another key.
  if (err?.message === 'Unsupported state or unable to authenticate data') {
    const dataDir = path.resolve(env.DATA_DIR || './data');
    const where = env.DATABASE_URL ? 'the database at DATABASE_URL' : `the data directory ${dataDir}`;
    const from = env.MASTER_KEY ? 'MASTER_KEY' : `${path.join(dataDir, 'master.key')} (MASTER_KEY is unset)`;
    return {
      message: `the master key does not match the secrets in ${where}: it was taken from ${from}; use the key this data was created with`,
      exitCode: 2,
    };
  }
  if (err?.code === 'EADDRINUSE') return { message: `port ${err.port ?? env.PORT ?? 8080} is in use; set PORT`, exitCode: 2 };
  if (err?.code === 'ENOENT' && err.path) return { message: `no such file: ${err.path}`, exitCode: 1 };
  if (err?.code === 'EACCES' && err.path) return { message: `permission denied: ${err.path}`, exitCode: 1 };
  return { message: `unexpected error: ${err?.message ?? String(e)}`, exitCode: 1 };
}
