// meetplane grants list|show|delegate|revoke, and meetplane policies show|check:
// thin clients of /api/v1/grants and /api/v1/policies.
import { Command, Option } from 'commander';
import { ApiClient } from '../client.js';
import { CliError } from '../errors.js';
import { printJson, printRecord, printTable } from '../output.js';
import { resolveConnection } from '../settings.js';
import { ROLES } from '../../policies/roles.js';

type Globals = () => Record<string, unknown>;
type GrantJson = Record<string, unknown> & { scope: { type: string; id?: string } };

const enc = encodeURIComponent;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** global | coop:<id|slug> | cluster:<id|slug> | tenancy:<id|slug> (the server resolves a slug to its id) */
export function parseScope(v: string): { type: 'global' } | { type: string; id: string } {
  if (v === 'global') return { type: 'global' };
  const m = v.match(/^(coop|cluster|tenancy):(.+)$/);
  if (!m || !(UUID.test(m[2]!) || SLUG.test(m[2]!)))
    throw new CliError(`--scope must be global, coop:<id|slug>, cluster:<id|slug> or tenancy:<id|slug> (e.g. coop:north), not "${v}"`, 2);
  return { type: m[1]!, id: m[2]! };
}

/** An ISO date-time, or a duration from now: 30d, 12h, 90m. */
export function parseExpiry(v: string, now = Date.now()): string {
  const m = v.match(/^(\d{1,5})([dhm])$/);
  if (m) return new Date(now + Number(m[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[m[2] as 'd' | 'h' | 'm']).toISOString();
  const d = new Date(v);
  if (!/^\d{4}-\d\d-\d\d/.test(v) || Number.isNaN(d.getTime())) throw new CliError(`--expires must be an ISO date-time or a duration like 30d, 12h, 90m; not "${v}"`, 2);
  return d.toISOString();
}

const scopeText = (s: { type: string; id?: string }) => (s.type === 'global' ? 'global' : `${s.type}:${s.id}`);
const row = (g: GrantJson) => ({ ...g, scope: scopeText(g.scope) });

/** What `grants delegate` and `clients grant` ask for, as the POST /grants body, for an account's or a client's grant. */
export interface DelegationOptions {
  from: string;
  role: string;
  scope: string;
  expires: string;
  reason: string;
  delegable?: boolean;
  transferApproval?: boolean;
}
export function delegationBody(opts: DelegationOptions, holder: { account: string } | { client: string }) {
  return {
    from: opts.from,
    ...holder,
    role: opts.role,
    scope: parseScope(opts.scope),
    expiresAt: parseExpiry(opts.expires),
    reason: opts.reason,
    delegable: Boolean(opts.delegable),
    transferApproval: Boolean(opts.transferApproval),
  };
}

export function grantCommands(globals: Globals): Command[] {
  const client = () => new ApiClient(resolveConnection(globals() as { url?: string; token?: string }));
  const json = () => Boolean(globals().json);
  const show = (g: GrantJson) => (json() ? printJson(g) : printRecord(row(g)));

  const grants = new Command('grants').description('roles held on scopes, and their delegation');
  grants
    .command('list')
    .description('list the grants you may see (yours, those delegated from them, those inside co-ops you run)')
    .option('--account <id>', 'only this account\'s grants')
    .option('--active', 'only active grants')
    .option('--limit <n>', 'page size', '50')
    .option('--all', 'follow every page')
    .action(async (opts: { account?: string; active?: boolean; limit: string; all?: boolean }) => {
      const items: GrantJson[] = [];
      let cursor: string | undefined;
      do {
        const res = await client().request<{ items: GrantJson[]; nextCursor: string | null }>('GET', '/grants', {
          query: { limit: opts.limit, cursor, account: opts.account, active: opts.active ? 'true' : undefined },
        });
        items.push(...res.body.items);
        cursor = opts.all ? (res.body.nextCursor ?? undefined) : undefined;
      } while (cursor);
      if (json()) printJson(items);
      else printTable(items.map(row), ['id', 'accountId', 'role', 'scope', 'status', 'delegable', 'expiresAt', 'grantedBy']);
    });

  grants
    .command('show <id>')
    .description('show one grant with its delegation chain')
    .action(async (id: string) => show((await client().request<GrantJson>('GET', `/grants/${enc(id)}`)).body));

  grants
    .command('delegate')
    .description('delegate a role from one of your grants: same or narrower role, same or inner scope, no later expiry')
    .requiredOption('--from <grant>', 'your grant to delegate from (delegable and active)')
    .requiredOption('--to <account>', 'the account receiving the grant')
    .addOption(new Option('--role <role>', 'the role').choices(ROLES).makeOptionMandatory())
    .requiredOption('--scope <scope>', 'global, coop:<id|slug>, cluster:<id|slug> or tenancy:<id|slug>')
    .requiredOption('--expires <when>', 'ISO date-time, or a duration from now: 30d, 12h, 90m')
    .requiredOption('--reason <text>', 'why (kept with the grant)')
    .option('--delegable', 'the receiver may delegate further')
    .option('--transfer-approval', 'coop_admin only: the grant approves transfers (needs a grant of yours that does)')
    .action(async (opts: DelegationOptions & { to: string }) => {
      const body = delegationBody(opts, { account: opts.to });
      show((await client().request<GrantJson>('POST', '/grants', { body })).body);
    });

  grants
    .command('revoke <id>')
    .description('revoke a grant and, at once, everything delegated from it')
    .requiredOption('--reason <text>', 'why')
    .action(async (id: string, opts: { reason: string }) => {
      const current = await client().request('GET', `/grants/${enc(id)}`);
      const res = await client().request<GrantJson & { revoked: string[] }>('POST', `/grants/${enc(id)}/revoke`, { body: { reason: opts.reason }, ifMatch: current.etag });
      if (json()) printJson(res.body);
      else process.stdout.write(`revoked ${res.body.revoked.length} grant(s): ${res.body.revoked.join(', ')}\n`);
    });

  const policies = new Command('policies').description('the Cedar policies every permission is decided by');
  policies
    .command('show')
    .description('the active policy set: its hash and every policy (--text: with their text)')
    .option('--text', 'print each policy\'s text')
    .option('--schema', 'print the Cedar schema')
    .action(async (opts: { text?: boolean; schema?: boolean }) => {
      const res = await client().request<{ hash: string; schema: string; policies: Array<{ id: string; effect: string; file: string; text: string }> }>('GET', '/policies');
      if (json()) return printJson(res.body);
      process.stdout.write(`policy set ${res.body.hash}\n\n`);
      if (opts.schema) process.stdout.write(res.body.schema + '\n');
      else if (opts.text) for (const p of res.body.policies) process.stdout.write(`// ${p.file}\n${p.text}\n\n`);
      else printTable(res.body.policies, ['id', 'effect', 'file']);
    });

  policies
    .command('check')
    .description('explain a decision: which policies name the action, which matched, and why it was allowed or denied')
    .option('--principal <account>', 'the account to decide for (default: you)')
    .requiredOption('--action <action>', 'e.g. cluster.drain (see `policies show --schema`)')
    .requiredOption('--resource <resource>', 'platform, or coop:<id|slug>, cluster:<id|slug>, tenancy:<id|slug>, account:<id>, grant:<id>')
    .action(async (opts: { principal?: string; action: string; resource: string }) => {
      const m = opts.resource.match(/^(platform)$|^(coop|cluster|tenancy|account|grant):(.+)$/);
      if (!m) throw new CliError('--resource must be platform or <type>:<id>, type one of coop, cluster, tenancy, account, grant', 2);
      const resource = m[1] ? { type: 'platform' } : { type: m[2]!, id: m[3]! };
      const principal = opts.principal && opts.principal !== 'me' ? opts.principal : undefined;
      type Explained = {
        decision: string;
        reasons: string[];
        policyIds: string[];
        policySetHash: string;
        principal: { uid: string; grants: Array<{ role: string; scope: string; delegable: boolean }>; memberOf: string[] };
        policies: Array<{ id: string; effect: string; file: string; matches: boolean; errored: boolean }>;
      };
      const res = await client().request<Explained>('POST', '/policies/check', { body: { principal, action: opts.action, resource } });
      const x = res.body;
      if (json()) return printJson(x);
      const out: string[] = [
        `${x.decision.toUpperCase()}  ${opts.action} on ${opts.resource}`,
        ...x.reasons.map((r) => `  because ${r}`),
        `principal ${x.principal.uid}: ${x.principal.grants.map((g) => `${g.role}@${g.scope}${g.delegable ? ' (delegable)' : ''}`).join(', ') || 'no active grants'}` +
          (x.principal.memberOf.length ? `; member of ${x.principal.memberOf.join(', ')}` : ''),
        `policies naming ${opts.action}:`,
        ...x.policies.map((p) => `  ${p.effect.padEnd(6)}  ${p.id.padEnd(34)}  ${(p.errored ? 'ERROR' : p.matches ? 'matches' : 'does not match').padEnd(14)}  ${p.file}`),
        `policy set ${x.policySetHash}`,
      ];
      process.stdout.write(out.join('\n') + '\n');
    });

  return [grants, policies];
}
