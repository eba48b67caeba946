// Commands that act on this machine's configuration and database directly,
// not through the REST API: serve, db migrate, admin bootstrap.
import path from 'node:path';
import { Command } from 'commander';
import { loadConfig } from '../../server/config.js';
import type { Database } from '../../server/db/index.js';
import { CliError } from '../errors.js';
import { printJson } from '../output.js';

// The database modules load when a command needs them, not at every CLI start.
async function withDatabase<T>(run: (db: Database) => Promise<T>): Promise<T> {
  const { openDatabase } = await import('../../server/db/index.js');
  const database = await openDatabase(loadConfig());
  try {
    return await run(database);
  } finally {
    await database.close();
  }
}

export function localCommands(globals: () => Record<string, unknown>): Command[] {
  const serve = new Command('serve').description('start the meetplane service (configured by environment variables, see README)').action(async () => {
    const { main } = await import('../../server/main.js');
    await main();
  });

  const db = new Command('db').description('database maintenance');
  db.command('migrate')
    .description('apply pending migrations to the configured database')
    .action(async () => {
      await withDatabase(async (d) => {
        await d.migrate();
        process.stdout.write(`migrations applied (${d.kind})\n`);
      });
    });

  db.command('backup <file>')
    .description('write a backup of the embedded database (DATA_DIR) to <file>; the master key is not in it (see README: Backup and restore)')
    .action(async (file: string) => {
      const config = loadConfig();
      if (config.databaseUrl) throw new CliError('DATABASE_URL is set: back PostgreSQL up with pg_dump (see README: Backup and restore)', 2);
      const { backupEmbedded } = await import('../../server/db/backup.js');
      const s = await backupEmbedded(config.dataDir, path.resolve(file)).catch(backupError);
      process.stdout.write(`backup of ${config.dataDir} written to ${file} (${s.bytes} bytes, ${s.auditEntries} audit entries, ${s.migrations} migrations)\n`);
      process.stderr.write(KEY_REMINDER);
    });
  db.command('restore <file>')
    .description('restore a backup into a new, empty data directory (then start meetplane there with the same master key)')
    .requiredOption('--data-dir <dir>', 'the new data directory (must hold no database)')
    .action(async (file: string, o: { dataDir: string }) => {
      const { restoreEmbedded } = await import('../../server/db/backup.js');
      const dir = path.resolve(o.dataDir);
      const s = await restoreEmbedded(path.resolve(file), dir).catch(backupError);
      process.stdout.write(`restored ${file} into ${dir} (${s.auditEntries} audit entries, ${s.migrations} migrations)\n`);
      process.stderr.write(`Start it with DATA_DIR=${dir} and the master key the backup was made under: ${KEY_REMINDER}`);
    });

  const admin = new Command('admin').description('local administration');
  admin
    .command('bootstrap')
    .description('create the first platform admin and print its access token once')
    .requiredOption('--email <email>', 'e-mail address of the admin')
    .requiredOption('--name <name>', 'name of the admin')
    .action(async (opts: { email: string; name: string }) => {
      if (!/^[^@\s]+@[^@\s]+$/.test(opts.email)) throw new CliError('--email is not an e-mail address', 2);
      const print = (accountId: string, token: string) => {
        if (globals().json) printJson({ accountId, token });
        else {
          process.stdout.write(`platform admin ${accountId} created\n${token}\n`);
          process.stderr.write('This token is shown only once. Keep it safe (e.g. MEETPLANE_TOKEN).\n');
        }
      };
      try {
        await bootstrapHere(opts, print);
      } catch (e) {
        // A server holds the embedded database: ask it, through the setup link it left in DATA_DIR.
        if ((e as Error)?.name !== 'DataDirLockedError') throw e;
        await bootstrapThroughServer(loadConfig().dataDir, opts, print, (e as Error).message);
      }
    });
  return [serve, db, admin];
}

const KEY_REMINDER =
  'The backup does not hold the master key, and is useless without it: every secret in it is sealed under that key. Keep MASTER_KEY (or DATA_DIR/master.key) apart from the backups, and safe.\n';

/** A refusal of the backup code as one line (no such database, a non-empty target, not a backup). */
function backupError(e: unknown): never {
  if ((e as Error)?.name === 'BackupError') throw new CliError((e as Error).message);
  throw e;
}

async function bootstrapHere(opts: { email: string; name: string }, print: (accountId: string, token: string) => void): Promise<void> {
  await withDatabase(async (d) => {
    await d.migrate();
    try {
      const [{ bootstrapAdmin }, { LOCAL_OPERATOR }] = await Promise.all([import('../../server/accounts/service.js'), import('../../server/auth/principal.js')]);
      const { account, token } = await bootstrapAdmin(d.db, LOCAL_OPERATOR, { email: opts.email, name: opts.name });
      print(account.id, token);
    } catch (e) {
      const { ProblemError } = await import('../../server/http/problem.js');
      if (e instanceof ProblemError) throw new CliError(e.message);
      throw e;
    }
  });
}

/** POST /setup/bootstrap on the server that holds the data directory, with the one-time token it wrote to DATA_DIR/setup.json. */
async function bootstrapThroughServer(
  dataDir: string,
  opts: { email: string; name: string },
  print: (accountId: string, token: string) => void,
  lockedBy: string,
): Promise<void> {
  const { readSetupFile } = await import('../../server/setup/links.js');
  const setup = readSetupFile(dataDir);
  if (!setup)
    throw new CliError(`${lockedBy.replace(/; stop it first.*$/, '')}; it offers no setup link, so a platform admin exists already (ask them) or its link expired (restart it for a new one)`);
  let res: Response;
  try {
    res = await fetch(`${setup.url}/setup/bootstrap`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: setup.token, email: opts.email, name: opts.name }),
    });
  } catch (e) {
    throw new CliError(`the server holding ${dataDir} (pid ${setup.pid}) does not answer at ${setup.url}: ${(e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message}`);
  }
  const body = (await res.json().catch(() => ({}))) as { accountId?: string; token?: string; detail?: string; title?: string };
  if (res.status !== 201 || !body.accountId || !body.token) throw new CliError(`the running server refused: ${body.detail ?? body.title ?? `status ${res.status}`}`);
  process.stderr.write(`(created through the running server at ${setup.url}, pid ${setup.pid})\n`);
  print(body.accountId, body.token);
}
