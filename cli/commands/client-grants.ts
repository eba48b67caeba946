// meetplane clients grant|grants|revoke: the grants of a machine client, a thin
// client of /api/v1/grants (with `client` instead of `account`). The client is
// named by its id or its client_id (mpc_...), as `clients show` takes it.
import { Command, Option } from 'commander';
import { ApiClient } from '../client.js';
import { CliError } from '../errors.js';
import { printJson, printRecord, printTable } from '../output.js';
import { resolveConnection } from '../settings.js';
import { ROLES } from '../../policies/roles.js';
import { delegationBody, type DelegationOptions } from './grants.js';

type Globals = () => Record<string, unknown>;
type GrantJson = Record<string, unknown> & { scope: { type: string; id?: string }; clientId: string | null };

const enc = encodeURIComponent;
const scopeText = (s: { type: string; id?: string }) => (s.type === 'global' ? 'global' : `${s.type}:${s.id}`);
const row = (g: GrantJson) => ({ ...g, scope: scopeText(g.scope) });

/** Adds the grant commands to `meetplane clients`. */
export function addClientGrantCommands(clients: Command, globals: Globals): void {
  const api = () => new ApiClient(resolveConnection(globals() as { url?: string; token?: string }));
  const json = () => Boolean(globals().json);
  /** The client's id (a UUID), from its id or client_id; only machine clients hold grants. */
  const machineClient = async (ref: string): Promise<{ id: string; clientId: string }> => {
    const c = (await api().request<{ id: string; clientId: string; kind: string }>('GET', `/clients/${enc(ref)}`)).body;
    if (c.kind !== 'machine') throw new CliError(`client ${ref} is a ${c.kind} client; only machine clients hold grants`, 2);
    return c;
  };

  clients
    .command('grant <client>')
    .description('give a machine client a role, delegated from one of your grants (same or narrower role and scope, no later expiry)')
    .requiredOption('--from <grant>', 'your grant to delegate from (delegable and active)')
    .addOption(new Option('--role <role>', 'the role').choices(ROLES).makeOptionMandatory())
    .requiredOption('--scope <scope>', 'global, coop:<id|slug>, cluster:<id|slug> or tenancy:<id|slug>')
    .requiredOption('--expires <when>', 'ISO date-time, or a duration from now: 30d, 12h, 90m')
    .requiredOption('--reason <text>', 'why (kept with the grant)')
    .option('--delegable', 'the client may delegate further')
    .option('--transfer-approval', 'coop_admin only: the grant approves transfers (a machine client still cannot approve one)')
    .action(async (ref: string, opts: DelegationOptions) => {
      const body = delegationBody(opts, { client: (await machineClient(ref)).id });
      const g = (await api().request<GrantJson>('POST', '/grants', { body })).body;
      if (json()) printJson(g);
      else printRecord(row(g));
    });

  clients
    .command('grants <client>')
    .description('list the grants a machine client holds (those you may see)')
    .option('--active', 'only active grants')
    .action(async (ref: string, opts: { active?: boolean }) => {
      const { id } = await machineClient(ref);
      const items: GrantJson[] = [];
      let cursor: string | undefined;
      do {
        const res = await api().request<{ items: GrantJson[]; nextCursor: string | null }>('GET', '/grants', {
          query: { client: id, limit: '200', cursor, active: opts.active ? 'true' : undefined },
        });
        items.push(...res.body.items);
        cursor = res.body.nextCursor ?? undefined;
      } while (cursor);
      if (json()) printJson(items);
      else printTable(items.map(row), ['id', 'role', 'scope', 'status', 'delegable', 'expiresAt', 'grantedBy']);
    });

  clients
    .command('revoke <client> <grant>')
    .description('revoke one of a machine client\'s grants and, at once, everything delegated from it')
    .requiredOption('--reason <text>', 'why')
    .action(async (ref: string, grantId: string, opts: { reason: string }) => {
      const { id } = await machineClient(ref);
      const current = await api().request<GrantJson>('GET', `/grants/${enc(grantId)}`);
      if (current.body.clientId !== id) throw new CliError(`grant ${grantId} is not held by client ${ref}`, 2);
      const res = await api().request<GrantJson & { revoked: string[] }>('POST', `/grants/${enc(grantId)}/revoke`, { body: { reason: opts.reason }, ifMatch: current.etag });
      if (json()) printJson(res.body);
      else process.stdout.write(`revoked ${res.body.revoked.length} grant(s): ${res.body.revoked.join(', ')}\n`);
    });
}
