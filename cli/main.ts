#!/usr/bin/env node
// The meetplane command: a thin client of the REST API plus local admin commands.
import { Command, CommanderError } from 'commander';
import { CliError } from './errors.js';
import { localCommands } from './commands/local.js';
import { RESOURCES, resourceCommand } from './commands/resources.js';
import { auditCommand } from './commands/audit.js';
import { transfersCommand } from './commands/transfers.js';
import { grantCommands } from './commands/grants.js';
import { addInventoryCommands } from './commands/clusters-health.js';
import { addInvitationCommands } from './commands/member-invitations.js';
import { ssoCommands } from './commands/sso.js';
import { addAccountLifecycleCommands } from './commands/accounts-lifecycle.js';
import { receiptsCommand } from './commands/receipts.js';
import { ConfigError } from '../server/config.js';

export function buildProgram(): Command {
  const program = new Command('meetplane')
    .description('Federated control plane for BigBlueButton hosting co-operatives')
    .option('--url <url>', 'server URL (env MEETPLANE_URL, or the config file)')
    .option('--token <token>', 'access token (env MEETPLANE_TOKEN, or the config file)')
    .option('--json', 'print JSON instead of tables')
    .showHelpAfterError()
    .exitOverride();
  const globals = () => program.opts();
  for (const c of localCommands(globals)) program.addCommand(c);
  for (const spec of RESOURCES) program.addCommand(resourceCommand(spec, globals));
  addInventoryCommands(program, globals);
  addInvitationCommands(program, globals);
  program.addCommand(auditCommand(globals));
  program.addCommand(transfersCommand(globals));
  program.addCommand(receiptsCommand(globals));
  for (const c of grantCommands(globals)) program.addCommand(c);
  for (const c of ssoCommands(globals)) program.addCommand(c);
  addAccountLifecycleCommands(program, globals);
  // exitOverride and output settings apply to every subcommand.
  const configure = (cmd: Command) => {
    cmd.exitOverride().showHelpAfterError();
    cmd.commands.forEach(configure);
  };
  configure(program);
  return program;
}

export async function run(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof CliError) {
      process.stderr.write(`meetplane: ${e.message}\n`);
      return e.exitCode;
    }
    if (e instanceof ConfigError) {
      process.stderr.write(`meetplane: ${e.message}\n`);
      return 2;
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES') {
      process.stderr.write(`meetplane: ${(e as Error).message}\n`);
      return 1;
    }
    process.stderr.write(`meetplane: unexpected error: ${(e as Error).message}\n`);
    return 1;
  }
}

const code = await run(process.argv.slice(2));
// `serve` keeps running; everything else exits with its code.
if (code !== 0 || !process.argv.slice(2).includes('serve')) process.exitCode = code;
