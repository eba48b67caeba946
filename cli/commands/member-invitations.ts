// meetplane tenancies invite|invitations|revoke-invitation: member invitations,
// attached to the generated `tenancies` command. The invited person answers on
// their own page (/me); the answer here is the same whether or not the address
// belongs to an account.
import { Command, Option } from 'commander';
import { ApiClient } from '../client.js';
import { CliError } from '../errors.js';
import { printJson, printRecord, printTable } from '../output.js';
import { resolveConnection } from '../settings.js';

type Opts = Record<string, string | boolean | undefined>;
type Page = { items: Array<Record<string, unknown>>; nextCursor: string | null };

const ROLES = ['owner', 'admin', 'member'] as const;
const STATES = ['pending', 'accepted', 'declined', 'revoked', 'expired'] as const;
const enc = encodeURIComponent;

export function addInvitationCommands(program: Command, globals: () => Opts): void {
  const client = () => new ApiClient(resolveConnection(globals() as { url?: string; token?: string }));
  const json = () => Boolean(globals().json);
  const tenancies = program.commands.find((c) => c.name() === 'tenancies')!;

  tenancies
    .command('invite <tenancy>')
    .description('invite someone by e-mail address; they become a member when they accept on their page (/me)')
    .requiredOption('--email <address>', 'their e-mail address')
    .addOption(new Option('--role <role>', 'the role they are invited to').choices(ROLES).makeOptionMandatory())
    .option('--expires-in-days <n>', 'how long the invitation stays open (default 14)')
    .action(async (tenancy: string, opts: { email: string; role: string; expiresInDays?: string }) => {
      const body: Record<string, unknown> = { email: opts.email, role: opts.role };
      if (opts.expiresInDays !== undefined) {
        const n = Number(opts.expiresInDays);
        if (!Number.isInteger(n)) throw new CliError('--expires-in-days must be a whole number', 2);
        body.expiresInDays = n;
      }
      const res = await client().request<Record<string, unknown>>('POST', `/tenancies/${enc(tenancy)}/member-invitations`, { body });
      if (json()) return printJson(res.body);
      printRecord(res.body);
      process.stderr.write(`\nIf ${opts.email} has an account here, they are told by mail and answer on their page.\n`);
    });

  tenancies
    .command('invitations <tenancy>')
    .description("the tenancy's member invitations, newest first")
    .addOption(new Option('--state <state>', 'only invitations in this state').choices(STATES))
    .action(async (tenancy: string, opts: { state?: string }) => {
      const items: Array<Record<string, unknown>> = [];
      let cursor: string | undefined;
      do {
        const res = await client().request<Page>('GET', `/tenancies/${enc(tenancy)}/member-invitations`, { query: { limit: '200', cursor, state: opts.state } });
        items.push(...res.body.items);
        cursor = res.body.nextCursor ?? undefined;
      } while (cursor);
      if (json()) printJson(items);
      else printTable(items, ['id', 'email', 'role', 'state', 'createdAt', 'expiresAt', 'answeredAt']);
    });

  tenancies
    .command('revoke-invitation <tenancy> <invitation>')
    .description('withdraw a pending invitation')
    .action(async (tenancy: string, invitation: string) => {
      await client().request('DELETE', `/tenancies/${enc(tenancy)}/member-invitations/${enc(invitation)}`);
      if (json()) printJson({ revoked: invitation });
      else process.stdout.write(`revoked invitation ${invitation}\n`);
    });
}
