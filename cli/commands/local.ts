// Commands that act on this machine's configuration and database directly,
// not through the REST API: serve, db migrate, admin bootstrap.
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

  const admin = new Command('admin').description('local administration');
  admin
    .command('bootstrap')
    .description('create the first platform admin and print its access token once')
    .requiredOption('--email <email>', 'e-mail address of the admin')
    .requiredOption('--name <name>', 'name of the admin')
    .action(async (opts: { email: string; name: string }) => {
      if (!/^[^@\s]+@[^@\s]+$/.test(opts.email)) throw new CliError('--email is not an e-mail address', 2);
      await withDatabase(async (d) => {
        await d.migrate();
        try {
          const [{ bootstrapAdmin }, { LOCAL_OPERATOR }] = await Promise.all([import('../../server/accounts/service.js'), import('../../server/auth/principal.js')]);
          const { account, token } = await bootstrapAdmin(d.db, LOCAL_OPERATOR, { email: opts.email, name: opts.name });
          if (globals().json) printJson({ accountId: account.id, token });
          else {
            process.stdout.write(`platform admin ${account.id} created\n${token}\n`);
            process.stderr.write('This token is shown only once. Keep it safe (e.g. MEETPLANE_TOKEN).\n');
          }
        } catch (e) {
          const { ProblemError } = await import('../../server/http/problem.js');
          if (e instanceof ProblemError) throw new CliError(e.message);
          throw e;
        }
      });
    });
  return [serve, db, admin];
}
