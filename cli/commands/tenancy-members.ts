// meetplane tenancies members list|set|remove: the members of a tenancy and
// their roles (REST /tenancies/{id}/members), attached to the generated
// `tenancies` command. Inviting someone of another co-op is `tenancies invite`.
import { Command, Option } from 'commander';
import { ApiClient } from '../client.js';
import { printJson, printTable } from '../output.js';
import { resolveConnection } from '../settings.js';

type Opts = Record<string, string | boolean | undefined>;
const ROLES = ['owner', 'admin', 'member'] as const;

export function addMemberCommands(program: Command, globals: () => Opts): void {
  const client = () => new ApiClient(resolveConnection(globals() as { url?: string; token?: string }));
  const enc = encodeURIComponent;
  const members = program.commands.find((c) => c.name() === 'tenancies')!.command('members').description("a tenancy's members and their roles");

  members
    .command('list <tenancy>')
    .description('list the members of a tenancy (id or slug) with their roles')
    .action(async (tenancy: string) => {
      const res = await client().request<{ items: Array<Record<string, unknown>> }>('GET', `/tenancies/${enc(tenancy)}/members`);
      if (globals().json) printJson(res.body.items);
      else printTable(res.body.items, ['accountId', 'email', 'name', 'role', 'since']);
    });

  members
    .command('set <tenancy> <account>')
    .description("add an account of the tenancy's co-op as a member, or change a member's role (others are invited: `tenancies invite`)")
    .addOption(new Option('--role <role>', 'the role').choices(ROLES).makeOptionMandatory())
    .action(async (tenancy: string, account: string, o: { role: string }) => {
      await client().request('PUT', `/tenancies/${enc(tenancy)}/members/${enc(account)}`, { body: { role: o.role } });
      process.stdout.write(`${account} is ${o.role === 'admin' ? 'an' : 'a'} ${o.role} of ${tenancy}\n`);
    });

  members
    .command('remove <tenancy> <account>')
    .description('remove a member from a tenancy (anyone may leave; removing someone needs at least their role)')
    .action(async (tenancy: string, account: string) => {
      await client().request('DELETE', `/tenancies/${enc(tenancy)}/members/${enc(account)}`);
      process.stdout.write(`${account} is no longer a member of ${tenancy}\n`);
    });
}
