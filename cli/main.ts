#!/usr/bin/env -S node --max-semi-space-size=8
// The meetplane command: a thin client of the REST API plus local admin commands.
import { Command, CommanderError } from 'commander';
import { CliError, describeError } from './errors.js';
import { checkRequiredAfterUnknown } from './options.js';
import { localCommands } from './commands/local.js';
import { RESOURCES, resourceCommand } from './commands/resources.js';
import { auditCommand } from './commands/audit.js';
import { transfersCommand } from './commands/transfers.js';
import { handoversCommand } from './commands/handovers.js';
import { grantCommands } from './commands/grants.js';
import { addInventoryCommands } from './commands/clusters-health.js';
import { addInvitationCommands } from './commands/member-invitations.js';
import { addMemberCommands } from './commands/tenancy-members.js';
import { ssoCommands } from './commands/sso.js';
import { addAccountLifecycleCommands } from './commands/accounts-lifecycle.js';
import { receiptsCommand } from './commands/receipts.js';
import { masterKeyCommand } from './commands/master-key.js';
import { federationCommands } from './commands/federation.js';
import { greenlightsCommand } from './commands/greenlights.js';
import { peerTransfersCommand } from './commands/peer-transfers.js';
import { ConfigError } from '../server/config.js';

export function buildProgram(): Command {
  const program = new Command('meetplane')
    .description('Federated control plane for BigBlueButton hosting co-operatives')
    .option('--url <url>', 'server URL (env MEETPLANE_URL, or the config file)')
    .option('--token <token>', 'access token (env MEETPLANE_TOKEN, or the config file)')
    .option('--json', 'print JSON instead of tables')
    .exitOverride();
  const globals = () => program.opts();
  for (const c of localCommands(globals)) program.addCommand(c);
  for (const spec of RESOURCES) program.addCommand(resourceCommand(spec, globals));
  addInventoryCommands(program, globals);
  addInvitationCommands(program, globals);
  addMemberCommands(program, globals);
  program.addCommand(auditCommand(globals));
  program.addCommand(transfersCommand(globals));
  program.addCommand(handoversCommand(globals));
  program.addCommand(receiptsCommand(globals));
  for (const c of grantCommands(globals)) program.addCommand(c);
  for (const c of ssoCommands(globals)) program.addCommand(c);
  addAccountLifecycleCommands(program, globals);
  for (const c of federationCommands(globals)) program.addCommand(c);
  program.addCommand(greenlightsCommand(globals));
  program.addCommand(peerTransfersCommand(globals));
  program.addCommand(masterKeyCommand(globals));
  // exitOverride and output settings apply to every subcommand.
  const configure = (cmd: Command) => {
    cmd.exitOverride().showSuggestionAfterError().configureOutput({ outputError: (text, write) => write(oneLine(cmd, text)) });
    checkRequiredAfterUnknown(cmd);
    cmd.commands.forEach(configure);
  };
  configure(program);
  return program;
}

/**
 * Commander's usage errors as one line, with the suggestion it makes for a
 * misspelt option or command and where to find the full usage.
 */
function oneLine(cmd: Command, text: string): string {
  const message = text
    .trim()
    .replace(/^error: /, '')
    .replace(/\s*\n\s*\(Did you mean (.*)\)$/, ' (did you mean $1)');
  let path = cmd.name();
  for (let p = cmd.parent; p; p = p.parent) path = `${p.name()} ${path}`;
  return `meetplane: ${message.replace(/\s*\n\s*/g, ' ')}; see \`${path} --help\`\n`;
}

export async function run(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof ConfigError) {
      process.stderr.write(`meetplane: ${e.message}\n`);
      return 2;
    }
    const { message, exitCode } = e instanceof CliError ? e : describeError(e);
    process.stderr.write(`meetplane: ${message}\n`);
    return exitCode;
  }
}

const code = await run(process.argv.slice(2));
// `serve` keeps running; everything else exits with its code.
if (code !== 0 || !process.argv.slice(2).includes('serve')) process.exitCode = code;
