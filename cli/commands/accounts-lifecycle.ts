// meetplane accounts suspend|reinstate|offboard|erase: an account's lifecycle,
// attached to the `accounts` command. Each reads the account first and sends
// its ETag, so a change made meanwhile is refused (412) instead of overwritten.
import type { Command } from 'commander';
import { ApiClient } from '../client.js';
import { printJson, printRecord } from '../output.js';
import { resolveConnection } from '../settings.js';

type Opts = Record<string, string | boolean | undefined>;
const enc = encodeURIComponent;

export function addAccountLifecycleCommands(program: Command, globals: () => Opts): void {
  const client = () => new ApiClient(resolveConnection(globals() as { url?: string; token?: string }));
  const json = () => Boolean(globals().json);
  const accounts = program.commands.find((c) => c.name() === 'accounts')!;
  const show = (body: Record<string, unknown>) => (json() ? printJson(body) : printRecord(body));

  for (const [verb, text] of [
    ['suspend', 'suspend an account: it cannot sign in and every token and session of it is refused at once; its roles are kept'],
    ['reinstate', 'reinstate a suspended account: its roles count again (it signs in again; old tokens stay revoked)'],
  ] as const)
    accounts
      .command(`${verb} <id>`)
      .description(text)
      .requiredOption('--reason <text>', 'why (kept in the audit log for good: name no one)')
      .action(async (id: string, opts: { reason: string }) => {
        const api = client();
        const current = await api.request('GET', `/accounts/${enc(id)}`);
        const res = await api.request<Record<string, unknown>>('POST', `/accounts/${enc(id)}/${verb}`, { body: { reason: opts.reason }, ifMatch: current.etag });
        show(res.body);
      });

  accounts
    .command('offboard <id>')
    .description("end the account's roles in one co-op (grants there revoked with their delegations, memberships of its tenancies ended); its roles elsewhere stay")
    .requiredOption('--coop <coop>', 'the co-op it leaves (id or slug)')
    .requiredOption('--reason <text>', 'why (kept in the audit log for good: name no one)')
    .option('--dry-run', 'show what would be done and change nothing')
    .action(async (id: string, opts: { coop: string; reason: string; dryRun?: boolean }) => {
      const api = client();
      const current = await api.request('GET', `/accounts/${enc(id)}`);
      const res = await api.request<Record<string, unknown>>('POST', `/accounts/${enc(id)}/offboard`, {
        body: { coop: opts.coop, reason: opts.reason, dryRun: Boolean(opts.dryRun) },
        ifMatch: current.etag,
      });
      if (json()) return printJson(res.body);
      printRecord(res.body);
      if (opts.dryRun) process.stderr.write('\nDry run: nothing was changed.\n');
    });

  accounts
    .command('erase <id>')
    .description("erase the person's personal data for good (the right to erasure); prints the receipt")
    .requiredOption('--reason <text>', 'why (kept in the audit log for good: name no one)')
    .action(async (id: string, opts: { reason: string }) => {
      const api = client();
      const current = await api.request('GET', `/accounts/${enc(id)}`);
      const res = await api.request<Record<string, unknown>>('POST', `/accounts/${enc(id)}/erase`, { body: { reason: opts.reason }, ifMatch: current.etag });
      show(res.body);
    });
}
