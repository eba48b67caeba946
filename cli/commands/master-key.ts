// meetplane master-key rotate — the operator's, on the configured database with
// every other meetplane process stopped: re-seal every secret at rest under a
// new master key (server/master-key/).
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import { CliError } from '../errors.js';
import { printJson } from '../output.js';

type Globals = () => Record<string, unknown>;

export function masterKeyCommand(globals: Globals): Command {
  const cmd = new Command('master-key').description('the key that encrypts every secret at rest (local: acts on the configured database)');
  cmd
    .command('rotate')
    .description(
      're-seal every stored secret under a new master key in one transaction; stop every other meetplane process first. ' +
        'With MASTER_KEY set, give the new key with --new-key-file and set MASTER_KEY to it afterwards; ' +
        'without, DATA_DIR/master.key is replaced by a generated key (or --new-key-file) and the old one kept beside it',
    )
    .option('--new-key-file <file>', 'the new key: 32 bytes, base64 or hex (default with DATA_DIR/master.key: generated)')
    .action(async (opts: { newKeyFile?: string }) => {
      const [{ loadConfig }, { openDatabase, openPostgres, appliedMigrationCount, expectedMigrationCount }, { SecretBox }, { decodeMasterKey }, keyFile, rotation, { LOCAL_OPERATOR }] = await Promise.all([
        import('../../server/config.js'),
        import('../../server/db/index.js'),
        import('../../server/crypto/secretbox.js'),
        import('../../server/crypto/master-key.js'),
        import('../../server/master-key/key-file.js'),
        import('../../server/master-key/rotate.js'),
        import('../../server/auth/principal.js'),
      ]);
      const config = loadConfig();
      const fromEnv = config.masterKey !== undefined;
      const paths = keyFile.keyFilePaths(config.dataDir);
      if (!fromEnv && !existsSync(paths.current) && !existsSync(paths.next))
        throw new CliError(`no master key yet (MASTER_KEY is unset and ${paths.current} does not exist): nothing to rotate`, 2);
      if (fromEnv && !opts.newKeyFile)
        throw new CliError('MASTER_KEY is set: give the new key with --new-key-file <file> (32 bytes, base64 or hex), then set MASTER_KEY to it', 2);
      const readNew = () => {
        try {
          return decodeMasterKey(readFileSync(opts.newKeyFile!, 'utf8'));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(`no such file: ${opts.newKeyFile}`, 2);
          throw new CliError(`--new-key-file: ${(e as Error).message}`, 2);
        }
      };
      const current = fromEnv ? decodeMasterKey(config.masterKey!) : existsSync(paths.current) ? keyFile.readKeyFile(paths.current) : undefined;
      let next = opts.newKeyFile ? readNew() : undefined;

      // One connection on PostgreSQL, so every other 'meetplane' connection is another process's.
      const database = config.databaseUrl ? await openPostgres(config.databaseUrl, 1) : await openDatabase(config);
      try {
        // Not migrated here (one connection cannot hold the migration lock and migrate): the registry of
        // sealed columns is this code's, so the schema must be this code's too.
        if ((await appliedMigrationCount(database.db)) !== expectedMigrationCount())
          throw new CliError('the database schema is not this version\'s: run `meetplane db migrate` first', 2);
        if (database.kind === 'postgres') {
          const others = await rotation.otherMeetplaneConnections(database.db);
          if (others > 0)
            throw new CliError(
              `${others} other meetplane connection(s) are open on this database: stop every meetplane process (serve, transfers run) first; they hold the old key`,
              1,
            );
        }
        // A rotation interrupted after its transaction: finish the file swap.
        if (!fromEnv && existsSync(paths.next)) {
          const pending = keyFile.readKeyFile(paths.next);
          const opensWith = async (key: Buffer | undefined) => key !== undefined && (await rotation.firstUnopenable(database.db, new SecretBox(key))) === undefined;
          const underCurrent = await opensWith(current);
          if (!underCurrent && (await opensWith(pending))) {
            const replaced = keyFile.promoteNextKeyFile(paths);
            return report(globals, { finished: true, replaced, resealed: {}, total: 0 });
          }
          if (!underCurrent) throw new CliError(`neither ${paths.current} nor ${paths.next} opens every stored secret; restore the key this data was sealed with`, 2);
          keyFile.discardNextKeyFile(paths); // the data is still under the current key: start again
        }
        if (!current) throw new CliError(`${paths.current} is missing; restore it (or set MASTER_KEY) before rotating`, 2);
        next ??= randomBytes(32);
        if (next.equals(current)) throw new CliError('the new key is the current key', 2);
        if (!fromEnv) keyFile.writeNextKeyFile(paths, next);
        let result;
        try {
          result = await rotation.rotateMasterKey(database.db, new SecretBox(current), new SecretBox(next), LOCAL_OPERATOR);
        } catch (e) {
          if (!fromEnv) keyFile.discardNextKeyFile(paths);
          if (e instanceof rotation.MasterKeyRotationError) throw new CliError(e.message, 1);
          throw e;
        }
        const replaced = fromEnv ? undefined : keyFile.promoteNextKeyFile(paths);
        return report(globals, { finished: false, replaced, ...result });
      } finally {
        await database.close();
      }
    });
  return cmd;
}

function report(
  globals: Globals,
  r: { finished: boolean; replaced: string | undefined; resealed: Record<string, number>; total: number; index?: number },
): void {
  if (globals().json) return printJson(r);
  const lines = r.finished
    ? ['finished an interrupted rotation: the data was already sealed under the new key, which is now in place']
    : [`re-sealed ${r.total} secret(s) under the new master key (audit entry ${r.index})`, ...Object.entries(r.resealed).map(([k, n]) => `  ${k}: ${n}`)];
  if (r.replaced) lines.push(`the replaced key is kept in ${r.replaced}: backups taken before now open only with it; store it with them, then delete it here`);
  else lines.push('set MASTER_KEY to the new key before starting any meetplane process; backups taken before now open only with the old key');
  process.stdout.write(lines.join('\n') + '\n');
}
